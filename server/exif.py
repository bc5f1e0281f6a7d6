"""EXIF extraction for evidence photos: GPS position, capture time, camera, orientation.

Pure functions, no Flask. :func:`read_exif` never raises because of what is *in* a file:
broken, absent or strange EXIF yields ``None`` for whatever cannot be read.

How it works
------------
``exifread`` (3.5.1) does the TIFF/IFD parsing, but its *container* parsers have
version-specific defects that matter for uploads we do not control, so we locate the
EXIF block ourselves and hand exifread a plain TIFF stream:

* JPEG: exifread only looks at the first ``base + 4000`` bytes, so an APP1 Exif segment that
  follows a large APP2 (ICC profile) or XMP segment is silently missed. We walk the JPEG
  markers ourselves up to SOS.
* HEIC/HEIF: exifread ignores the ``iloc`` ``base_offset`` (libheif, and so pillow-heif,
  writes Exif items with ``base_offset`` set and ``extent_offset == 0``, which makes exifread
  fail an ``assert``), only accepts the major brands ``heic``/``avif``/``mif1`` with minor
  version 0, keeps parsed boxes in a class-level dict shared between calls (not
  thread-safe, leaks state from one file to the next), and loops forever on a box whose
  64-bit size is 0. We parse ``meta``/``iinf``/``iloc``/``idat`` ourselves.
* PNG: exifread decodes every chunk type as ASCII eagerly (for a debug log line), so a
  chunk with a non-ASCII type raises ``UnicodeDecodeError``. We walk the chunks ourselves
  and pass the ``eXIf`` payload on.
* WebP: exifread skips 6 bytes of an assumed ``Exif\0\0`` prefix in the ``EXIF`` chunk,
  which the WebP spec (and Pillow) do not write, so it reads garbage. We walk the RIFF
  chunks ourselves.
* TIFF files go to exifread directly.

exifread itself can raise almost anything on hostile input (``IndexError``,
``AssertionError``, ``struct.error``, ``ZeroDivisionError`` from rationals with a zero
denominator, ...) and can be made to do hundreds of millions of tiny reads by a crafted
IFD, so it always reads through :class:`_BudgetedReader`, and every call is wrapped.
Importing this module sets the ``exifread`` logger to ERROR (unless it was configured
already): exifread logs a WARNING per odd field, thousands for one crafted file.

Value rules
-----------
* ``lat``/``lon``: degrees/minutes/seconds rationals (1, 2 or 3 components are accepted,
  so "decimal degrees" and "degrees + decimal minutes" writers work too) combined with
  ``GPSLatitudeRef`` ``N``/``S`` and ``GPSLongitudeRef`` ``E``/``W`` (``S`` and ``W``
  negative). **A missing or empty reference is treated as N / E (positive)**; a reference
  that is present but is something else is treated as unreadable (``None``). Any zero
  denominator, negative component, minutes or seconds >= 60, ``|lat| > 90`` or
  ``|lon| > 180`` makes the coordinate ``None``. ``lat`` and ``lon`` are returned as a pair:
  if either cannot be read both are ``None`` (half a position is not a position).
  (0, 0) is *not* filtered out: it is a possible, if suspicious, value.
* ``altitude``: metres from ``GPSAltitude``; ``GPSAltitudeRef`` 1 (below sea level, and EXIF
  3.0's 3, negative ellipsoidal height) makes it negative, 0/2 or a missing reference
  positive, anything else ``None``. Values outside -11 000 .. 100 000 m are ``None``.
* ``taken_at``: ``DateTimeOriginal``, falling back to ``DateTimeDigitized`` and then
  ``DateTime`` (the latter is the *modification* time, so it is the last resort). ISO 8601
  ``YYYY-MM-DDTHH:MM:SS``, with ``+HH:MM`` appended when an offset is known: the offset tag
  paired with the chosen time first, then ``OffsetTimeOriginal``, then ``OffsetTime``, then
  ``OffsetTimeDigitized``. Impossible dates (month 13, ``0000:00:00 00:00:00``) are ``None``;
  a malformed offset is ignored (the time is kept, naive).
* ``make``/``model``: NULs and surrounding whitespace stripped; empty means ``None``.
* ``orientation``: the EXIF Orientation as an int in 1..8, else ``None``.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import struct
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, BinaryIO

import exifread

__all__ = ["EMPTY_EXIF", "ExifData", "read_exif"]

# exifread logs a WARNING per odd field or short read; one crafted upload can emit
# thousands. Nothing there is actionable for us, so keep only errors unless someone has
# configured the "exifread" logger explicitly.
_exifread_logger = logging.getLogger("exifread")
if _exifread_logger.level == logging.NOTSET:
    _exifread_logger.setLevel(logging.ERROR)


@dataclass(frozen=True)
class ExifData:
    """What we could read from a file's EXIF; every field is ``None`` when unknown."""

    lat: float | None = None
    lon: float | None = None
    altitude: float | None = None  # metres, negative below sea level
    taken_at: str | None = None  # ISO 8601, with offset only when the file records one
    make: str | None = None
    model: str | None = None
    orientation: int | None = None  # 1..8

    def to_dict(self) -> dict[str, object]:
        """Plain dict with exactly the keys lat, lon, altitude, taken_at, make, model,
        orientation (JSON-serialisable)."""
        return asdict(self)


EMPTY_EXIF = ExifData()

# --- limits ---------------------------------------------------------------------------

_MAX_EXIF_BYTES = 8 * 1024 * 1024  # an EXIF block larger than this is not a photo's EXIF
_MAX_META_BYTES = 4 * 1024 * 1024  # HEIF 'meta' box we are willing to load
_MAX_TOP_LEVEL_BOXES = 1024
_MAX_JPEG_SEGMENTS = 1024
_MAX_CHUNKS = 100_000
_MAX_READ_OPS = 200_000  # reads + seeks exifread may do on one file (normal: a few hundred)
_MAX_READ_CHUNK = 1024 * 1024  # largest single read exifread may do
_MAX_READ_TOTAL = 64 * 1024 * 1024

_MIN_ALTITUDE_M = -11_000.0
_MAX_ALTITUDE_M = 100_000.0


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


# --- public API -----------------------------------------------------------------------


def read_exif(path: str | os.PathLike[str]) -> ExifData:
    """Read GPS position, capture time, make/model and orientation from an image file.

    Works for JPEG, TIFF, PNG (``eXIf`` chunk), HEIC/HEIF and WebP. Never raises because
    of the file's content (broken, truncated, hostile or non-image bytes): what cannot be
    read is ``None``. Errors *opening* ``path`` (missing file, permissions) are the
    caller's problem and propagate as :class:`OSError`.

    A missing ``GPSLatitudeRef``/``GPSLongitudeRef`` is treated as N/E (positive); see
    the module docstring for every rule.
    """
    with open(path, "rb") as fh:
        try:
            tags = _extract_tags(fh)
        except Exception:  # hostile input must never take the caller down
            return EMPTY_EXIF
    if not tags:
        return EMPTY_EXIF
    return _interpret(tags)


# --- container parsing ----------------------------------------------------------------


def _extract_tags(fh: BinaryIO) -> dict[str, Any]:
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


# --- interpretation -------------------------------------------------------------------


def _interpret(tags: dict[str, Any]) -> ExifData:
    lat, lon = _position(tags)
    return ExifData(
        lat=lat,
        lon=lon,
        altitude=_safe(_altitude, tags),
        taken_at=_safe(_taken_at, tags),
        make=_safe(_text, tags, "Image Make"),
        model=_safe(_text, tags, "Image Model"),
        orientation=_safe(_orientation, tags),
    )


def _safe(func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except Exception:  # one odd tag must not cost us the others
        return None


def _values(tags: dict[str, Any], key: str) -> Any:
    tag = tags.get(key)
    return getattr(tag, "values", None) if tag is not None else None


def _number(value: Any) -> float | None:
    """A rational/int/float tag component as float; None for 0 denominators, NaN, inf."""
    if isinstance(value, tuple):  # exifread wraps FLOAT/DOUBLE values in 1-tuples
        if len(value) != 1:
            return None
        value = value[0]
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        result = float(value)
    elif isinstance(value, float):
        result = value
    elif hasattr(value, "numerator") and hasattr(value, "denominator"):
        # exifread's Ratio keeps a zero denominator instead of raising; float() would.
        num, den = int(value.numerator), int(value.denominator)
        if den == 0:
            return None
        result = num / den
    else:
        return None
    return result if math.isfinite(result) else None


def _text_value(raw: Any) -> str | None:
    if isinstance(raw, list) and all(isinstance(v, int) and 0 <= v < 256 for v in raw):
        raw = bytes(raw)  # a text tag stored as BYTE/UNDEFINED
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = raw.decode("latin-1")
    if not isinstance(raw, str):
        return None
    cleaned = raw.replace("\x00", "").strip()
    return cleaned or None


def _text(tags: dict[str, Any], key: str) -> str | None:
    return _text_value(_values(tags, key))


def _dms(values: Any, max_degrees: float) -> float | None:
    if not isinstance(values, list) or not 1 <= len(values) <= 3:
        return None
    parts: list[float] = []
    for value in values:
        number = _number(value)
        if number is None or number < 0:
            return None
        parts.append(number)
    degrees, minutes, seconds = (parts + [0.0, 0.0])[:3]
    if minutes >= 60 or seconds >= 60:
        return None
    total = degrees + minutes / 60 + seconds / 3600
    return total if total <= max_degrees else None


def _sign(tags: dict[str, Any], key: str, positive: str, negative: str) -> int | None:
    if key not in tags:
        return 1  # documented: a missing reference means N / E
    ref = _text_value(_values(tags, key))
    if ref is None:
        return 1
    ref = ref.upper()
    if ref == positive:
        return 1
    if ref == negative:
        return -1
    return None


def _coordinate(tags: dict[str, Any], axis: str, max_degrees: float) -> float | None:
    value = _dms(_values(tags, f"GPS GPS{axis}"), max_degrees)
    if value is None:
        return None
    positive, negative = ("N", "S") if axis == "Latitude" else ("E", "W")
    sign = _sign(tags, f"GPS GPS{axis}Ref", positive, negative)
    if sign is None:
        return None
    return sign * value if value else 0.0


def _position(tags: dict[str, Any]) -> tuple[float | None, float | None]:
    lat = _safe(_coordinate, tags, "Latitude", 90.0)
    lon = _safe(_coordinate, tags, "Longitude", 180.0)
    if lat is None or lon is None:
        return None, None
    return lat, lon


def _altitude(tags: dict[str, Any]) -> float | None:
    values = _values(tags, "GPS GPSAltitude")
    if not isinstance(values, list) or len(values) != 1:
        return None
    metres = _number(values[0])
    if metres is None or metres < 0:
        return None
    ref_values = _values(tags, "GPS GPSAltitudeRef")
    ref: int | None
    if ref_values is None:
        ref = 0
    elif isinstance(ref_values, list) and len(ref_values) == 1 and isinstance(ref_values[0], int):
        ref = ref_values[0]
    else:
        text = _text_value(ref_values)
        ref = int(text) if text is not None and text.isdigit() else None
    if ref in (1, 3):  # below sea level / negative ellipsoidal height (EXIF 3.0)
        metres = -metres
    elif ref not in (0, 2):
        return None
    if not _MIN_ALTITUDE_M <= metres <= _MAX_ALTITUDE_M:
        return None
    return metres if metres else 0.0


_DATETIME_RE = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET_RE = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")

# (time tag, its own offset tag)
_TIME_SOURCES = (
    ("EXIF DateTimeOriginal", "EXIF OffsetTimeOriginal"),
    ("EXIF DateTimeDigitized", "EXIF OffsetTimeDigitized"),
    ("Image DateTime", "EXIF OffsetTime"),
)
_OFFSET_FALLBACKS = ("EXIF OffsetTimeOriginal", "EXIF OffsetTime", "EXIF OffsetTimeDigitized")


def _parse_datetime(raw: str | None) -> str | None:
    if raw is None:
        return None
    match = _DATETIME_RE.match(raw)
    if not match:
        return None
    try:
        parsed = datetime(*map(int, match.groups()))
    except ValueError:
        return None
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def _parse_offset(raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw.strip().upper() == "Z":
        return "+00:00"
    match = _OFFSET_RE.match(raw)
    if not match:
        return None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if minutes >= 60 or hours * 60 + minutes > 14 * 60:
        return None
    return f"{sign}{hours:02d}:{minutes:02d}"


def _taken_at(tags: dict[str, Any]) -> str | None:
    for time_key, own_offset_key in _TIME_SOURCES:
        stamp = _parse_datetime(_text(tags, time_key))
        if stamp is None:
            continue
        for offset_key in (own_offset_key, *_OFFSET_FALLBACKS):
            offset = _parse_offset(_text(tags, offset_key))
            if offset is not None:
                return stamp + offset
        return stamp
    return None


def _orientation(tags: dict[str, Any]) -> int | None:
    values = _values(tags, "Image Orientation")
    if not isinstance(values, list) or len(values) != 1:
        return None
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= 8 else None
