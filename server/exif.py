"""EXIF extraction for evidence photos: GPS position, capture time, camera, orientation.

Pure functions, no Flask. :func:`read_exif` never raises because of what is *in* a file:
broken, absent or strange EXIF yields ``None`` for whatever cannot be read.

How it works
------------
``exifread`` (3.5.1) does the TIFF/IFD parsing, but its *container* parsers have
version-specific defects that matter for uploads we do not control, so we locate the
EXIF block ourselves (:mod:`server.exif_blocks`) and hand exifread a plain TIFF stream:

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

import logging
import math
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from .exif_blocks import extract_tags

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


_MIN_ALTITUDE_M = -11_000.0
_MAX_ALTITUDE_M = 100_000.0


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
            tags = extract_tags(fh)
        except Exception:  # hostile input must never take the caller down
            return EMPTY_EXIF
    if not tags:
        return EMPTY_EXIF
    return _interpret(tags)


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
