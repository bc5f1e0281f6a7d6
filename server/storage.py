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

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

# 64 KiB reads: under gunicorn, larger reads of a request body are markedly slower
# (its body reader copies buffers), see bench/README.md.
CHUNK = 64 * 1024


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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def iter_chunks(stream: BinaryIO, limit: int | None = None) -> Iterator[bytes]:
    """Read ``stream`` in chunks, at most ``limit`` bytes when given."""
    remaining = limit
    while remaining is None or remaining > 0:
        want = CHUNK if remaining is None else min(CHUNK, remaining)
        try:
            data = stream.read(want)
        except OSError as exc:  # connection reset while reading the body
            raise IncompleteBody() from exc
        if not data:
            return
        if remaining is not None:
            remaining -= len(data)
        yield data


class MediaStore:
    """Filesystem evidence store. ``quota_bytes`` > 0 caps the space it may use."""

    def __init__(self, root: str | os.PathLike, quota_bytes: int = 0) -> None:
        self.root = Path(root)
        self.quota_bytes = quota_bytes
        self.tmp_dir = self.root / "tmp"
        self.blob_dir = self.root / "blobs"
        self.upload_dir = self.root / "uploads"
        for d in (self.tmp_dir, self.blob_dir, self.upload_dir):
            d.mkdir(parents=True, exist_ok=True)

    # -- writing ---------------------------------------------------------------------

    def _check_space(self, incoming: int) -> None:
        if self.quota_bytes and self.used_bytes() + incoming > self.quota_bytes:
            raise StorageFull()

    def used_bytes(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    pass
        return total

    def _write(self, fh: BinaryIO, data: bytes) -> None:
        self._check_space(len(data))
        try:
            fh.write(data)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc
            raise

    def stage(self, stream: BinaryIO, max_bytes: int) -> Staged:
        """Copy ``stream`` into ``tmp/`` while hashing it; fsync before returning.

        Raises :class:`TooLarge` past ``max_bytes``, :class:`StorageFull` when the disk
        or quota is full; whatever the error, the temporary file is removed.
        """
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="in-")
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in iter_chunks(stream, max_bytes + 1):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge()
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    digest.update(chunk)
                    self._write(fh, chunk)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path=path, size=size, sha256=digest.hexdigest(), head=head)

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
        head = b""
        with path.open("rb") as fh:
            for chunk in iter_chunks(fh):
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                size += len(chunk)
                digest.update(chunk)
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
        stream: BinaryIO,
        max_bytes: int,
        digest: Any = None,
    ) -> int:
        """Append up to ``max_bytes`` from ``stream`` at ``offset``; return the new offset.

        Every chunk is written and the file fsynced before the offset is reported, so
        the offset a client is told is always durably on disk. Bytes received before a
        cut-off are kept (that is what makes the upload resumable). ``digest``, a
        hashlib object, is fed every byte written (so a file that arrives in one
        request need not be read back to be hashed).
        """
        path = self.partial_path(upload_id)
        with path.open("r+b") as fh:
            fh.truncate(offset)  # drop any torn tail past the last acknowledged offset
            fh.seek(offset)
            try:
                for chunk in iter_chunks(stream, max_bytes):
                    self._write(fh, chunk)
                    if digest is not None:
                        digest.update(chunk)
            finally:
                fh.flush()
                os.fsync(fh.fileno())
                end = fh.tell()
        return end

    def truncate_partial(self, upload_id: str, size: int) -> None:
        with self.partial_path(upload_id).open("r+b") as fh:
            fh.truncate(size)
            os.fsync(fh.fileno())

    def remove_partial(self, upload_id: str) -> None:
        self.partial_path(upload_id).unlink(missing_ok=True)
