"""Evidence storage in an S3-compatible object store (boto3), content-addressed by SHA-256.

The same contract as the filesystem store (:class:`server.storage.MediaStore`), for
several app nodes sharing one bucket. Keys::

    blobs/ab/cd/abcd…ef          verified evidence, named by its SHA-256 (stored once)
    uploads/<id>/created         a resumable (tus) upload exists (an empty marker)
    uploads/<id>/s<offset:016d>  one stored piece of it: the bytes one PATCH delivered,
                                 starting at that offset

* **Visible under its final key only after verification.** Bytes are received into a
  local spool file while hashed (a direct PUT), or a completed upload's pieces are read
  back in order into one while hashed; the caller verifies size, hash and type; only
  then is the file written to ``blobs/…`` (a single PUT: an object appears whole or
  not at all). When the key already exists, the same bytes are stored: nothing is
  written (stored once).
* **Any node continues an upload.** A PATCH's body is spooled locally and stored as
  piece objects: one every ``piece_bytes`` (8 MiB) while it streams, and what remains
  when it ends or is cut off. The upload's offset is the end of the unbroken chain of
  pieces from 0, read from the bucket by whichever node answers. A node killed
  mid-PATCH loses only its spool (less than one piece): the offset is what the bucket
  holds, as the filesystem store's offset is what reached the disk. A discarded chunk
  (checksum mismatch, too long) is not kept: its stored pieces are deleted and its
  spool never stored. A piece at or past a PATCH's offset (left by a crash between
  the store and the answer) is deleted before new bytes are stored there.
* The pieces are not S3 multipart parts (tusd's design): a piece may be any size, so a
  2G phone's 64 KiB PATCH is a durable step, and a chunk can be dropped whole. Their
  cost is one read-back at completion, which also computes the hash to verify (and
  gives the local copy EXIF and the perceptual hash are read from).
* Expired uploads' objects are deleted by the sweep (``uploads expire``), as are
  objects of uploads without a row and multipart uploads left open (none are made by
  this store, but a lifecycle rule is not assumed).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .storage import BUFFER, Body, MediaStore, Staged, StorageFull

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_FULL = {"QuotaExceeded", "EntityTooLarge", "InsufficientStorage", "XMinioStorageFull"}
_PIECE = "s"
_CREATED = "created"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or "some/prefix/"


def parse_s3_url(url: str) -> S3Location:
    """``s3://bucket`` or ``s3://bucket/prefix`` → bucket and key prefix."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3:// URL: {url!r}")
    prefix = parts.path.strip("/")
    return S3Location(parts.netloc, f"{prefix}/" if prefix else "")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Evidence in a bucket; a local ``work_dir`` holds spool files and lock files.

    ``quota_bytes`` > 0 caps what the bucket's evidence and uploads may use (counted by
    listing the bucket at the start of each write, as the filesystem store walks its
    folder).
    """

    is_local = False
    # While a PATCH streams, every this many bytes are stored as a piece.
    piece_bytes = 8 * 1024 * 1024

    def __init__(
        self,
        url: str,
        work_dir: str | os.PathLike,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str | None = None,
        quota_bytes: int = 0,
    ) -> None:
        loc = parse_s3_url(url)
        self.bucket, self.prefix = loc.bucket, loc.prefix
        self.quota_bytes = quota_bytes
        self.work_dir = Path(work_dir)
        self.tmp_dir = self.work_dir / "tmp"
        self.lock_dir = self.work_dir / "locks"
        for d in (self.tmp_dir, self.lock_dir):
            d.mkdir(parents=True, exist_ok=True)
        # The local half (spooling a body while hashing it, quota, sniffing head bytes)
        # is the filesystem store's, on the work folder.
        self._local = MediaStore(self.work_dir)
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    # -- keys ------------------------------------------------------------------------

    def blob_key(self, sha256: str) -> str:
        return f"{self.prefix}blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _upload_prefix(self, upload_id: str) -> str:
        return f"{self.prefix}uploads/{upload_id}/"

    def _piece_key(self, upload_id: str, offset: int) -> str:
        return f"{self._upload_prefix(upload_id)}{_PIECE}{offset:016d}"

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _delete_keys(self, keys: Sequence[str]) -> None:
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            if batch:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )

    def _put_file(self, key: str, path: Path) -> None:
        try:
            with path.open("rb") as fh:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=fh, ContentLength=path.stat().st_size
                )
        except ClientError as exc:
            if _code(exc) in _FULL:
                raise StorageFull() from exc
            raise

    # -- writing ---------------------------------------------------------------------

    def _room(self) -> int | None:
        if not self.quota_bytes:
            return None
        return self.quota_bytes - self.used_bytes()

    def used_bytes(self) -> int:
        return sum(int(o["Size"]) for o in self._list(self.prefix))

    def stage(self, body: Body, max_bytes: int) -> Staged:
        """Spool ``body`` to a local file while hashing it (see MediaStore.stage)."""
        room = self._room()
        limit = max_bytes if room is None else max(0, min(max_bytes, room))
        staged = self._local.stage(body, limit)
        if room is not None and staged.size == limit < max_bytes:
            self._local.discard(staged)
            raise StorageFull()
        return staged

    def discard(self, staged: Staged) -> None:
        staged.path.unlink(missing_ok=True)

    @contextmanager
    def committed(self, staged: Staged) -> Iterator[Path]:
        """Store verified bytes under their content address; yield a local copy to read
        (EXIF, perceptual hash), removed afterwards."""
        try:
            if not self.has_blob(staged.sha256):
                self._put_file(self.blob_key(staged.sha256), staged.path)
            yield staged.path
        finally:
            staged.path.unlink(missing_ok=True)

    # -- reading ---------------------------------------------------------------------

    def has_blob(self, sha256: str) -> bool:
        return self.blob_size(sha256) is not None

    def blob_size(self, sha256: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.blob_key(sha256))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        return int(head["ContentLength"])

    def open_blob(self, sha256: str, byte_range: tuple[int, int] | None = None) -> BinaryIO | None:
        """A streaming reader of the blob (or of ``[start, end]`` of it), None if absent."""
        kw: dict[str, Any] = {"Bucket": self.bucket, "Key": self.blob_key(sha256)}
        if byte_range is not None:
            kw["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        try:
            return self.client.get_object(**kw)["Body"]
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise

    def read_blob(self, sha256: str) -> bytes | None:
        stream = self.open_blob(sha256)
        return None if stream is None else stream.read()

    def blob_keys(self) -> list[str]:
        """The SHA-256 of every stored blob."""
        return [o["Key"].rsplit("/", 1)[1] for o in self._list(f"{self.prefix}blobs/")]

    # -- resumable uploads -------------------------------------------------------------

    def _pieces(self, upload_id: str) -> tuple[bool, list[tuple[int, int, str]]]:
        """(created?, [(offset, size, key)] sorted by offset)."""
        created = False
        pieces: list[tuple[int, int, str]] = []
        for obj in self._list(self._upload_prefix(upload_id)):
            name = obj["Key"].rsplit("/", 1)[1]
            if name == _CREATED:
                created = True
            elif name.startswith(_PIECE) and name[1:].isdigit():
                pieces.append((int(name[1:]), int(obj["Size"]), obj["Key"]))
        return created, sorted(pieces)

    @staticmethod
    def _chain(pieces: list[tuple[int, int, str]]) -> tuple[int, list[tuple[int, int, str]]]:
        """The end of the unbroken run of pieces from offset 0, and those pieces."""
        end, run = 0, []
        for piece in pieces:
            if piece[0] == end and piece[1] > 0:
                run.append(piece)
                end += piece[1]
        return end, run

    def create_partial(self, upload_id: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._upload_prefix(upload_id) + _CREATED, Body=b""
        )

    def partial_size(self, upload_id: str) -> int | None:
        created, pieces = self._pieces(upload_id)
        return self._chain(pieces)[0] if created else None

    def append(
        self,
        upload_id: str,
        offset: int,
        body: Body,
        max_bytes: int,
        hashes: Sequence[Any] = (),
    ) -> int:
        """Receive up to ``max_bytes`` of ``body`` while hashing it; return ``offset``
        plus the bytes received. Every full ``piece_bytes`` is stored as a piece as it
        completes (a node killed mid-PATCH loses at most that much); the rest waits in
        a local spool file for :meth:`keep_chunk` (or :meth:`drop_chunk`, which also
        deletes this PATCH's stored pieces): the caller decides once the chunk is
        checked. A body cut off midway still yields what arrived."""
        _created, pieces = self._pieces(upload_id)
        stale = [key for start, _size, key in pieces if start >= offset]
        self._delete_keys(stale)  # a torn tail past the last acknowledged offset
        room = self._room()
        limit = max_bytes if room is None else min(max_bytes, max(room, 0) + 1)
        total, at = 0, offset
        while True:
            fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"up-{upload_id}-")
            spool = Path(name)
            self._spools[upload_id] = (spool, at)
            want = min(self.piece_bytes, limit - total)
            try:
                n = self._local._receive(fd, body, want, hashes, at=0)
                total += n
                if room is not None and total > room:
                    # Past the quota: what fits is kept (as on a full disk), no more.
                    os.ftruncate(fd, max(n - (total - room), 0))
                    raise StorageFull()
            finally:
                os.close(fd)
            if n < want or total >= limit or want == 0:
                return offset + total
            self._put_file(self._piece_key(upload_id, at), spool)  # a full piece
            spool.unlink(missing_ok=True)
            at += n

    @property
    def _spools(self) -> dict[str, tuple[Path, int]]:
        spools = getattr(self, "_spool_map", None)
        if spools is None:
            spools = self._spool_map = {}
        return spools

    def keep_chunk(self, upload_id: str) -> int:
        """Store the chunk :meth:`append` received as a piece; the new offset."""
        spool, offset = self._spools.pop(upload_id)
        try:
            size = spool.stat().st_size
            if size:
                self._put_file(self._piece_key(upload_id, offset), spool)
            return offset + size
        finally:
            spool.unlink(missing_ok=True)

    def drop_chunk(self, upload_id: str, offset: int) -> None:
        """Forget the chunk :meth:`append` received (the offset stays at ``offset``)."""
        spool, _offset = self._spools.pop(upload_id, (None, 0))
        if spool is not None:
            spool.unlink(missing_ok=True)
        self.truncate_partial(upload_id, offset)

    def truncate_partial(self, upload_id: str, size: int) -> None:
        _created, pieces = self._pieces(upload_id)
        self._delete_keys([key for start, _size, key in pieces if start >= size])

    def remove_partial(self, upload_id: str) -> None:
        keys = [o["Key"] for o in self._list(self._upload_prefix(upload_id))]
        marker = self._upload_prefix(upload_id) + _CREATED
        # The marker first: from then on the upload is gone for every node.
        if marker in keys:
            self._delete_keys([marker])
        self._delete_keys([k for k in keys if k != marker])

    def stage_partial(self, upload_id: str, sha256: str | None = None) -> Staged:
        """A complete upload's pieces read back, in order, into a local file while
        hashed: the bytes to verify (``sha256`` is not trusted here: the pieces are read
        anyway, and hashed as they are)."""
        _created, pieces = self._pieces(upload_id)
        _end, run = self._chain(pieces)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"done-{upload_id}-")
        path = Path(name)
        digest = hashlib.sha256()
        head = bytearray()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for _start, _size, key in run:
                    stream = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                    while data := stream.read(BUFFER):
                        if len(head) < 4096:
                            head += data[: 4096 - len(head)]
                        digest.update(data)
                        out.write(data)
                        size += len(data)
        except OSError as exc:
            path.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull() from exc  # the spool disk is full: 507, not 500
            raise
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path=path, size=size, sha256=digest.hexdigest(), head=bytes(head))

    # -- the sweep ---------------------------------------------------------------------

    def partial_ids_older_than(self, cutoff: datetime) -> list[str]:
        """Uploads whose newest object is older than ``cutoff`` (an aware datetime)."""
        newest: dict[str, datetime] = {}
        base = f"{self.prefix}uploads/"
        for obj in self._list(base):
            upload_id = obj["Key"][len(base) :].split("/", 1)[0]
            at = obj["LastModified"]
            if upload_id not in newest or at > newest[upload_id]:
                newest[upload_id] = at
        return [i for i, at in newest.items() if at < cutoff]

    def abort_stale_multipart(self, cutoff: datetime) -> int:
        """Abort multipart uploads begun before ``cutoff`` (left by any client)."""
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for mpu in page.get("Uploads", []):
                    if mpu["Initiated"] < cutoff:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=mpu["Key"], UploadId=mpu["UploadId"]
                        )
                        aborted += 1
        except ClientError as exc:
            if _code(exc) not in ("NotImplemented", "501"):
                raise
        return aborted
