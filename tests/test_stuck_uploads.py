"""An upload whose last bytes are stored but whose finishing fails (issue 28): never
"finished" before its file is received, and finished by the next HEAD or PATCH.

Each step of completion fails once (as a node killed there, the database, the store or
the spool disk would make it fail), on a folder and on a bucket (SeaweedFS), on SQLite
and PostgreSQL. While the fault lasts no answer says the upload is finished; once it is
gone, a HEAD or a PATCH at the full offset finishes it, and the report lists the file
as received, stored once and byte-identical (PROTOCOL §3.5).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.services import evidence as evidence_service
from server.storage import MediaStore
from tests.factories import Api, MediaFile
from tests.test_tus import (
    Tus,
    big_photo,
    declare,
    offset_of,
    partial_files,
    received,
    store_of,
    stored_blobs,
    stored_bytes,
)

pytestmark = pytest.mark.usefixtures("storage")

SIZE = 300 * 1024


class Injected(Exception):
    """The failure a fault injects (a node killed mid-way looks the same to the data)."""


@contextmanager
def killed_before_verify(app) -> Iterator[None]:
    """The process dies after the last bytes were stored, before they are assembled
    and verified."""
    store = store_of(app)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(store), "stage_partial", _raise(Injected("killed before verify")))
        yield


@contextmanager
def database_commit_fails(app) -> Iterator[None]:
    """The database goes away at the commit that marks the file received."""
    real = evidence_service.mark_received

    def failing_mark_received(*args: Any, **kw: Any):
        real_commit = Session.commit

        def commit(self: Session) -> None:
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

        Session.commit = commit  # type: ignore[method-assign]
        try:
            return real(*args, **kw)
        finally:
            Session.commit = real_commit  # type: ignore[method-assign]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evidence_service, "mark_received", failing_mark_received)
        yield


@contextmanager
def store_put_fails(app) -> Iterator[None]:
    """Writing the verified blob to the store fails (a disk error; the bucket down)."""
    store = store_of(app)
    with pytest.MonkeyPatch.context() as mp:
        if store.is_local:
            mp.setattr(MediaStore, "commit", _raise(OSError(errno.EIO, "I/O error")))
        else:
            from botocore.exceptions import EndpointConnectionError

            real_put = type(store)._put_file

            def put_file(self, key: str, path):
                if "/blobs/" in f"/{key}":
                    raise EndpointConnectionError(endpoint_url="http://s3.invalid")
                return real_put(self, key, path)

            mp.setattr(type(store), "_put_file", put_file)
        yield


@contextmanager
def spool_disk_full(app) -> Iterator[None]:
    """The local disk the completed upload is staged on is full (ENOSPC)."""
    store = store_of(app)
    full = OSError(errno.ENOSPC, "No space left on device")
    with pytest.MonkeyPatch.context() as mp:
        if store.is_local:
            mp.setattr(os, "link", _raise(full))
        else:
            import server.storage_s3 as s3

            real_fdopen = os.fdopen

            class FullFile:
                def __init__(self, fh: Any) -> None:
                    self.fh = fh

                def __enter__(self) -> FullFile:
                    return self

                def __exit__(self, *exc: object) -> None:
                    self.fh.close()

                def write(self, data: bytes) -> int:
                    raise full

            mp.setattr(s3.os, "fdopen", lambda fd, mode="r": FullFile(real_fdopen(fd, mode)))
        yield


def _raise(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: Any, **kw: Any) -> Any:
        raise exc

    return fail


# fault, the status its failed completion answers (never 500, never 204)
FAULTS: list[tuple[Callable[[Any], AbstractContextManager[None]], int]] = [
    (killed_before_verify, 503),
    (database_commit_fails, 503),
    (store_put_fails, 503),
    (spool_disk_full, 507),
]


@pytest.fixture
def tus(client) -> Tus:
    return Tus(Api.register(client))


def stuck_upload(app, tus: Tus, fault, status: int) -> tuple[str, str, MediaFile]:
    """Send a whole file whose completion fails under ``fault``; the upload's URL."""
    media = big_photo(SIZE)
    rid = declare(tus.api, media)
    created = tus.create(rid, media)
    assert created.status_code == 201
    url = created.headers["Location"]
    half = SIZE // 2
    assert offset_of(tus.patch(url, 0, media.data[:half])) == half
    with fault(app):
        last = tus.patch(url, half, media.data[half:])
        assert last.status_code == status, last.get_data(as_text=True)
        assert last.mimetype == "application/problem+json"
        assert last.headers.get("Retry-After")
        # While the fault lasts, nothing says finished: not HEAD, not a PATCH.
        assert tus.head(url).status_code == status
        again = tus.patch(url, SIZE, b"")
        assert again.status_code == status
        assert again.headers.get("Upload-Offset") != str(SIZE)
    assert not received(app, media)
    return rid, url, media


def evidence_of(tus: Tus, rid: str, media: MediaFile) -> dict:
    report = tus.api.get_report(rid).get_json()
    return next(e for e in report["evidence"] if e["media_id"] == media.media_id)


@pytest.mark.parametrize("retry", ["HEAD", "PATCH"])
@pytest.mark.parametrize(("fault", "status"), FAULTS, ids=[f.__name__ for f, _ in FAULTS])
def test_a_failed_completion_is_finished_by_the_next_head_or_patch(app, tus, fault, status, retry):
    rid, url, media = stuck_upload(app, tus, fault, status)
    assert evidence_of(tus, rid, media)["received"] is False

    if retry == "HEAD":
        resp = tus.head(url)
        assert resp.status_code == 200
    else:
        resp = tus.patch(url, SIZE, b"")
        assert resp.status_code == 204
    assert offset_of(resp) == SIZE
    assert "Upload-Expires" not in resp.headers

    assert evidence_of(tus, rid, media)["received"] is True
    assert received(app, media)
    sha = hashlib.sha256(media.data).hexdigest()
    assert stored_bytes(app, sha) == media.data
    assert stored_blobs(app) == [sha]  # stored once
    assert partial_files(app) == []  # the upload's bytes went with its completion
    # Asked again, the upload is finished; nothing changes.
    assert offset_of(tus.head(url)) == SIZE
    assert stored_blobs(app) == [sha]


def test_a_failed_completion_leaves_no_staged_copy_behind(app, tus):
    """The staged copy of a completion that failed (a link, or a spool file read back
    from the bucket) is removed: a retry stages again."""
    stuck_upload(app, tus, store_put_fails, 503)
    store = store_of(app)
    assert [p.name for p in store.tmp_dir.iterdir()] == []


def test_a_creation_for_a_stuck_upload_finishes_it(app, tus):
    """A client that lost the URL creates the upload again: the bytes already stored
    are finished, not thrown away; the answer is the finished upload."""
    rid, url, media = stuck_upload(app, tus, killed_before_verify, 503)
    created = tus.create(rid, media)
    assert created.status_code == 201
    assert created.headers["Location"] == url
    assert offset_of(created) == SIZE
    assert received(app, media)
    assert evidence_of(tus, rid, media)["received"] is True


@contextmanager
def says_full_offset(app) -> Iterator[None]:
    """An older server: finishing fails silently and the full offset is answered."""
    from server.services import uploads as tus_service

    def full(upload_id: str):
        return tus_service.UploadState(upload_id, SIZE, SIZE, None)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tus_service, "_finish", lambda upload, media, sha256: None)
        mp.setattr(tus_service, "_finish_stuck", full)
        yield


@pytest.mark.parametrize("fault", [killed_before_verify, says_full_offset])
def test_sync_client_ends_with_the_file_received_after_a_stuck_upload(
    app, live_server, tmp_path, fault
):
    """sync.client takes the report's ``received``, not the offset, for a receipt: it
    is not "sent" while the file is not received, and sends it once finishing works."""
    from sync.client import Outbox, Pusher
    from sync.client.folder import Defaults, queue_folder
    from sync.client.http import Backoff
    from tests.media_factory import make_jpeg

    folder = tmp_path / "dashcam"
    folder.mkdir()
    data = make_jpeg(lat=21.0285, lon=105.8048, taken_at="2026-11-20T07:30:00", size=(64, 48))
    data += bytes(SIZE - len(data))
    (folder / "IMG_0001.jpg").write_bytes(data)
    outbox = Outbox(tmp_path / "o.sqlite3")
    queue_folder(outbox, folder, Defaults(violation="RED_LIGHT"))
    pusher = Pusher.connect(outbox, live_server, backoff=Backoff(base=0.01, cap=0.05))
    media = MediaFile(data, media_id=outbox.media(outbox.reports()[0]["report_id"])[0].media_id)

    with fault(app):
        counts = pusher.push_all(max_attempts=3)
    assert "sent" not in counts
    assert not received(app, media)

    assert pusher.push_all(max_attempts=5) == {"sent": 1}
    assert received(app, media)
    assert stored_bytes(app, hashlib.sha256(data).hexdigest()) == data
