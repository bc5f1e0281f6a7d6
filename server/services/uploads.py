"""Resumable evidence uploads (tus 1.0.0): the logic behind ``/api/v1/uploads``.

The contract is sync/PROTOCOL.md §3.5. The rules that keep evidence safe:

* **The partial file's size is the offset.** ``MediaStore.append`` fsyncs before it
  returns (in a bucket, :mod:`server.storage_s3`: the offset is the end of the pieces
  stored), and nothing else is ever reported as an offset, so after a crash (even a
  SIGKILL mid-PATCH) ``HEAD`` answers the bytes durably stored, from any node.
* **One upload per media item, and a creation answers offset 0** (what standard tus
  clients, tuspy and tus-js-client, assume: they PATCH from 0 after a creation).
  ``uploads.media_id`` is unique; a creation finds the media item's upload while it
  holds no bytes (a retried creation, concurrent creations: one upload, and a creation
  that loses the insert race answers with the winner's), and replaces an upload that
  holds bytes with a new one at offset 0, its partial bytes discarded: a client that
  lost its upload URL and creates again starts over, and nothing is stored twice.
  Clients that kept the URL resume with ``HEAD``. A finished upload is answered as it
  is (offset = length), and a PATCH to it, from any offset, is told it is finished.
* **One writer per upload** (:mod:`.upload_locks`). Every request that changes a
  partial file holds an exclusive lock on it (``flock``; with a bucket on PostgreSQL an
  advisory lock, across nodes), HEAD a shared one; a request waits a
  few seconds (``UPLOAD_LOCK_WAIT_SECONDS``) for the holder, then gets
  :class:`.errors.UploadBusy` (423).
* **No database transaction is open while bytes stream** (SQLite takes its write lock
  per transaction): lookups commit before the body is read, and each later write is a
  short transaction of its own.
* **A completed upload goes the way of a direct PUT**: ``evidence.verify`` then
  ``evidence.accept_file`` (content-addressed commit, EXIF, flags, status). Bytes that
  do not match the declaration are removed with the upload, so the client starts over.
* **Finishing is resumable and idempotent** (issue 28). When it fails for a reason of
  the server's after the last bytes were stored (a node killed, the database, the store
  or the spool disk), the bytes stay and the answer is 503 ``upload_not_finished`` (507
  for a full disk); the next HEAD, PATCH or creation finishes it. The full offset is
  answered only for a received file. On disk the partial file is linked, not renamed,
  into its blob, so it is there to finish again until the receipt is committed.

Refusals are domain exceptions (:mod:`.errors`); the tus headers are read and written
by the views (:mod:`server.api.tus_headers`). Expired uploads are swept by
:mod:`.upload_expiry`.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import ClientDisconnected

from .. import storage
from ..extensions import db
from ..models import Device, Media, utcnow
from ..models.uploads import Upload
from ..settings import current_settings
from ..storage import Body, IncompleteBody, MediaStore
from . import errors
from .evidence import accept_file, declared_media, max_upload_bytes, media_store, verify
from .status import EXPIRED
from .upload_locks import Busy, Gone, lock_wait, locked

# Upload-Checksum algorithms the server verifies.
CHECKSUM_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}

log = logging.getLogger(__name__)

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


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


# -- the operations -------------------------------------------------------------------


def create(
    device: Device, report_id: str, media_id: str, length: int, chunk: Chunk | None
) -> tuple[UploadState, bool]:
    """tus creation: the media item's upload at offset 0 (or finished). Returns
    ``(state, created)``.

    An upload of the media item that holds no bytes yet is answered again; one that
    holds bytes is replaced by a new upload at offset 0 (its bytes discarded), since a
    standard client PATCHes from 0 after a creation; UploadBusy while a request is
    still writing it. A received media item answers its finished upload.

    A body (creation-with-upload) is appended only when the upload is at offset 0 and
    no other request is writing it; otherwise it is ignored and the answer's offset
    tells the client where to go on from.
    """
    if length > max_upload_bytes():
        raise errors.TooLarge()
    media = declared_media(device, report_id, media_id)
    if length != media.size:
        raise errors.SizeMismatch(expected=media.size, received=length)
    _finish_if_stuck(media)
    upload, created = _get_or_create(device, media)
    state = _state(upload, media)
    db.session.commit()
    if chunk is None or chunk.content_length == 0 or state.offset != 0:
        return state, created
    try:
        with locked(upload.id):
            if media_store().partial_size(upload.id) == 0:
                return _append(upload, media, 0, chunk), created
    except (Busy, Gone):
        pass
    # Another request got there first: ignore the body, answer the offset as it is now.
    upload, media = _reload(upload.id)
    state = _state(upload, media)
    db.session.commit()
    return state, created


def head(device: Device, upload_id: str) -> UploadState:
    """The durable offset. While a PATCH is still writing, wait for it to settle (a
    client that reconnects after a cut would otherwise resume from a stale offset
    and stream a body only to be refused); if it does not settle soon, UploadBusy."""
    upload, media = _load(device, upload_id)
    _refuse_expired(media)
    db.session.commit()
    try:
        with locked(upload.id, shared=True, wait=lock_wait()):
            pass
    except Busy:
        raise errors.UploadBusy() from None
    except Gone:
        pass  # completed, terminated or expired: the state below says which
    upload, media = _reload(upload.id)
    state = _state(upload, media)
    db.session.commit()
    if state.complete and not _received(upload, media):
        # Every byte is stored but finishing failed (the node was killed, the database
        # or the store failed): finish it now, or say why not (503/507), never answer
        # the full offset of a file that is not received.
        return _finish_stuck(upload.id)
    return state


def patch(device: Device, upload_id: str, offset: int, chunk: Chunk) -> UploadState:
    """Append a chunk at ``offset``, which must be the server's; finish when complete."""
    upload, media = _load(device, upload_id)
    _refuse_expired(media)
    state = _state(upload, media)
    db.session.commit()  # no transaction while the body streams
    if state.complete:
        # Nothing can be appended to a finished upload: whatever the client's offset,
        # it is told the upload is finished (a standard client that created it again
        # PATCHes from 0); its body is not read, nothing is stored. An upload whose
        # bytes are all in but whose finishing failed is finished now.
        if not _received(upload, media):
            return _finish_stuck(upload.id)
        return state
    try:
        with locked(upload.id, wait=lock_wait()):
            return _append(upload, media, offset, chunk)
    except Busy:
        raise errors.UploadBusy() from None
    except Gone:
        # Completed, terminated or expired since the lookup: the client's offset is stale.
        raise errors.OffsetMismatch() from None


def terminate(device: Device, upload_id: str) -> None:
    """tus termination: remove the upload and its unfinished bytes, never evidence."""
    upload, _media = _load(device, upload_id)
    db.session.commit()
    store = media_store()
    try:
        with locked(upload.id):
            store.remove_partial(upload.id)
    except Busy:
        raise errors.UploadBusy() from None
    except Gone:
        pass  # completed (the bytes are evidence now, and stay) or already removed
    db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
    db.session.commit()


# -- internals ------------------------------------------------------------------------


def expiry_period() -> timedelta:
    """How long an incomplete upload lives after its last PATCH."""
    return timedelta(hours=current_settings().upload_expiry_hours)


def _expires_from(now: datetime) -> datetime:
    # Whole seconds: exactly what the Upload-Expires header can say.
    return (now + expiry_period()).replace(microsecond=0)


def _load(device: Device, upload_id: str) -> tuple[Upload, Media]:
    """The device's own upload and its media item; anything else is UploadNotFound."""
    upload = db.session.get(Upload, upload_id) if _UPLOAD_ID.match(upload_id) else None
    if upload is None or upload.device_id != device.id:
        raise errors.UploadNotFound()
    media = db.session.get(Media, upload.media_id)
    if media is None:
        raise errors.UploadNotFound()
    return upload, media


def _refuse_expired(media: Media) -> None:
    """ReportExpired when the media item's report expired without evidence (its
    uploads take no more bytes; creation is refused by :func:`.evidence.declared_media`)."""
    if media.received_at is None and media.report.status == EXPIRED:
        raise errors.ReportExpired()


def _reload(upload_id: str) -> tuple[Upload, Media]:
    """The upload and its media item as committed now (not as loaded earlier)."""
    upload = db.session.execute(
        sa.select(Upload).where(Upload.id == upload_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if upload is None:
        raise errors.UploadNotFound()
    media = db.session.execute(
        sa.select(Media)
        .where(Media.id == upload.media_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    return upload, media


def _state(upload: Upload, media: Media) -> UploadState:
    """Where the upload stands; UploadExpired when expired, UploadNotFound when its
    bytes are gone."""
    if upload.completed_at is not None or media.received_at is not None:
        return UploadState(upload.id, upload.length, upload.length, None)
    if upload.expires_at <= utcnow():
        raise errors.UploadExpired()
    _end_transaction()
    size = media_store().partial_size(upload.id)
    if size is None:
        raise errors.UploadNotFound()
    return UploadState(upload.id, size, upload.length, upload.expires_at)


def _end_transaction() -> None:
    """Commit what was read before the store is asked: no transaction stays open over
    the store's I/O. With a bucket that I/O is network: a gevent worker switches to
    another request, which waits for SQLite's write lock (BEGIN IMMEDIATE) inside
    SQLite, blocking the whole process, the one holding the lock included, for the
    busy timeout (30 s), then a 503 (two phones pushing the same report at once)."""
    db.session.commit()


def _get_or_create(device: Device, media: Media) -> tuple[Upload, bool]:
    """The media item's live upload, or a new one (committed)."""
    store = media_store()
    for _attempt in range(3):
        db.session.refresh(media)  # received meanwhile? (a PATCH may just have finished)
        existing = db.session.execute(
            sa.select(Upload)
            .where(Upload.media_id == media.id)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        _end_transaction()  # commits a dead upload's delete (the loop's last turn)
        if existing is not None:
            if not _replace_if_dead(existing, media, store) and not _replace_if_started(
                existing, media, store
            ):
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
    raise RuntimeError(f"no upload for media {media.id} after three attempts")


def _replace_if_dead(upload: Upload, media: Media, store: MediaStore) -> bool:
    """Delete an expired upload, or one whose bytes are gone; True if it was deleted.

    Called with no transaction open (the store is asked first); the delete is
    committed by the caller's next step (its next lookup).
    """
    if upload.completed_at is not None or media.received_at is not None:
        return False
    expired = upload.expires_at <= utcnow()
    if not expired and store.partial_size(upload.id) is not None:
        return False
    try:
        with locked(upload.id):
            store.remove_partial(upload.id)
    except Busy:
        return False  # a PATCH that started in time is still writing it
    except Gone:
        pass
    db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
    db.session.flush()
    return True


def _replace_if_started(upload: Upload, media: Media, store: MediaStore) -> bool:
    """Delete a live incomplete upload that holds bytes; True if it was deleted.

    A creation answers offset 0 (standard tus clients PATCH from 0 after creating), so
    an upload a client created again after losing its URL starts over: its partial
    bytes are discarded rather than kept beside the new upload's. Waits for a request
    writing it (as a PATCH does), then UploadBusy.
    """
    if upload.completed_at is not None or media.received_at is not None:
        return False
    if not store.partial_size(upload.id):
        return False  # no bytes yet (a retried creation): the same upload, offset 0
    try:
        with locked(upload.id, wait=lock_wait()):
            store.remove_partial(upload.id)
    except Busy:
        raise errors.UploadBusy() from None
    except Gone:
        return True  # completed or removed meanwhile: the caller looks again
    db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
    db.session.flush()
    return True


def _append(upload: Upload, media: Media, offset: int, chunk: Chunk) -> UploadState:
    """Append ``chunk`` at ``offset``; the caller holds the upload's lock."""
    store = media_store()
    start = store.partial_size(upload.id)
    if start is None:
        raise Gone()
    if offset != start:
        raise errors.OffsetMismatch()
    remaining = upload.length - start
    if chunk.content_length is not None and chunk.content_length > remaining:
        raise errors.TooLarge()

    # Upload-Checksum is checked on the chunk as received.
    chunk_hash = CHECKSUM_ALGORITHMS[chunk.checksum[0]]() if chunk.checksum else None
    # A PATCH from offset 0 hashes the file as it writes it: if it also completes the
    # upload, the file need not be read back to be verified.
    whole = hashlib.sha256() if start == 0 else None
    hashes = [h for h in (chunk_hash, whole) if h is not None]
    failure: errors.DomainError | None = None
    try:
        try:
            store.append(upload.id, start, chunk.body, remaining, hashes)
            if chunk.content_length is None and chunk.body.readinto(memoryview(bytearray(1))):
                # A chunked body longer than what is left of the upload: refuse all of it.
                failure = errors.TooLarge()
        except (ClientDisconnected, IncompleteBody):
            failure = errors.UploadIncomplete()
        except storage.StorageFull:
            failure = errors.StorageFull()

        # With Upload-Checksum, only a whole chunk that matches it is kept: a cut-off
        # one cannot be checked. Without it, whatever arrived is kept (it is durable:
        # fsynced on disk, or stored as a piece in the bucket).
        checksum_ok = chunk_hash is None or (
            failure is None
            and chunk.checksum is not None
            and chunk_hash.digest() == chunk.checksum[1]
        )
        too_long = isinstance(failure, errors.TooLarge)
        if too_long or not checksum_ok:
            store.drop_chunk(upload.id, start)
            end = start
            if failure is None:
                failure = errors.ChunkChecksumMismatch()
        else:
            try:
                end = store.keep_chunk(upload.id)
            except storage.StorageFull:
                store.drop_chunk(upload.id, start)
                end, failure = start, errors.StorageFull()
    except FileNotFoundError:  # cannot happen under the lock; be explicit, not wrong
        raise errors.UploadNotFound() from None
    except BaseException:
        store.drop_chunk(upload.id, start)  # nothing half-kept (a local spool file)
        raise

    expires_at = _touch(upload) if end > start else upload.expires_at
    if failure is not None:
        # The client is told where the upload stands (Upload-Offset, Upload-Expires).
        failure.details.update(upload_offset=end, upload_expires_at=expires_at)
        raise failure
    if end == upload.length:
        _finish(upload, media, whole.hexdigest() if whole is not None else None)
        return UploadState(upload.id, end, upload.length, None)
    return UploadState(upload.id, end, upload.length, expires_at)


def _received(upload: Upload, media: Media) -> bool:
    """The upload is finished: its media item is received (evidence stored)."""
    return upload.completed_at is not None or media.received_at is not None


def _finish_if_stuck(media: Media) -> None:
    """Before a creation: the media item's upload that holds every byte but was never
    finished is finished (a client that lost its URL is not made to send it again)."""
    if media.received_at is not None:
        return
    upload = db.session.execute(
        sa.select(Upload).where(Upload.media_id == media.id)
    ).scalar_one_or_none()
    if upload is None or upload.completed_at is not None or upload.expires_at <= utcnow():
        return
    _end_transaction()
    if media_store().partial_size(upload.id) != upload.length:
        return
    _finish_stuck(upload.id)


def _finish_stuck(upload_id: str) -> UploadState:
    """Finish an upload whose bytes are all stored but whose completion failed (a node
    killed, the database, the store or the spool disk failing after the last PATCH
    stored its bytes). Under the upload's lock, like a PATCH; idempotent."""
    try:
        with locked(upload_id, wait=lock_wait()):
            upload, media = _reload(upload_id)
            state = _state(upload, media)
            if state.complete and not _received(upload, media):
                db.session.commit()  # no transaction open while the file is staged
                _finish(upload, media, None)
                return UploadState(upload.id, upload.length, upload.length, None)
            db.session.commit()
            return state
    except Busy:
        raise errors.UploadBusy() from None
    except Gone:
        pass  # finished (or removed) by another request meanwhile
    upload, media = _reload(upload_id)
    state = _state(upload, media)
    db.session.commit()
    return state


def _finish(upload: Upload, media: Media, sha256: str | None) -> None:
    """:func:`_complete`, with the failures of the server's own (not of the bytes)
    answered as what they are: a full disk is StorageFull (507), anything else
    UploadNotFinished (503); the bytes stay, and a later HEAD or PATCH finishes it."""
    try:
        _complete(upload, media, sha256)
    except errors.DomainError:
        raise
    except (storage.StorageFull, OSError) as exc:
        db.session.rollback()
        if isinstance(exc, storage.StorageFull) or exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.error("storage full while finishing upload %s", upload.id)
            raise errors.StorageFull() from exc
        log.exception("finishing upload %s failed; a retry finishes it", upload.id)
        raise errors.UploadNotFinished() from exc
    except Exception as exc:
        db.session.rollback()
        log.exception("finishing upload %s failed; a retry finishes it", upload.id)
        raise errors.UploadNotFinished() from exc


def _touch(upload: Upload) -> datetime:
    """Record that bytes arrived: the upload's expiry moves forward. Commits."""
    now = utcnow()
    expires_at = _expires_from(now)
    db.session.execute(
        sa.update(Upload)
        .where(Upload.id == upload.id)
        .values(last_patch_at=now, expires_at=expires_at)
    )
    db.session.commit()
    upload.expires_at = expires_at
    return expires_at


def _complete(upload: Upload, media: Media, sha256: str | None = None) -> None:
    """All bytes are in: verify them like a direct PUT, then store them as evidence.

    ``sha256`` is the hash computed while the bytes were written, when one request
    wrote them all; otherwise the file is hashed here. On a mismatch the upload is
    reset (partial file and row removed) and the exception from :func:`evidence.verify`
    is raised: the client creates the upload again.
    """
    store = media_store()
    staged = store.stage_partial(upload.id, sha256)
    try:
        verify(media, staged.size, staged.sha256, staged.head, staged.path)
    except errors.DomainError:
        store.discard(staged)
        store.remove_partial(upload.id)
        db.session.execute(sa.delete(Upload).where(Upload.id == upload.id))
        db.session.commit()
        raise
    # Objects loaded before the upload streamed may be stale (another request may
    # have received this media item meanwhile); accept_file must see the rows as now.
    # The ids are read first: an expired object's attribute is a SELECT, which would
    # open a transaction (SQLite's write lock) over the store's I/O in accept_file.
    media_id, upload_id = media.id, upload.id
    db.session.expire_all()
    try:
        accept_file(media_id, store, staged)
    finally:
        store.discard(staged)  # the staged copy (a link or a spool file), whatever happened
    db.session.execute(
        sa.update(Upload).where(Upload.id == upload_id).values(completed_at=utcnow())
    )
    db.session.commit()
    # The bytes are evidence now (on disk a link of the partial file became its blob;
    # in a bucket they were copied): the upload's partial file or pieces go.
    store.remove_partial(upload_id)
