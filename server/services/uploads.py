"""Resumable evidence uploads (tus 1.0.0): the logic behind ``/api/v1/uploads``.

The contract is sync/PROTOCOL.md §3.5. The rules that keep evidence safe:

* **The partial file's size is the offset.** ``MediaStore.append`` fsyncs before it
  returns, and nothing else is ever reported as an offset, so after a crash (even a
  SIGKILL mid-PATCH) ``HEAD`` answers the bytes durably on disk.
* **One upload per media item.** ``uploads.media_id`` is unique; a creation that loses
  the insert race (IntegrityError) answers with the winner's upload.
* **One writer per upload.** Every request that changes a partial file holds an
  exclusive ``flock`` on it, HEAD a shared one; a request waits a few seconds
  (``UPLOAD_LOCK_WAIT_SECONDS``) for the holder, then is told ``423``.
  After taking the lock the file is checked to still be the live partial (completion
  renames it into ``blobs/``, termination and expiry unlink it).
* **No database transaction is open while bytes stream** (SQLite takes its write lock
  per transaction): lookups commit before the body is read, and each later write is a
  short transaction of its own.
* **A completed upload goes the way of a direct PUT**: ``evidence.verify`` then
  ``evidence.accept_file`` (content-addressed commit, EXIF, flags, status). Bytes that
  do not match the declaration are removed with the upload, so the client starts over.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ClientDisconnected

from ..extensions import db
from ..models import Device, Media, utcnow
from ..models.uploads import Upload
from ..problems import ApiError
from ..storage import Body, IncompleteBody, MediaStore, Staged, StorageFull
from .evidence import accept_file, declared_media, max_upload_bytes, media_store, verify

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-with-upload", "checksum", "expiration", "termination")
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}
# Files in MEDIA_ROOT/tmp belong to a single direct PUT; one older than this is litter.
STALE_TMP_AGE = timedelta(days=1)
RETRY_AFTER_BUSY = "1"
RETRY_AFTER_FULL = "600"

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


@dataclass(frozen=True)
class UploadState:
    """What a client is told about an upload: where it stands and until when."""

    id: str
    offset: int
    length: int
    expires_at: datetime | None  # None once complete: a finished upload does not expire

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


@dataclass(frozen=True)
class Chunk:
    """The body of a PATCH (or of a creation-with-upload)."""

    body: Body
    content_length: int | None  # None for a chunked body
    checksum: tuple[str, bytes] | None = None  # (algorithm, digest) of Upload-Checksum


@dataclass(frozen=True)
class ExpiryResult:
    expired_uploads: int
    orphan_partials: int
    stale_tmp_files: int


class _Busy(Exception):
    """Another request holds the upload's lock."""


class _Gone(Exception):
    """The partial file is no longer there (completed, terminated, expired or lost)."""


# -- header parsing -------------------------------------------------------------------


def parse_length(value: str | None, header: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset), or a 400 problem."""
    if value is None or not _DIGITS.match(value.strip()):
        raise ApiError("bad_request", errors={header: ["A non-negative integer is required."]})
    return int(value.strip())


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: ``key base64,key base64,key`` → ``{key: value}`` (UTF-8)."""
    out: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(
                "bad_request", errors={"Upload-Metadata": [f"The value of {key!r} is not base64."]}
            ) from None
    return out


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``, or None when absent."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    factory = CHECKSUM_ALGORITHMS.get(algorithm)
    if factory is None:
        raise ApiError("checksum_algorithm_unsupported")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != factory().digest_size:
        raise ApiError("bad_request", errors={"Upload-Checksum": ["Not a base64 digest."]})
    return algorithm, digest


def http_date(value: datetime) -> str:
    """RFC 7231 IMF-fixdate, e.g. ``Wed, 25 Nov 2026 08:00:00 GMT``."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(value.timestamp()))


# -- the operations -------------------------------------------------------------------


def create(
    device: Device, report_id: str, media_id: str, length: int, chunk: Chunk | None
) -> tuple[UploadState, bool]:
    """tus creation, idempotent per media item. Returns ``(state, created)``.

    A body (creation-with-upload) is appended only when the upload is at offset 0 and
    no other request is writing it; otherwise it is ignored and the answer's offset
    tells the client where to go on from.
    """
    if length > max_upload_bytes():
        raise ApiError("payload_too_large")
    media = declared_media(device, report_id, media_id)
    if length != media.size:
        raise ApiError("size_mismatch", expected=media.size, received=length)
    upload, created = _get_or_create(device, media)
    state = _state(upload, media)
    db.session.commit()
    if chunk is None or chunk.content_length == 0 or state.offset != 0:
        return state, created
    try:
        with _locked(upload.id):
            if media_store().partial_size(upload.id) == 0:
                return _append(upload, media, 0, chunk), created
    except (_Busy, _Gone):
        pass
    # Another request got there first: ignore the body, answer the offset as it is now.
    upload, media = _reload(upload.id)
    state = _state(upload, media)
    db.session.commit()
    return state, created


def head(device: Device, upload_id: str) -> UploadState:
    """The durable offset. While a PATCH is still writing, wait for it to settle (a
    client that reconnects after a cut would otherwise resume from a stale offset
    and stream a body into a 423); if it does not settle soon, answer 423."""
    upload, media = _load(device, upload_id)
    db.session.commit()
    try:
        with _locked(upload.id, shared=True, wait=_lock_wait()):
            pass
    except _Busy:
        raise ApiError("upload_locked", headers={"Retry-After": RETRY_AFTER_BUSY}) from None
    except _Gone:
        pass  # completed, terminated or expired: the state below says which
    upload, media = _reload(upload.id)
    state = _state(upload, media)
    db.session.commit()
    return state


def patch(device: Device, upload_id: str, offset: int, chunk: Chunk) -> UploadState:
    """Append a chunk at ``offset``, which must be the server's; finish when complete."""
    upload, media = _load(device, upload_id)
    state = _state(upload, media)
    db.session.commit()  # no transaction while the body streams
    if state.complete:
        if offset != state.offset:
            raise ApiError("offset_mismatch")
        if chunk.content_length:
            raise ApiError("payload_too_large")
        return state
    try:
        with _locked(upload.id, wait=_lock_wait()):
            return _append(upload, media, offset, chunk)
    except _Busy:
        raise ApiError("upload_locked", headers={"Retry-After": RETRY_AFTER_BUSY}) from None
    except _Gone:
        # Completed, terminated or expired since the lookup: the client's offset is stale.
        raise ApiError("offset_mismatch") from None


def terminate(device: Device, upload_id: str) -> None:
    """tus termination: remove the upload and its unfinished bytes, never evidence."""
    upload, _media = _load(device, upload_id)
    db.session.commit()
    store = media_store()
    try:
        with _locked(upload.id):
            store.remove_partial(upload.id)
    except _Busy:
        raise ApiError("upload_locked", headers={"Retry-After": RETRY_AFTER_BUSY}) from None
    except _Gone:
        pass  # completed (the bytes are evidence now, and stay) or already removed
    db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
    db.session.commit()


def expire(now: datetime | None = None) -> ExpiryResult:
    """Remove expired incomplete uploads and their partial files; sweep litter.

    Also removes partial files with no upload row that are older than the expiry
    period (a crash between creating the file and its row), and files in
    ``MEDIA_ROOT/tmp`` older than a day (a direct PUT that died). An upload that a
    request is writing right now is skipped.
    """
    now = now or utcnow()
    store = media_store()
    ids = db.session.scalars(
        sa.select(Upload.id).where(Upload.completed_at.is_(None), Upload.expires_at <= now)
    ).all()
    db.session.commit()
    expired = 0
    for upload_id in ids:
        try:
            with _locked(upload_id):
                if _remove_if_expired(upload_id, now, store):
                    expired += 1
        except _Busy:
            continue
        except _Gone:
            if _remove_if_expired(upload_id, now, store):
                expired += 1

    orphans = 0
    cutoff = now.timestamp() - _expiry().total_seconds()
    names = [p.name for p in _old_files(store.upload_dir, cutoff)]
    known: set[str] = set()
    for i in range(0, len(names), 500):
        batch = names[i : i + 500]
        known.update(db.session.scalars(sa.select(Upload.id).where(Upload.id.in_(batch))))
    db.session.commit()
    for name in names:
        if name not in known:
            (store.upload_dir / name).unlink(missing_ok=True)
            orphans += 1

    stale = 0
    for path in _old_files(store.tmp_dir, now.timestamp() - STALE_TMP_AGE.total_seconds()):
        path.unlink(missing_ok=True)
        stale += 1
    return ExpiryResult(expired, orphans, stale)


# -- internals ------------------------------------------------------------------------


def _expiry() -> timedelta:
    return timedelta(hours=float(current_app.config["UPLOAD_EXPIRY_HOURS"]))


def _expires_from(now: datetime) -> datetime:
    # Whole seconds: exactly what the Upload-Expires header can say.
    return (now + _expiry()).replace(microsecond=0)


def _load(device: Device, upload_id: str) -> tuple[Upload, Media]:
    """The device's own upload and its media item; anything else is a 404."""
    upload = db.session.get(Upload, upload_id) if _UPLOAD_ID.match(upload_id) else None
    if upload is None or upload.device_id != device.id:
        raise ApiError("upload_not_found")
    media = db.session.get(Media, upload.media_id)
    if media is None:
        raise ApiError("upload_not_found")
    return upload, media


def _reload(upload_id: str) -> tuple[Upload, Media]:
    """The upload and its media item as committed now (not as loaded earlier)."""
    upload = db.session.execute(
        sa.select(Upload).where(Upload.id == upload_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if upload is None:
        raise ApiError("upload_not_found")
    media = db.session.execute(
        sa.select(Media)
        .where(Media.id == upload.media_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    return upload, media


def _state(upload: Upload, media: Media) -> UploadState:
    """Where the upload stands; 410 when expired, 404 when its bytes are gone."""
    if upload.completed_at is not None or media.received_at is not None:
        return UploadState(upload.id, upload.length, upload.length, None)
    if upload.expires_at <= utcnow():
        raise ApiError("upload_expired")
    size = media_store().partial_size(upload.id)
    if size is None:
        raise ApiError("upload_not_found")
    return UploadState(upload.id, size, upload.length, upload.expires_at)


def _get_or_create(device: Device, media: Media) -> tuple[Upload, bool]:
    """The media item's live upload, or a new one (committed)."""
    store = media_store()
    for _attempt in range(3):
        existing = db.session.execute(
            sa.select(Upload)
            .where(Upload.media_id == media.id)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if existing is not None:
            if not _replace_if_dead(existing, media, store):
                db.session.commit()
                return existing, False
            continue
        now = utcnow()
        received = media.received_at is not None
        upload = Upload(
            id=uuid.uuid4().hex,
            media_id=media.id,
            report_id=media.report_id,
            device_id=device.id,
            length=media.size,
            created_at=now,
            expires_at=_expires_from(now),
            completed_at=now if received else None,
        )
        if not received:
            # The file exists before the row is visible, so a committed incomplete
            # upload always has its partial file.
            store.create_partial(upload.id)
        db.session.add(upload)
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent creation for this media item won: answer with its upload.
            db.session.rollback()
            store.remove_partial(upload.id)
            continue
        return upload, True
    raise ApiError("internal_error")


def _replace_if_dead(upload: Upload, media: Media, store: MediaStore) -> bool:
    """Delete an expired upload, or one whose bytes are gone; True if it was deleted.

    Runs inside the creation's transaction; the delete is committed by the caller's
    next step (the insert of the new upload).
    """
    if upload.completed_at is not None or media.received_at is not None:
        return False
    expired = upload.expires_at <= utcnow()
    if not expired and store.partial_size(upload.id) is not None:
        return False
    try:
        with _locked(upload.id):
            store.remove_partial(upload.id)
    except _Busy:
        return False  # a PATCH that started in time is still writing it
    except _Gone:
        pass
    db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
    db.session.flush()
    return True


def _remove_if_expired(upload_id: str, now: datetime, store: MediaStore) -> bool:
    """Under the upload's lock: remove it if it is still expired and incomplete."""
    upload = db.session.execute(
        sa.select(Upload).where(Upload.id == upload_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if upload is None or upload.completed_at is not None or upload.expires_at > now:
        db.session.commit()
        return False
    store.remove_partial(upload_id)
    db.session.delete(upload)
    db.session.commit()
    return True


def _lock_wait() -> float:
    return float(current_app.config.get("UPLOAD_LOCK_WAIT_SECONDS", 3.0))


@contextmanager
def _locked(upload_id: str, *, shared: bool = False, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock of the upload's partial file: exclusive to write, shared to read.

    Waits up to ``wait`` seconds for a request that holds it (a PATCH whose client
    just vanished is usually still draining its last bytes), then raises
    :class:`_Busy`. Raises :class:`_Gone` when the partial file is not there or was
    replaced between opening and locking it.
    """
    path = media_store().partial_path(upload_id)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise _Gone() from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _Busy() from None
                time.sleep(0.02)
        held = os.fstat(fd)
        try:
            now_there = os.stat(path)
        except FileNotFoundError:
            raise _Gone() from None
        if (held.st_dev, held.st_ino) != (now_there.st_dev, now_there.st_ino):
            raise _Gone()
        yield
    finally:
        os.close(fd)  # releases the lock


def _append(upload: Upload, media: Media, offset: int, chunk: Chunk) -> UploadState:
    """Append ``chunk`` at ``offset``; the caller holds the upload's lock."""
    store = media_store()
    start = store.partial_size(upload.id)
    if start is None:
        raise _Gone()
    if offset != start:
        raise ApiError("offset_mismatch")
    remaining = upload.length - start
    if chunk.content_length is not None and chunk.content_length > remaining:
        raise ApiError("payload_too_large")

    # Upload-Checksum is checked on the chunk as received.
    chunk_hash = CHECKSUM_ALGORITHMS[chunk.checksum[0]]() if chunk.checksum else None
    # A PATCH from offset 0 hashes the file as it writes it: if it also completes the
    # upload, the file need not be read back to be verified.
    whole = hashlib.sha256() if start == 0 else None
    hashes = [h for h in (chunk_hash, whole) if h is not None]
    failure: ApiError | None = None
    try:
        store.append(upload.id, start, chunk.body, remaining, hashes)
        if chunk.content_length is None and chunk.body.readinto(memoryview(bytearray(1))):
            # A chunked body longer than what is left of the upload: refuse all of it.
            failure = ApiError("payload_too_large")
    except (ClientDisconnected, IncompleteBody):
        failure = ApiError("upload_incomplete")
    except StorageFull:
        failure = ApiError("insufficient_storage", headers={"Retry-After": RETRY_AFTER_FULL})
    end = store.partial_size(upload.id)
    if end is None:  # cannot happen under the lock; be explicit rather than wrong
        raise ApiError("upload_not_found")

    # With Upload-Checksum, only a whole chunk that matches it is kept: a cut-off one
    # cannot be checked. Without it, whatever arrived is kept (it is fsynced).
    checksum_ok = chunk_hash is None or (
        failure is None and chunk.checksum is not None and chunk_hash.digest() == chunk.checksum[1]
    )
    too_long = failure is not None and failure.code == "payload_too_large"
    if too_long or not checksum_ok:
        if end != start:
            store.truncate_partial(upload.id, start)
            end = start
        if failure is None:
            failure = ApiError("chunk_checksum_mismatch")

    expires_at = upload.expires_at
    if end > start:
        now = utcnow()
        expires_at = _expires_from(now)
        db.session.execute(
            sa.update(Upload)
            .where(Upload.id == upload.id)
            .values(last_patch_at=now, expires_at=expires_at)
        )
        db.session.commit()
        upload.expires_at = expires_at
    if failure is not None:
        failure.headers["Upload-Offset"] = str(end)
        failure.headers["Upload-Expires"] = http_date(expires_at)
        raise failure
    if end == upload.length:
        _complete(upload, media, whole.hexdigest() if whole is not None else None)
        return UploadState(upload.id, end, upload.length, None)
    return UploadState(upload.id, end, upload.length, expires_at)


def _complete(upload: Upload, media: Media, sha256: str | None = None) -> None:
    """All bytes are in: verify them like a direct PUT, then store them as evidence.

    ``sha256`` is the hash computed while the bytes were written, when one request
    wrote them all; otherwise the file is hashed here. On a mismatch the upload is
    reset (partial file and row removed) and the problem from :func:`evidence.verify`
    is raised: the client creates the upload again.
    """
    store = media_store()
    path = store.partial_path(upload.id)
    if sha256 is None:
        size, sha256, head_bytes = store.hash_file(path)
    else:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head_bytes = fh.read(4096)
    try:
        verify(media, size, sha256, head_bytes)
    except ApiError:
        store.remove_partial(upload.id)
        db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
        db.session.commit()
        raise
    # Objects loaded before the upload streamed may be stale (another request may
    # have received this media item meanwhile); accept_file must see the rows as now.
    db.session.expire_all()
    accept_file(media.id, store, Staged(path=path, size=size, sha256=sha256, head=head_bytes))
    db.session.execute(
        sa.update(Upload).where(Upload.id == upload.id).values(completed_at=utcnow())
    )
    db.session.commit()


def _old_files(directory: Path, cutoff: float) -> Iterator[Path]:
    """Regular files in ``directory`` last modified before ``cutoff`` (a timestamp)."""
    for path in directory.iterdir():
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file() and st.st_mtime < cutoff:
            yield path
