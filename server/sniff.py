"""Content-type verification from the first bytes of an upload.

``sniff(head)`` says what the first few KiB of a file *are*; ``matches_declared`` says
whether that agrees with the Content-Type the client declared. Pure functions, no Flask,
never raise on any input.

Where ``filetype`` (1.2.0) is right we use it (JPEG, PNG, and recognising the things we
reject: GIF, PDF, ...). Its ISO-BMFF and EBML matchers are not good enough for us, so
those containers are parsed here:

* ``filetype``'s HEIC matcher misses ``heix``/``hevc``/... major brands, its MP4 matcher
  misses ``iso4``-``iso6``, ``avc1``, 3GP and calls a brandless ``isom`` HEIF "mp4", its
  MOV matcher only knows the ``qt`` ftyp (not files starting with ``moov``/``mdat``/
  ``wide``/``free`` atoms), its 3GP matcher looks for ``ftyp3gp`` at offset 0, and its
  WebM/MKV matchers just search for a DocType byte pattern anywhere in the buffer.

Families: ``image/heic`` and ``image/heif`` are one family, so are ``video/mp4`` and
``video/quicktime`` (a phone's .mov and .mp4 are the same container). AVIF is *not* a
HEIF for our purposes, and a Matroska file (DocType ``matroska``) is not WebM.
"""

from __future__ import annotations

import os
import struct
import warnings

import filetype

from sync.content_types import ACCEPTED_CONTENT_TYPES

__all__ = ["ALLOWED_TYPES", "image_header_decodes", "matches_declared", "sniff"]

ALLOWED_TYPES = ACCEPTED_CONTENT_TYPES  # the one list: sync/content_types.py

_FAMILY = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/heic": "heif",
    "image/heif": "heif",
    "video/mp4": "isomedia",
    "video/quicktime": "isomedia",
    "video/webm": "webm",
}

# Non-standard spellings clients really send for the same types.
_DECLARED_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
}

# --- ISO-BMFF brands ------------------------------------------------------------------

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_QT_BRANDS = frozenset({b"qt  "})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})


def _is_mp4_brand(brand: bytes) -> bool:
    return (
        brand in (b"isom", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP")
        or (brand[:3] == b"iso" and brand[3:4] in b"23456")
        or brand[:3] in (b"3gp", b"3g2")
    )


def _classify_brand(brand: bytes) -> str | None:
    if brand in _HEIC_BRANDS:
        return "image/heic"
    if brand in _HEIF_BRANDS:
        return "image/heif"
    if brand in _AVIF_BRANDS:
        return "image/avif"
    if brand in _QT_BRANDS:
        return "video/quicktime"
    if brand in _AUDIO_BRANDS:
        return "audio/mp4"
    if _is_mp4_brand(brand):
        return "video/mp4"
    return None


def _sniff_ftyp(head: bytes) -> str | None:
    """``head`` starts with an ``ftyp`` box."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", head[:4])[0]
    start = 8
    if size == 1:  # 64-bit size: legal, unusual for ftyp
        if len(head) < 24:
            return None
        size = struct.unpack(">Q", head[8:16])[0]
        start = 16
    if size != 0 and size < start + 8:
        return None  # no room for major brand + minor version
    end = len(head) if size == 0 else min(size, len(head))
    major = head[start : start + 4]
    if len(major) != 4:
        return None
    compat = [head[i : i + 4] for i in range(start + 8, end - 3, 4) if len(head[i : i + 4]) == 4]

    kind = _classify_brand(major)
    if kind == "image/heif":
        # mif1/msf1 is the generic HEIF brand: the compatible brands say which codec.
        if any(b in _HEIC_BRANDS for b in compat):
            return "image/heic"
        if any(b in _AVIF_BRANDS for b in compat):
            return "image/avif"
        return "image/heif"
    if kind is not None:
        return kind

    # Unknown major brand (e.g. Sony "XAVC"): decide from the compatible brands.
    kinds = {_classify_brand(b) for b in compat}
    for candidate in ("video/quicktime", "video/mp4", "image/avif", "image/heic", "image/heif"):
        if candidate in kinds:
            if candidate in ("image/heic", "image/heif") and "image/avif" in kinds:
                return "image/avif"
            return candidate
    return None


# --- QuickTime without ftyp -----------------------------------------------------------

_QT_FIRST_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_QT_ATOMS = _QT_FIRST_ATOMS | {b"ftyp", b"PICT", b"junk", b"uuid"}
_MAX_ATOMS = 16


def _sniff_quicktime_atoms(head: bytes) -> str | None:
    """Classic QuickTime: the file starts with moov/mdat/wide/free/skip/pnot, no ftyp.

    Atom headers are checked as far as the head reaches; a head that ends inside a padding
    atom (wide/free/skip/pnot) is accepted as QuickTime because nothing contradicts it.
    """
    if len(head) < 8 or head[4:8] not in _QT_FIRST_ATOMS:
        return None
    pos = 0
    for _ in range(_MAX_ATOMS):
        if pos + 8 > len(head):
            return "video/quicktime"  # the rest is beyond what we were given
        size, atom = struct.unpack(">I4s", head[pos : pos + 8])
        if atom not in _QT_ATOMS:
            return None
        if atom == b"ftyp":
            return _sniff_ftyp(head[pos:])
        if atom in (b"moov", b"mdat"):
            # size 0 (to end of file) or 1 (64-bit) are fine for these.
            return "video/quicktime" if size == 0 or size == 1 or size >= 8 else None
        if size == 1:
            if pos + 16 > len(head):
                return "video/quicktime"
            size = struct.unpack(">Q", head[pos + 8 : pos + 16])[0]
            if size < 16:
                return None
        elif size < 8:
            return None  # includes 0: a padding atom cannot run to the end of the file
        pos += size
    return None


# --- EBML (WebM / Matroska) -----------------------------------------------------------

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = 0x4282
_MAX_EBML_ELEMENTS = 64


def _read_vint(buf: bytes, pos: int, keep_marker: bool) -> tuple[int, int] | None:
    """EBML variable-length integer at ``pos`` -> (value, length); None if invalid."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first == 0:
        return None
    length = 9 - first.bit_length()
    if pos + length > len(buf):
        return None
    value = int.from_bytes(buf[pos : pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


def _sniff_ebml(head: bytes) -> str | None:
    if not head.startswith(_EBML_MAGIC):
        return None
    header_size = _read_vint(head, 4, keep_marker=False)
    if header_size is None:
        return None
    size, size_len = header_size
    pos = 4 + size_len
    end = pos + size
    complete = end <= len(head)
    end = min(end, len(head))
    doctype: bytes | None = None
    for _ in range(_MAX_EBML_ELEMENTS):
        if pos >= end:
            break
        element_id = _read_vint(head, pos, keep_marker=True)
        if element_id is None:
            return None
        pos += element_id[1]
        element_size = _read_vint(head, pos, keep_marker=False)
        if element_size is None:
            return None
        pos += element_size[1]
        if element_id[0] == _EBML_DOCTYPE_ID:
            if pos + element_size[0] > len(head):
                return None  # truncated inside DocType
            doctype = head[pos : pos + element_size[0]].rstrip(b"\x00")
            break
        pos += element_size[0]
    if doctype is None:
        if not complete:
            return None  # the DocType may be beyond the head
        doctype = b"matroska"  # the EBML default DocType
    if doctype == b"webm":
        return "video/webm"
    if doctype == b"matroska":
        return "video/x-matroska"
    return None


# --- public API -----------------------------------------------------------------------

# MIME types filetype may report that we decide ourselves; if filetype reports one of
# them after our own parsers said no, it is wrong.
_SELF_PARSED = frozenset(
    {
        "image/heic",
        "image/heif",
        "image/avif",
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-matroska",
        "video/3gpp",
        "video/x-m4v",
        "audio/mp4",
        "audio/x-m4a",
    }
)
_FILETYPE_RENAMES = {"image/apng": "image/png"}  # an animated PNG is still a PNG


def sniff(head: bytes) -> str | None:
    """MIME type detected from the first bytes (~4 KiB is plenty) of a file, or None.

    The result may be a type outside :data:`ALLOWED_TYPES` (``image/gif``,
    ``application/pdf``, ``image/avif``, ``video/x-matroska``, ...) so it is useful in logs;
    check membership before trusting it. Never raises, whatever ``head`` holds.
    """
    try:
        data = bytes(head)
    except (TypeError, ValueError):
        return None
    if not data:
        return None
    try:
        if data[4:8] == b"ftyp":
            return _sniff_ftyp(data)
        if data.startswith(_EBML_MAGIC):
            return _sniff_ebml(data)
        quicktime = _sniff_quicktime_atoms(data)
        if quicktime is not None:
            return quicktime
        kind = filetype.guess(data)
    except (IndexError, ValueError, struct.error):
        return None
    if kind is None:
        return None
    mime = _FILETYPE_RENAMES.get(kind.mime, kind.mime)
    return None if mime in _SELF_PARSED else mime


def _normalise_declared(declared: str) -> str:
    mime = declared.split(";", 1)[0].strip().lower()
    return _DECLARED_ALIASES.get(mime, mime)


def matches_declared(head: bytes, declared: str) -> bool:
    """True when the bytes are of the declared type's family and that type is allowed.

    ``declared`` may carry parameters (``video/mp4; codecs=...``) and any case;
    ``image/jpg``, ``image/pjpeg`` and ``image/x-png`` are accepted as aliases. A
    declared type outside :data:`ALLOWED_TYPES` never matches.
    """
    if not isinstance(declared, str):
        return False
    wanted = _FAMILY.get(_normalise_declared(declared))
    if wanted is None:
        return False
    detected = sniff(head)
    return detected is not None and _FAMILY.get(detected) == wanted


# --- beyond the magic bytes: the image's header decodes -------------------------------

# Pillow's format names per family (pillow-heif registers "HEIF"; some versions "HEIC").
_PIL_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "heif": {"HEIF", "HEIC"}}


def image_header_decodes(path: str | os.PathLike[str], declared: str) -> bool:
    """True unless ``declared`` is an image type and the file at ``path`` is not a
    readable image of that type: Pillow opens it (headers only: the markers up to the
    frame header, PNG's IHDR, HEIF's boxes; no pixel is decoded) and it must report the
    declared format and a non-empty size. An HTML page behind a JPEG signature fails.

    A picture declaring more pixels than Pillow's decompression-bomb limit is still an
    image here (the pixel-flood defence is where pixels are decoded: server.dedup).
    Videos are not checked (True). Never raises.
    """
    family = _FAMILY.get(_normalise_declared(declared)) if isinstance(declared, str) else None
    formats = _PIL_FORMATS.get(family or "")
    if formats is None:
        return True
    from PIL import Image

    if family == "heif":
        from .dedup import HEIF_SUPPORTED  # registers pillow-heif's opener

        if not HEIF_SUPPORTED:  # pragma: no cover - depends on the environment
            return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                return img.format in formats and width > 0 and height > 0
    except Image.DecompressionBombError:
        return True
    except Exception:  # noqa: BLE001 - any reader failure means "not this image"
        return False
