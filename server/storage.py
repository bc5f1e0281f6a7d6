"""Evidence storage on the local filesystem, content-addressed by SHA-256.

Layout under ``MEDIA_ROOT``::

    blobs/ab/cd/abcd…ef   verified evidence, named by its SHA-256 (stored once, however
                          many reports carry the same bytes)
    tmp/                  bytes being received by a single request; never a final name
    uploads/<id>          partial resumable (tus) uploads; their size is the durable offset

A file reaches ``blobs/`` only by an atomic rename after it was fsynced and its size
and hash were checked by the caller, so a crash or a cut-off upload can never leave a
half-written file under a final name.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

# Pieces read from a file-like request body (wsgi.input): under gunicorn, larger reads
# of its own body reader are markedly slower (it copies buffers), see bench/README.md.
CHUNK = 64 * 1024
# The buffer a body is received into (from gunicorn's socket, see request_body.py),
# hashed and written from, and files are hashed through: 0.5–1 MiB measured fastest
# (fewer system calls than 64–256 KiB, less cache thrashing than 4 MiB).
BUFFER = 1024 * 1024
# While a body is received, the kernel is asked to write every this many bytes to disk.
WRITEBACK_EVERY = 8 * 1024 * 1024


class StorageFull(Exception):
    """No space left for evidence (the disk, or the configured quota, is full)."""


class TooLarge(Exception):
    """The body is larger than the caller allowed."""


class IncompleteBody(Exception):
    """Reading the request body failed (the connection broke)."""


@dataclass
class Staged:
    """Bytes received into ``tmp/``: not yet evidence."""

    path: Path
    size: int
    sha256: str
    head: bytes  # the first bytes, for content sniffing


def free_bytes(path: str | os.PathLike) -> int:
    """Bytes free for an unprivileged writer on the filesystem of ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def sweep_spool(tmp_dir: Path, idle_seconds: float, now: float | None = None) -> int:
    """Remove files of ``tmp_dir`` not modified for ``idle_seconds``: the spool of
    requests that died with their process. A live request writes its spool file as it
    goes (a completed upload's link is touched when made), so it is younger. The count
    removed."""
    cutoff = (time.time() if now is None else now) - idle_seconds
    removed = 0
    for path in tmp_dir.iterdir():
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's ``sync_file_range(2)`` (not in :mod:`os`), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing ``[offset, offset+length)`` of ``fd`` to disk, not
    waiting for it: the fsync that ends the request then finds most of the bytes
    already written. Only a head start: durability still comes from that fsync."""
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


class Body(Protocol):
    """A request body read into a caller's buffer (see :mod:`server.request_body`)."""

    def readinto(self, buf: memoryview) -> int:
        """Fill the start of ``buf``; the count of bytes, 0 at the end of the body.
        Raises :class:`IncompleteBody` when the connection breaks."""
        ...


class StreamBody:
    """A file-like body (``wsgi.input``, any stream), copied in pieces of ``piece``."""

    def __init__(self, stream: BinaryIO, piece: int = CHUNK) -> None:
        self.stream = stream
        self.piece = piece

    def readinto(self, buf: memoryview) -> int:
        try:
            data = self.stream.read(min(len(buf), self.piece))
        except OSError as exc:  # connection reset while reading the body
            raise IncompleteBody() from exc
        n = len(data)
        buf[:n] = data
        return n


class MediaStore:
    """Filesystem evidence store. ``quota_bytes`` > 0 caps the space it may use.

    The S3 store (:mod:`server.storage_s3`) keeps the same contract for the services:
    ``stage``/``discard``/``committed`` for a direct PUT, ``create_partial``,
    ``partial_size``, ``append`` then ``keep_chunk`` or ``drop_chunk``,
    ``stage_partial`` and ``remove_partial`` for resumable uploads.
    """

    is_local = True

    def __init__(self, root: str | os.PathLike, quota_bytes: int = 0) -> None:
        self.root = Path(root)
        self.quota_bytes = quota_bytes
        self.tmp_dir = self.root / "tmp"
        self.blob_dir = self.root / "blobs"
        self.upload_dir = self.root / "uploads"
        for d in (self.tmp_dir, self.blob_dir, self.upload_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- writing ---------------------------------------------------------------------

    def _room(self) -> int | None:
        """Bytes the quota still allows (None: no quota). Counted once per write (a
        request's body), not per piece: the count walks the whole store. Writes of
        other requests running meanwhile are seen by the next count, so concurrent
        uploads may pass the quota by what they write meanwhile; a really full disk is
        still a clean 507."""
        if not self.quota_bytes:
            return None
        return self.quota_bytes - self.used_bytes()

    def used_bytes(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    pass
        return total

    def _write(self, fd: int, data: memoryview) -> None:
        try:
            while data:
                data = data[os.write(fd, data) :]
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise

    def _receive(
        self,
        fd: int,
        body: Body,
        limit: int,
        hashes: Sequence[Any] = (),
        head: bytearray | None = None,
        at: int = 0,
    ) -> int:
        """Copy up to ``limit`` bytes of ``body`` to ``fd`` (positioned at ``at``),
        feeding ``hashes`` and the first 4 KiB to ``head``; the count of bytes written.
        Every piece received is written before the next is read, so a body cut off
        midway leaves all it delivered in the file. Writeback to disk is started every
        ``WRITEBACK_EVERY`` bytes, so that the caller's final fsync has little left to do.
        """
        buf = memoryview(bytearray(min(BUFFER, max(limit, 1))))
        total = flushed = 0
        room = self._room()
        while total < limit:
            n = body.readinto(buf[: min(len(buf), limit - total)])
            if n == 0:
                break
            piece = buf[:n]
            if head is not None and len(head) < 4096:
                head += piece[: 4096 - len(head)]
            for h in hashes:
                h.update(piece)
            if room is not None:
                if n > room:
                    raise StorageFull()
                room -= n
            self._write(fd, piece)
            total += n
            if total - flushed >= WRITEBACK_EVERY:
                _start_writeback(fd, at + flushed, total - flushed)
                flushed = total
        return total

    def stage(self, body: Body, max_bytes: int) -> Staged:
        """Copy ``body`` into ``tmp/`` while hashing it; fsync before returning.

        Raises :class:`TooLarge` past ``max_bytes``, :class:`StorageFull` when the disk
        or quota is full; whatever the error, the temporary file is removed.
        """
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="in-")
        path = Path(name)
        digest = hashlib.sha256()
        head = bytearray()
        try:
            try:
                size = self._receive(fd, body, max_bytes, (digest,), head)
                if size == max_bytes and body.readinto(memoryview(bytearray(1))):
                    raise TooLarge()
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path=path, size=size, sha256=digest.hexdigest(), head=bytes(head))

    def discard(self, staged: Staged) -> None:
        staged.path.unlink(missing_ok=True)

    def commit(self, src: Path, sha256: str) -> Path:
        """Move verified bytes to their final content-addressed name (atomic rename)."""
        dest = self.blob_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            # The same bytes are already stored: keep one copy.
            src.unlink(missing_ok=True)
            return dest
        os.replace(src, dest)
        _fsync_dir(dest.parent)
        return dest

    @contextmanager
    def committed(self, staged: Staged) -> Iterator[Path]:
        """Store verified bytes under their content address; yield the stored file."""
        yield self.commit(staged.path, staged.sha256)

    # -- reading ---------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.blob_dir / sha256[:2] / sha256[2:4] / sha256

    def has_blob(self, sha256: str) -> bool:
        return self.blob_path(sha256).is_file()

    @staticmethod
    def hash_file(path: Path) -> tuple[int, str, bytes]:
        """Size, SHA-256 and first 4 KiB of a file."""
        digest = hashlib.sha256()
        size = 0
        buf = memoryview(bytearray(BUFFER))
        with path.open("rb", buffering=0) as fh:
            head = fh.read(4096)
            digest.update(head)
            size = len(head)
            while n := fh.readinto(buf):
                digest.update(buf[:n])
                size += n
        return size, digest.hexdigest(), head

    # -- resumable uploads -------------------------------------------------------------

    def partial_path(self, upload_id: str) -> Path:
        return self.upload_dir / upload_id

    def create_partial(self, upload_id: str) -> None:
        path = self.partial_path(upload_id)
        path.touch(exist_ok=True)
        _fsync_dir(self.upload_dir)

    def partial_size(self, upload_id: str) -> int | None:
        try:
            return self.partial_path(upload_id).stat().st_size
        except FileNotFoundError:
            return None

    def append(
        self,
        upload_id: str,
        offset: int,
        body: Body,
        max_bytes: int,
        hashes: Sequence[Any] = (),
    ) -> int:
        """Append up to ``max_bytes`` of ``body`` at ``offset``; return the new offset.

        Every piece is written and the file fsynced (once, at the end, also when the
        body breaks off) before the offset is reported, so the offset a client is told
        is always durably on disk. Bytes received before a cut-off are kept (that is
        what makes the upload resumable). ``hashes``, hashlib objects, are fed every
        byte written (so a file that arrives in one request need not be read back to
        be hashed).
        """
        fd = os.open(self.partial_path(upload_id), os.O_WRONLY)
        try:
            os.ftruncate(fd, offset)  # drop any torn tail past the last acknowledged offset
            os.lseek(fd, offset, os.SEEK_SET)
            try:
                self._receive(fd, body, max_bytes, hashes, at=offset)
            finally:
                os.fsync(fd)
                end = os.lseek(fd, 0, os.SEEK_CUR)
        finally:
            os.close(fd)
        return end

    def keep_chunk(self, upload_id: str) -> int:
        """The bytes :meth:`append` wrote are kept (they are on disk): the new offset."""
        size = self.partial_size(upload_id)
        if size is None:
            raise FileNotFoundError(upload_id)
        return size

    def drop_chunk(self, upload_id: str, offset: int) -> None:
        """Discard what :meth:`append` wrote past ``offset``."""
        if self.partial_size(upload_id) != offset:
            self.truncate_partial(upload_id, offset)

    def stage_partial(self, upload_id: str, sha256: str | None = None) -> Staged:
        """A complete upload's bytes, to verify: a hard link to the partial file in
        ``tmp/`` (no copy, no space), hashed here unless ``sha256`` was computed while
        one request wrote it all. The partial file itself stays until the caller
        removes it once the evidence is recorded, so a completion that fails midway
        (the database, a killed process) is finished again from the same bytes."""
        path = self.partial_path(upload_id)
        link = self.tmp_dir / f"done-{upload_id}-{uuid.uuid4().hex[:12]}"
        try:
            os.link(path, link)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise
        try:
            os.utime(link)  # a fresh spool file: not swept while it is finished
            if sha256 is None:
                size, sha256, head = self.hash_file(link)
            else:
                size = link.stat().st_size
                with link.open("rb") as fh:
                    head = fh.read(4096)
        except BaseException:
            link.unlink(missing_ok=True)
            raise
        return Staged(path=link, size=size, sha256=sha256, head=head)

    def truncate_partial(self, upload_id: str, size: int) -> None:
        with self.partial_path(upload_id).open("r+b") as fh:
            fh.truncate(size)
            os.fsync(fh.fileno())

    def remove_partial(self, upload_id: str) -> None:
        self.partial_path(upload_id).unlink(missing_ok=True)
