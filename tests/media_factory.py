"""Deterministic test media: images with known EXIF, and plausible video heads.

Images are drawn with Pillow from a seeded RNG and EXIF is written with piexif, so the
same arguments always give the same bytes (for a given Pillow/libjpeg/x265 build).

EXIF keyword arguments (:class:`ExifFields`) of :func:`exif_bytes`, taken as keywords by
:func:`make_jpeg`, :func:`make_png`, :func:`make_heic`, :func:`make_tiff` and
:func:`make_webp` beside their own ``size`` and ``seed``:

* ``lat``/``lon`` in signed decimal degrees, written as D/M/S rationals (seconds with
  denominator 10 000, i.e. ~3e-8 degree resolution) plus N/S, E/W references;
  ``omit_lat_ref``/``omit_lon_ref`` leave the reference out (the absolute value is written);
  ``zero_denominator`` writes the seconds (and the altitude) with a 0 denominator.
* ``altitude`` in metres, negative below sea level (``GPSAltitudeRef`` 1).
* ``taken_at``: ``datetime`` or a string, ISO (``2026-11-20T08:15:00``) or EXIF
  (``2026:11:20 08:15:00``); it goes to DateTimeOriginal. ``offset`` (``+07:00``) goes to
  OffsetTimeOriginal. Strings are written verbatim apart from the ISO-to-EXIF conversion,
  so impossible dates can be written too.
* ``make``, ``model``, ``orientation``.
* keyword-only ``maker_note`` (raw MakerNote bytes) and ``extra_exif``, a piexif-style dict
  ``{"0th": {...}, "Exif": {...}, "GPS": {...}}`` merged over (and able to replace) the above.
"""

from __future__ import annotations

import io
import random
import struct
from datetime import datetime
from typing import Any, TypedDict, Unpack

import piexif
from PIL import Image, ImageDraw

__all__ = [
    "ExifFields",
    "exif_bytes",
    "make_ftyp_head",
    "make_heic",
    "make_jpeg",
    "make_mov_head",
    "make_mp4_head",
    "make_photo",
    "make_png",
    "make_tiff",
    "make_webm_head",
    "make_webp",
]

_SECONDS_DENOMINATOR = 10_000


# --- EXIF -----------------------------------------------------------------------------


def _dms(value: float, zero_denominator: bool) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * _SECONDS_DENOMINATOR)
    if seconds >= 60 * _SECONDS_DENOMINATOR:  # rounding carried into the next minute
        seconds -= 60 * _SECONDS_DENOMINATOR
        minutes += 1
    if minutes >= 60:
        minutes -= 60
        degrees += 1
    den = 0 if zero_denominator else _SECONDS_DENOMINATOR
    return ((degrees, 1), (minutes, 1), (seconds, den))


def _exif_time(taken_at: datetime | str) -> bytes:
    if isinstance(taken_at, datetime):
        return taken_at.strftime("%Y:%m:%d %H:%M:%S").encode()
    text = taken_at
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":
        text = text[:10].replace("-", ":") + " " + text[11:19]
    return text.encode()


def exif_bytes(
    lat: float | None = None,
    lon: float | None = None,
    altitude: float | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    make: str | None = None,
    model: str | None = None,
    orientation: int | None = None,
    *,
    omit_lat_ref: bool = False,
    omit_lon_ref: bool = False,
    zero_denominator: bool = False,
    maker_note: bytes | None = None,
    extra_exif: dict[str, dict[int, Any]] | None = None,
) -> bytes | None:
    """``piexif.dump`` of the given fields (``b"Exif\\0\\0" + TIFF``), or None if none."""
    zeroth: dict[int, Any] = {}
    exif: dict[int, Any] = {}
    gps: dict[int, Any] = {}
    if make is not None:
        zeroth[piexif.ImageIFD.Make] = make.encode()
    if model is not None:
        zeroth[piexif.ImageIFD.Model] = model.encode()
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    if taken_at is not None:
        exif[piexif.ExifIFD.DateTimeOriginal] = _exif_time(taken_at)
    if offset is not None:
        exif[piexif.ExifIFD.OffsetTimeOriginal] = offset.encode()
    if maker_note is not None:
        exif[piexif.ExifIFD.MakerNote] = maker_note
    if lat is not None:
        gps[piexif.GPSIFD.GPSLatitude] = _dms(lat, zero_denominator)
        if not omit_lat_ref:
            gps[piexif.GPSIFD.GPSLatitudeRef] = b"S" if lat < 0 else b"N"
    if lon is not None:
        gps[piexif.GPSIFD.GPSLongitude] = _dms(lon, zero_denominator)
        if not omit_lon_ref:
            gps[piexif.GPSIFD.GPSLongitudeRef] = b"W" if lon < 0 else b"E"
    if altitude is not None:
        gps[piexif.GPSIFD.GPSAltitude] = (
            round(abs(altitude) * 100),
            0 if zero_denominator else 100,
        )
        gps[piexif.GPSIFD.GPSAltitudeRef] = 1 if altitude < 0 else 0
    ifds = {"0th": zeroth, "Exif": exif, "GPS": gps}
    for name, entries in (extra_exif or {}).items():
        ifds.setdefault(name, {}).update(entries)
    if not any(ifds.values()):
        return None
    return piexif.dump(ifds)


# --- images ---------------------------------------------------------------------------


def _draw_scene(seed: int, size: tuple[int, int], shapes: int) -> Image.Image:
    """A random-but-deterministic scene: background plus rectangles and ellipses."""
    rng = random.Random(seed)
    width, height = size

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    image = Image.new("RGB", size, colour())
    draw = ImageDraw.Draw(image)
    for _ in range(shapes):
        x0, x1 = sorted((rng.randrange(width), rng.randrange(width)))
        y0, y1 = sorted((rng.randrange(height), rng.randrange(height)))
        box = (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))
        if rng.random() < 0.5:
            draw.rectangle(box, fill=colour())
        else:
            draw.ellipse(box, fill=colour())
    return image


def _save(image: Image.Image, fmt: str, exif: bytes | None, **params: Any) -> bytes:
    buffer = io.BytesIO()
    if exif is not None:
        params["exif"] = exif
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


class ExifFields(TypedDict, total=False):
    """The keyword arguments of :func:`exif_bytes`, taken by every ``make_*`` image maker."""

    lat: float | None
    lon: float | None
    altitude: float | None
    taken_at: datetime | str | None
    offset: str | None
    make: str | None
    model: str | None
    orientation: int | None
    omit_lat_ref: bool
    omit_lon_ref: bool
    zero_denominator: bool
    maker_note: bytes | None
    extra_exif: dict[str, dict[int, Any]] | None


def _picture(fmt: str, size: tuple[int, int], seed: int, exif: ExifFields, **params: Any) -> bytes:
    """A small scene (8 shapes) saved as ``fmt`` with the given EXIF fields."""
    return _save(_draw_scene(seed, size, 8), fmt, exif_bytes(**exif), **params)


def make_jpeg(size: tuple[int, int] = (64, 48), seed: int = 0, **exif: Unpack[ExifFields]) -> bytes:
    """A small JPEG with the given EXIF (none at all when no field is given)."""
    return _picture("JPEG", size, seed, exif, quality=90)


def make_png(size: tuple[int, int] = (64, 48), seed: int = 0, **exif: Unpack[ExifFields]) -> bytes:
    """A small PNG; EXIF goes into an ``eXIf`` chunk (Pillow drops the Exif\\0\\0 prefix)."""
    return _picture("PNG", size, seed, exif)


def make_heic(size: tuple[int, int] = (64, 48), seed: int = 0, **exif: Unpack[ExifFields]) -> bytes:
    """A small HEIC (HEVC, via pillow-heif/libheif/x265); ftyp ``heic``, compat mif1/heic.

    libheif stores the Exif item with an ``iloc`` base_offset, which exifread 3.5.1's own
    HEIC reader cannot follow; ``server.exif`` has its own HEIF parser for that reason.
    """
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _picture("HEIF", size, seed, exif, quality=80)


def make_tiff(size: tuple[int, int] = (64, 48), seed: int = 0, **exif: Unpack[ExifFields]) -> bytes:
    """A small uncompressed TIFF. Pillow 12 writes the piexif block's Exif and GPS
    sub-IFDs into the TIFF itself, and exifread sees them."""
    return _picture("TIFF", size, seed, exif)


def make_webp(size: tuple[int, int] = (64, 48), seed: int = 0, **exif: Unpack[ExifFields]) -> bytes:
    """A small WebP with an EXIF chunk (not an allowed upload type; EXIF still reads)."""
    return _picture("WEBP", size, seed, exif, quality=80)


def make_photo(seed: int, size: tuple[int, int] = (640, 480)) -> bytes:
    """A JPEG of a random-but-deterministic scene (no EXIF), for perceptual-hash tests.

    Different seeds give visibly different scenes; the same seed gives the same bytes.
    """
    return _save(_draw_scene(seed, size, 40), "JPEG", None, quality=90)


# --- video heads ----------------------------------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _pad_with_mdat(head: bytes, total: int) -> bytes:
    """Append an ``mdat`` box of zeros so the result is ``total`` bytes long (if it can)."""
    padding = max(total - len(head) - 8, 0)
    return head + _box(b"mdat", bytes(padding))


def make_ftyp_head(
    major: bytes,
    compat: tuple[bytes, ...] = (),
    minor: int = 0,
    total: int = 4096,
) -> bytes:
    """An ISO-BMFF head: ``ftyp`` with the given brands, a ``free`` box, then ``mdat``."""
    ftyp = _box(b"ftyp", major + struct.pack(">I", minor) + b"".join(compat))
    return _pad_with_mdat(ftyp + _box(b"free", b""), total)


def make_mp4_head(
    major: bytes = b"isom",
    compat: tuple[bytes, ...] = (b"isom", b"iso2", b"avc1", b"mp41"),
    total: int = 4096,
) -> bytes:
    """The start of an MP4 as phones write it: ftyp isom (iso2, avc1, mp41), free, mdat."""
    return make_ftyp_head(major, compat, minor=0x200, total=total)


def make_mov_head(with_ftyp: bool = True, first_atom: bytes = b"wide", total: int = 4096) -> bytes:
    """The start of a QuickTime movie.

    With ``with_ftyp`` (as iPhones write it): ``ftyp qt`` then a ``wide`` atom and ``mdat``.
    Without it (classic QuickTime): the file starts with ``first_atom`` — ``wide``, ``free``,
    ``skip``, ``moov`` or ``mdat``.
    """
    if with_ftyp:
        ftyp = _box(b"ftyp", b"qt  " + struct.pack(">I", 0x20050300) + b"qt  ")
        return _pad_with_mdat(ftyp + _box(b"wide", b""), total)
    if first_atom == b"mdat":
        return _pad_with_mdat(b"", total)
    if first_atom == b"moov":
        mvhd = _box(b"mvhd", bytes(100))
        return _pad_with_mdat(_box(b"moov", mvhd), total)
    return _pad_with_mdat(_box(first_atom, bytes(8 if first_atom != b"wide" else 0)), total)


def _ebml_element(element_id: int, payload: bytes) -> bytes:
    id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    if len(payload) >= 127:
        raise ValueError("keep test EBML elements short")
    return id_bytes + bytes([0x80 | len(payload)]) + payload


def make_webm_head(doctype: str | None = "webm", total: int = 4096) -> bytes:
    """An EBML header (DocType ``doctype``; omitted when None, which means "matroska")
    followed by a Segment of unknown size holding a Void element as padding."""
    elements = [
        _ebml_element(0x4286, b"\x01"),  # EBMLVersion
        _ebml_element(0x42F7, b"\x01"),  # EBMLReadVersion
        _ebml_element(0x42F2, b"\x04"),  # EBMLMaxIDLength
        _ebml_element(0x42F3, b"\x08"),  # EBMLMaxSizeLength
    ]
    if doctype is not None:
        elements.append(_ebml_element(0x4282, doctype.encode()))  # DocType
    elements += [
        _ebml_element(0x4287, b"\x04"),  # DocTypeVersion
        _ebml_element(0x4285, b"\x02"),  # DocTypeReadVersion
    ]
    body = b"".join(elements)
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body
    segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size
    void_len = max(total - len(header) - len(segment) - 9, 0)
    void = b"\xec" + (0x0100000000000000 | void_len).to_bytes(8, "big") + bytes(void_len)
    return header + segment + void
