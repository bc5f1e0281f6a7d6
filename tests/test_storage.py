"""Evidence stores receiving bodies: every byte delivered is kept, hashed in order, and
a body cut off midway leaves exactly what arrived (server/storage.py, and
server/storage_s3.py against a real SeaweedFS: each test runs on a folder and on a
bucket)."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from server.storage import (
    BUFFER,
    IncompleteBody,
    MediaStore,
    StorageFull,
    StreamBody,
    TooLarge,
)
from server.storage_backends import open_store

MIB = 1024 * 1024


@pytest.fixture(params=["file", "s3"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """A factory of an empty store of each kind: ``make_store(quota_bytes=0)``."""

    def make(quota_bytes: int = 0) -> Any:
        settings: dict[str, Any] = {"media_root": str(tmp_path), "media_quota_bytes": quota_bytes}
        if request.param == "s3":
            s3 = request.getfixturevalue("s3_server")
            config = s3.settings(s3.new_location())
            settings.update({k.lower(): v for k, v in config.items()})
        return open_store(Settings(**settings))

    return make


def append(store: Any, upload_id: str, offset: int, body: Any, limit: int, hashes=()) -> int:
    """What the upload service does: receive a chunk, then keep it (also when cut)."""
    try:
        store.append(upload_id, offset, body, limit, hashes)
    finally:
        end = store.keep_chunk(upload_id)
    return end


def partial_bytes(store: Any, upload_id: str) -> bytes:
    staged = store.stage_partial(upload_id)
    try:
        return staged.path.read_bytes()
    finally:
        if not store.is_local:
            store.discard(staged)


class PiecesBody:
    """Delivers ``data`` in pieces of random sizes (as a socket does), then raises
    IncompleteBody at ``cut`` bytes when given."""

    def __init__(self, data: bytes, seed: int, cut: int | None = None) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.cut = cut
        self.rng = random.Random(seed)

    def readinto(self, buf: memoryview) -> int:
        if self.cut is not None and self.pos >= self.cut:
            raise IncompleteBody()
        end = len(self.data) if self.cut is None else self.cut
        n = min(len(buf), end - self.pos, self.rng.choice([1, 4096, 100_000, BUFFER]))
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("seed", range(3))
def test_append_writes_and_hashes_every_piece_in_order(make_store, seed: int) -> None:
    store = make_store()
    payload = random.Random(seed).randbytes(3 * MIB + 17)
    store.create_partial("u")
    first = payload[:1000]
    assert append(store, "u", 0, StreamBody(_Stream(first)), len(payload)) == 1000
    whole, chunk = hashlib.sha256(), hashlib.sha1()
    whole.update(first)
    end = append(store, "u", 1000, PiecesBody(payload[1000:], seed), len(payload), [chunk, whole])
    assert end == len(payload) == store.partial_size("u")
    assert partial_bytes(store, "u") == payload
    assert whole.digest() == hashlib.sha256(payload).digest()
    assert chunk.digest() == hashlib.sha1(payload[1000:]).digest()


def test_a_cut_keeps_exactly_the_bytes_that_arrived(make_store) -> None:
    store = make_store()
    payload = os.urandom(5 * MIB)
    store.create_partial("u")
    cut = 2 * MIB + 12345
    with pytest.raises(IncompleteBody):
        append(store, "u", 0, PiecesBody(payload, 7, cut=cut), len(payload), [hashlib.sha256()])
    assert store.partial_size("u") == cut
    # A later PATCH from that offset completes the upload.
    end = append(store, "u", cut, PiecesBody(payload[cut:], 8), len(payload) - cut)
    assert end == len(payload)
    assert partial_bytes(store, "u") == payload


def test_a_dropped_chunk_leaves_the_offset_where_it_was(make_store) -> None:
    store = make_store()
    if not store.is_local:
        store.piece_bytes = 64 * 1024  # pieces stored while the chunk streams, too
    store.create_partial("u")
    assert append(store, "u", 0, PiecesBody(b"a" * 100, 1), 100) == 100
    chunk = os.urandom(300 * 1024)
    assert store.append("u", 100, PiecesBody(chunk, 2), len(chunk)) == 100 + len(chunk)
    store.drop_chunk("u", 100)  # e.g. its Upload-Checksum did not match
    assert store.partial_size("u") == 100
    assert partial_bytes(store, "u") == b"a" * 100


def test_a_bucket_stores_a_piece_every_piece_bytes_while_a_body_streams(make_store) -> None:
    """A node killed mid-PATCH loses less than one piece: the rest is in the bucket."""
    store = make_store()
    if store.is_local:
        pytest.skip("a folder keeps every byte as it is written")
    store.piece_bytes = 256 * 1024
    store.create_partial("u")
    payload = os.urandom(MIB)
    cut = 700 * 1024
    with pytest.raises(IncompleteBody):
        store.append("u", 0, PiecesBody(payload, 9, cut=cut), len(payload))
    # Not yet kept: what the bucket holds is the whole pieces (as after a SIGKILL).
    assert store.partial_size("u") == 512 * 1024
    assert store.keep_chunk("u") == cut
    assert partial_bytes(store, "u") == payload[:cut]


def test_append_drops_a_torn_tail_past_the_offset(make_store) -> None:
    store = make_store()
    store.create_partial("u")
    if store.is_local:
        store.partial_path("u").write_bytes(b"a" * 100)
    else:  # a piece past the offset, as a crash between storing it and answering leaves
        append(store, "u", 0, PiecesBody(b"a" * 60, 1), 60)
        key = store._piece_key("u", 80)
        store.client.put_object(Bucket=store.bucket, Key=key, Body=b"x" * 20)
    assert append(store, "u", 60, PiecesBody(b"b" * 10, 1), 10) == 70
    assert append(store, "u", 70, PiecesBody(b"c" * 30, 1), 30) == 100
    assert partial_bytes(store, "u") == b"a" * 60 + b"b" * 10 + b"c" * 30


def test_a_removed_upload_is_gone_and_its_bytes_with_it(make_store) -> None:
    store = make_store()
    assert store.partial_size("u") is None
    store.create_partial("u")
    assert store.partial_size("u") == 0
    append(store, "u", 0, PiecesBody(b"a" * 100, 1), 100)
    store.remove_partial("u")
    assert store.partial_size("u") is None
    if not store.is_local:
        assert store.partial_ids_older_than(_far_future()) == []


def test_stage_hashes_and_refuses_a_longer_body(make_store) -> None:
    store = make_store()
    payload = os.urandom(2 * MIB + 5)
    staged = store.stage(PiecesBody(payload, 3), max_bytes=len(payload))
    assert staged.size == len(payload)
    assert staged.sha256 == hashlib.sha256(payload).hexdigest()
    assert staged.head == payload[:4096]
    assert staged.path.read_bytes() == payload
    with pytest.raises(TooLarge):
        store.stage(PiecesBody(payload, 4), max_bytes=len(payload) - 1)
    assert [p.name for p in store.tmp_dir.iterdir()] == [staged.path.name]


def test_committed_bytes_are_stored_once_under_their_hash(make_store) -> None:
    store = make_store()
    payload = os.urandom(MIB + 3)
    sha = hashlib.sha256(payload).hexdigest()
    assert not store.has_blob(sha)
    for seed in (1, 2):  # the same bytes twice
        staged = store.stage(PiecesBody(payload, seed), max_bytes=len(payload))
        with store.committed(staged) as local:
            assert local.read_bytes() == payload  # readable for EXIF and pHash
    assert store.has_blob(sha)
    if store.is_local:
        assert store.blob_path(sha).read_bytes() == payload
        assert list(store.tmp_dir.iterdir()) == []
    else:
        assert store.blob_keys() == [sha]
        assert store.read_blob(sha) == payload
        assert store.open_blob(sha, (10, 19)).read() == payload[10:20]
        assert list(store.tmp_dir.iterdir()) == []  # the local copies are gone


def test_quota_full_midway_keeps_whole_pieces_only(make_store) -> None:
    store = make_store(quota_bytes=3 * MIB)
    payload = os.urandom(8 * MIB)
    store.create_partial("u")
    with pytest.raises(StorageFull):
        store.append("u", 0, PiecesBody(payload, 5), len(payload), [hashlib.sha256()])
    if store.is_local:
        size = store.partial_size("u")
        assert 0 < size <= 3 * MIB
        assert partial_bytes(store, "u") == payload[:size]
    else:  # a bucket: the chunk that overran the quota is not stored
        store.drop_chunk("u", 0)
        assert store.partial_size("u") == 0


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def test_the_quota_counts_the_store_once_per_write_not_per_piece(
    make_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(quota_bytes=64 * MIB)
    walks = []
    real = store.used_bytes
    monkeypatch.setattr(store, "used_bytes", lambda: walks.append(1) or real())
    payload = os.urandom(4 * MIB)
    store.create_partial("u")
    assert append(store, "u", 0, PiecesBody(payload, 64), len(payload)) == len(payload)
    assert len(walks) == 1


def _far_future():
    from datetime import UTC, datetime

    return datetime(2999, 1, 1, tzinfo=UTC)


def test_a_file_url_and_the_default_are_folders(tmp_path: Path) -> None:
    default = open_store(Settings(media_root=str(tmp_path / "a")))
    assert isinstance(default, MediaStore) and default.root == tmp_path / "a"
    given = open_store(Settings(media_root="x", storage_url=f"file://{tmp_path / 'b'}"))
    assert isinstance(given, MediaStore) and given.root == tmp_path / "b"
    with pytest.raises(ValueError):
        open_store(Settings(media_root=str(tmp_path), storage_url="ftp://host/x"))
