"""MediaStore receiving bodies: every byte delivered is written, hashed in order, and
a body cut off midway leaves exactly what arrived (server/storage.py)."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from server.storage import (
    BUFFER,
    IncompleteBody,
    MediaStore,
    StorageFull,
    StreamBody,
    TooLarge,
)


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
def test_append_writes_and_hashes_every_piece_in_order(tmp_path: Path, seed: int) -> None:
    store = MediaStore(tmp_path)
    payload = random.Random(seed).randbytes(3 * 1024 * 1024 + 17)
    store.create_partial("u")
    first = payload[:1000]
    assert store.append("u", 0, StreamBody(_Stream(first)), len(payload)) == 1000
    whole, chunk = hashlib.sha256(), hashlib.sha1()
    whole.update(first)
    end = store.append("u", 1000, PiecesBody(payload[1000:], seed), len(payload), [chunk, whole])
    assert end == len(payload)
    assert store.partial_path("u").read_bytes() == payload
    assert whole.digest() == hashlib.sha256(payload).digest()
    assert chunk.digest() == hashlib.sha1(payload[1000:]).digest()


def test_a_cut_keeps_exactly_the_bytes_that_arrived(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    payload = os.urandom(5 * 1024 * 1024)
    store.create_partial("u")
    cut = 2 * 1024 * 1024 + 12345
    with pytest.raises(IncompleteBody):
        store.append("u", 0, PiecesBody(payload, 7, cut=cut), len(payload), [hashlib.sha256()])
    assert store.partial_size("u") == cut
    # A later PATCH from that offset completes the file.
    end = store.append("u", cut, PiecesBody(payload[cut:], 8), len(payload) - cut)
    assert end == len(payload)
    assert store.partial_path("u").read_bytes() == payload


def test_append_drops_a_torn_tail_past_the_offset(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    store.create_partial("u")
    store.partial_path("u").write_bytes(b"a" * 100)
    assert store.append("u", 60, PiecesBody(b"b" * 10, 1), 10) == 70
    assert store.partial_path("u").read_bytes() == b"a" * 60 + b"b" * 10


def test_stage_hashes_and_refuses_a_longer_body(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    payload = os.urandom(2 * 1024 * 1024 + 5)
    staged = store.stage(PiecesBody(payload, 3), max_bytes=len(payload))
    assert staged.size == len(payload)
    assert staged.sha256 == hashlib.sha256(payload).hexdigest()
    assert staged.head == payload[:4096]
    assert staged.path.read_bytes() == payload
    with pytest.raises(TooLarge):
        store.stage(PiecesBody(payload, 4), max_bytes=len(payload) - 1)
    assert [p.name for p in store.tmp_dir.iterdir()] == [staged.path.name]


def test_quota_full_midway_keeps_whole_pieces_only(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, quota_bytes=3 * 1024 * 1024)
    payload = os.urandom(8 * 1024 * 1024)
    store.create_partial("u")
    with pytest.raises(StorageFull):
        store.append("u", 0, PiecesBody(payload, 5), len(payload), [hashlib.sha256()])
    size = store.partial_size("u")
    assert 0 < size <= 3 * 1024 * 1024
    assert store.partial_path("u").read_bytes() == payload[:size]


class _Stream:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def test_the_quota_counts_the_store_once_per_write_not_per_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MediaStore(tmp_path, quota_bytes=64 * 1024 * 1024)
    walks = []
    real = store.used_bytes
    monkeypatch.setattr(store, "used_bytes", lambda: walks.append(1) or real())
    payload = os.urandom(4 * 1024 * 1024)
    store.create_partial("u")
    assert store.append("u", 0, PiecesBody(payload, 64), len(payload)) == len(payload)
    assert len(walks) == 1
