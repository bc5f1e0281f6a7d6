"""Finding the EXIF block inside an uploaded image's container, safely.

Pure functions, no Flask. :func:`extract_tags` returns exifread's tags for the EXIF
block of a JPEG, PNG, WebP, HEIC/HEIF/AVIF or TIFF file, or ``{}``; the rules that turn
those tags into values are in :mod:`server.exif`, which explains why we walk the
containers ourselves instead of letting exifread do it (its container parsers have
version-specific defects on uploads we do not control).

exifread always reads through :class:`_BudgetedReader`, which caps the I/O a crafted
IFD can make it do; every call is wrapped, since it raises almost anything on hostile
input.
"""

from __future__ import annotations

import io
import struct
from typing import Any, BinaryIO

import exifread

__all__ = ["extract_tags"]

# --- limits ---------------------------------------------------------------------------

_MAX_EXIF_BYTES = 8 * 1024 * 1024  # an EXIF block larger than this is not a photo's EXIF
_MAX_META_BYTES = 4 * 1024 * 1024  # HEIF 'meta' box we are willing to load
_MAX_TOP_LEVEL_BOXES = 1024
_MAX_JPEG_SEGMENTS = 1024
_MAX_CHUNKS = 100_000
_MAX_READ_OPS = 200_000  # reads + seeks exifread may do on one file (normal: a few hundred)
_MAX_READ_CHUNK = 1024 * 1024  # largest single read exifread may do
_MAX_READ_TOTAL = 64 * 1024 * 1024


class _Malformed(Exception):
    """A container structure we cannot follow."""


class _BudgetExceeded(Exception):
    """exifread did more I/O than any sane EXIF block needs."""


class _BudgetedReader:
    """Read-only, seekable view of a binary stream that caps the I/O exifread may do."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._ops = 0
        self._total = 0

    def _tick(self) -> None:
        self._ops += 1
        if self._ops > _MAX_READ_OPS:
            raise _BudgetExceeded("too many reads")

    def read(self, size: int | None = -1) -> bytes:
        self._tick()
        if size is None or size < 0 or size > _MAX_READ_CHUNK:
            size = _MAX_READ_CHUNK
        data = self._raw.read(size)
        self._total += len(data)
        if self._total > _MAX_READ_TOTAL:
            raise _BudgetExceeded("too many bytes read")
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._tick()
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


# --- container parsing ----------------------------------------------------------------


def extract_tags(fh: BinaryIO) -> dict[str, Any]:
    """exifread's tags of the file's EXIF block (``{}`` when there is none or it is
    unreadable). May raise on a malformed container: callers wrap it."""
    head = fh.read(16)
    fh.seek(0)
    if head[:2] == b"\xff\xd8":
        return _tags_from_tiff_blob(_jpeg_exif_blob(fh))
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return _tags_from_tiff_blob(_png_exif_blob(fh))
    if head[4:8] == b"ftyp":
        return _tags_from_tiff_blob(_isobmff_exif_blob(fh))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _tags_from_tiff_blob(_webp_exif_blob(fh))
    if _is_tiff_header(head):
        return _run_exifread(fh)
    return {}


def _is_tiff_header(data: bytes) -> bool:
    return data[:4] in (b"II*\x00", b"MM\x00*")


def _tags_from_tiff_blob(blob: bytes | None) -> dict[str, Any]:
    if not blob or not _is_tiff_header(blob):
        return {}
    return _run_exifread(io.BytesIO(blob))


def _run_exifread(fh: BinaryIO) -> dict[str, Any]:
    try:
        tags = exifread.process_file(
            _BudgetedReader(fh),  # type: ignore[arg-type]
            details=False,
            extract_thumbnail=False,
        )
    except Exception:  # exifread raises all sorts on hostile input
        return {}
    return tags if isinstance(tags, dict) else {}


def _read_exact(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise _Malformed("truncated")
    return data


def _jpeg_exif_blob(fh: BinaryIO) -> bytes | None:
    """Return the TIFF payload of the first APP1 'Exif' segment, scanning up to SOS."""
    if fh.read(2) != b"\xff\xd8":
        return None
    for _ in range(_MAX_JPEG_SEGMENTS):
        byte = fh.read(1)
        if byte != b"\xff":
            return None  # not at a marker: corrupt stream
        marker = fh.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fh.read(1)
        if not marker:
            return None
        code = marker[0]
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # TEM, RSTn: no length
            continue
        if code in (0xD9, 0xDA):  # EOI, SOS: no EXIF before the image data
            return None
        length_bytes = fh.read(2)
        if len(length_bytes) != 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if length < 2:
            return None
        if code == 0xE1:
            payload = fh.read(length - 2)  # may be short if truncated: read what we can
            if payload[:4] == b"Exif" and len(payload) > 6:
                return payload[6:]
            continue
        fh.seek(length - 2, io.SEEK_CUR)
    return None


def _png_exif_blob(fh: BinaryIO) -> bytes | None:
    """Return the payload of the PNG ``eXIf`` chunk (before or after IDAT)."""
    fh.seek(8)
    for _ in range(_MAX_CHUNKS):
        header = fh.read(8)
        if len(header) != 8:
            return None
        length = struct.unpack(">I", header[:4])[0]
        ctype = header[4:8]
        if ctype == b"IEND":
            return None
        if ctype == b"eXIf":
            if length > _MAX_EXIF_BYTES:
                return None
            payload = fh.read(length)
            if payload.startswith(b"Exif\x00\x00"):  # some writers keep the JPEG prefix
                payload = payload[6:]
            return payload
        fh.seek(length + 4, io.SEEK_CUR)  # data + CRC
    return None


def _webp_exif_blob(fh: BinaryIO) -> bytes | None:
    """Return the payload of the WebP ``EXIF`` chunk."""
    fh.seek(12)
    for _ in range(_MAX_CHUNKS):
        header = fh.read(8)
        if len(header) != 8:
            return None
        length = struct.unpack("<I", header[4:8])[0]
        if header[:4] == b"EXIF":
            if length > _MAX_EXIF_BYTES:
                return None
            payload = fh.read(length)
            if payload.startswith(b"Exif\x00\x00"):  # pre-spec writers
                payload = payload[6:]
            return payload
        fh.seek(length + (length & 1), io.SEEK_CUR)  # chunks are padded to even sizes
    return None


def _isobmff_exif_blob(fh: BinaryIO) -> bytes | None:
    """Find the 'Exif' item of a HEIF file and return its TIFF payload."""
    fh.seek(0, io.SEEK_END)
    file_size = fh.tell()
    pos = 0
    for _ in range(_MAX_TOP_LEVEL_BOXES):
        if pos + 8 > file_size:
            return None
        fh.seek(pos)
        size, btype = struct.unpack(">I4s", _read_exact(fh, 8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", _read_exact(fh, 8))[0]
            header = 16
        elif size == 0:
            size = file_size - pos
        if size < header:
            return None
        if btype == b"meta":
            body_len = min(size, file_size - pos) - header
            if not 0 <= body_len <= _MAX_META_BYTES:
                return None
            return _heif_exif_from_meta(fh, _read_exact(fh, body_len), file_size)
        pos += size
    return None


def _iter_boxes(data: bytes, start: int = 0) -> list[tuple[bytes, bytes]]:
    """Split a run of boxes in memory into (type, body) pairs."""
    boxes: list[tuple[bytes, bytes]] = []
    pos = start
    while pos + 8 <= len(data):
        size, btype = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            break
        boxes.append((btype, data[pos + header : pos + size]))
        pos += size
    return boxes


class _Cursor:
    """Bounds-checked big-endian reader over bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Malformed("box too short")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        if n == 0:
            return 0
        if n not in (1, 2, 4, 8):
            raise _Malformed(f"bad field size {n}")
        return int.from_bytes(self.take(n), "big")


def _heif_exif_from_meta(fh: BinaryIO, meta: bytes, file_size: int) -> bytes | None:
    # HEIF 'meta' is a full box (4 bytes version/flags); QuickTime's is not.
    start = 0 if meta[4:8] == b"hdlr" else 4
    children = dict(reversed(_iter_boxes(meta, start)))  # first occurrence wins
    if b"iinf" not in children or b"iloc" not in children:
        return None
    exif_id = _heif_exif_item_id(children[b"iinf"])
    if exif_id is None:
        return None
    location = _heif_item_location(children[b"iloc"], exif_id)
    if location is None:
        return None
    method, base_offset, extents = location
    parts: list[bytes] = []
    total = 0
    idat = children.get(b"idat", b"")
    for offset, length in extents:
        start_at = base_offset + offset
        if method == 0:
            if length == 0:
                length = file_size - start_at
            if start_at < 0 or start_at + length > file_size:
                return None
        elif method == 1:
            if length == 0:
                length = len(idat) - start_at
            if start_at < 0 or start_at + length > len(idat):
                return None
        else:
            return None  # construction_method 2 (item offsets): not used for Exif
        total += length
        if total > _MAX_EXIF_BYTES:
            return None
        if method == 0:
            fh.seek(start_at)
            parts.append(_read_exact(fh, length))
        else:
            parts.append(idat[start_at : start_at + length])
    return _strip_heif_exif_header(b"".join(parts))


def _heif_exif_item_id(iinf: bytes) -> int | None:
    cur = _Cursor(iinf)
    version = cur.uint(1)
    cur.take(3)
    cur.uint(2 if version == 0 else 4)  # entry_count: we simply read the boxes that follow
    for btype, body in _iter_boxes(iinf, cur.pos):
        if btype != b"infe" or len(body) < 4:
            continue
        entry = _Cursor(body)
        infe_version = entry.uint(1)
        entry.take(3)
        if infe_version not in (2, 3):
            continue  # versions 0/1 have no item_type
        item_id = entry.uint(2 if infe_version == 2 else 4)
        entry.uint(2)  # item_protection_index
        if entry.take(4) == b"Exif":
            return item_id
    return None


def _heif_item_location(iloc: bytes, wanted: int) -> tuple[int, int, list[tuple[int, int]]] | None:
    cur = _Cursor(iloc)
    version = cur.uint(1)
    cur.take(3)
    if version > 2:
        return None
    sizes = cur.uint(1)
    offset_size, length_size = sizes >> 4, sizes & 0x0F
    sizes = cur.uint(1)
    base_offset_size = sizes >> 4
    index_size = sizes & 0x0F if version in (1, 2) else 0
    item_count = cur.uint(2 if version < 2 else 4)
    for _ in range(item_count):
        item_id = cur.uint(2 if version < 2 else 4)
        method = cur.uint(2) & 0x0F if version in (1, 2) else 0
        cur.uint(2)  # data_reference_index
        base_offset = cur.uint(base_offset_size)
        extent_count = cur.uint(2)
        extents: list[tuple[int, int]] = []
        for _ in range(extent_count):
            if index_size:
                cur.uint(index_size)
            extents.append((cur.uint(offset_size), cur.uint(length_size)))
        if item_id == wanted:
            return method, base_offset, extents
    return None


def _strip_heif_exif_header(payload: bytes) -> bytes | None:
    """An Exif item starts with a 4-byte offset to the TIFF header (ISO/IEC 23008-12),
    usually followed by ``Exif\\0\\0``; some writers omit the offset or use an APP1 header."""
    if len(payload) >= 8:
        skip = struct.unpack(">I", payload[:4])[0]
        if 4 + skip < len(payload) and _is_tiff_header(payload[4 + skip : 8 + skip]):
            return payload[4 + skip :]
    for candidate in (b"II*\x00", b"MM\x00*"):
        idx = payload.find(candidate, 0, 64)
        if idx >= 0:
            return payload[idx:]
    return None
