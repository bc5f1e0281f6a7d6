"""Merging reports of the same violation into one case.

Many citizens photograph the same violation; their reports must end up in one case.
Pure functions only: no Flask, no database. The caller gathers candidate reports
(see :func:`candidate_window` for the plate query) and asks :func:`find_case`.

A new report joins an existing report's case for the first applicable reason:

1. ``"same_media"``    -- the two reports share a file (equal SHA-256).
2. ``"similar_media"`` -- two images whose 64-bit pHashes are within
   ``DedupConfig.phash_max_distance`` bits (a re-encoded, resized, rotated or
   lightly edited copy of the same photo, e.g. forwarded through a chat app).
3. ``"same_plate"``    -- equal plate match key (which includes the vehicle class),
   same violation, within ``radius_m`` metres and ``window_minutes`` minutes.

Media reasons apply whatever the distance and time; without a plate only media can join.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import imagehash
from PIL import Image, ImageOps

try:  # HEIC/HEIF (iPhone photos); optional so the module still imports without it.
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - depends on the environment
    HEIF_SUPPORTED = False
else:
    register_heif_opener()
    HEIF_SUPPORTED = True

# Mean Earth radius (IUGG), metres. One degree of latitude is then ~111.195 km.
EARTH_RADIUS_M: Final = 6_371_008.8

# Reason codes, in priority order (best first).
SAME_MEDIA: Final = "same_media"
SIMILAR_MEDIA: Final = "similar_media"
SAME_PLATE: Final = "same_plate"
REASON_PRIORITY: Final[dict[str, int]] = {SAME_MEDIA: 0, SIMILAR_MEDIA: 1, SAME_PLATE: 2}

# Chosen from measurements on seeded synthetic 640x480 scenes (tests/test_dedup.py):
# - tested set: near-duplicates of 20 scenes (JPEG q60, 50 % resize, +10 % brightness,
#   EXIF-rotated, 2 % crop per edge, HEIC, combinations) are at most 8 bits apart (the crop
#   is the worst); 50 pairs of different scenes are at least 20 bits apart;
# - wider sweep: the 2 % crop of 1000 scenes reaches 12 bits (5 of 1000); 179,700 pairs
#   of 600 different scenes never come closer than 14 bits (4 pairs at 14).
# 12 is the only value separating both sweeps, with a margin of 4 and 8 bits on the tested
# set. pHash distances are almost always even (32 of 64 bits above the median), so 13
# would behave the same. Synthetic scenes are not street photos: two different photos
# of the same street corner may well come closer than random scenes do.
DEFAULT_PHASH_MAX_DISTANCE: Final = 12

# JPEG (and a few other formats) can decode at 1/2, 1/4 or 1/8 scale, which makes hashing
# a 12-megapixel phone photo much cheaper. The pHash itself works on 32x32 pixels.
_DRAFT_SIZE: Final = (256, 256)

PathOrBytes = str | os.PathLike[str] | bytes | bytearray | memoryview


@dataclass(frozen=True)
class DedupConfig:
    radius_m: float = 150.0
    window_minutes: float = 30.0
    phash_max_distance: int = DEFAULT_PHASH_MAX_DISTANCE  # Hamming distance, 64-bit pHash

    def __post_init__(self) -> None:
        if self.radius_m < 0 or self.window_minutes < 0 or self.phash_max_distance < 0:
            raise ValueError(f"DedupConfig values must not be negative: {self!r}")

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)


@dataclass(frozen=True)
class ReportFacts:
    """What dedup needs to know about one report."""

    report_id: str
    violation: str
    plate_match_key: str | None  # already includes the vehicle class; None when no plate
    lat: float
    lon: float
    captured_at: datetime  # timezone-aware
    media_sha256: frozenset[str]
    media_phash: frozenset[str]  # hex strings of 64-bit pHashes (images only)

    def __post_init__(self) -> None:
        if self.captured_at.tzinfo is None or self.captured_at.utcoffset() is None:
            raise ValueError(f"captured_at must be timezone-aware: {self.captured_at!r}")
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"coordinates out of range: ({self.lat}, {self.lon})")


def perceptual_hash(path_or_bytes: PathOrBytes) -> str | None:
    """The 64-bit pHash of an image as 16 hex digits, or None if it is not a decodable image.

    EXIF orientation is applied first, so a photo stored sideways with an orientation tag
    hashes like the upright copy. HEIC/HEIF is decoded when pillow-heif is installed.
    A path that cannot be opened raises (``FileNotFoundError`` etc.): that is a storage
    problem, not an undecodable upload.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return _hash_stream(io.BytesIO(path_or_bytes))
    with open(path_or_bytes, "rb") as fh:
        return _hash_stream(fh)


def _hash_stream(stream: io.BufferedIOBase | io.BytesIO) -> str | None:
    # Pillow raises many exception types on hostile or broken input (UnidentifiedImageError,
    # OSError for truncation, DecompressionBombError, ValueError, SyntaxError, struct.error ...).
    # Any failure to decode means "not an image we can hash".
    try:
        with Image.open(stream) as img:
            img.draft("L", _DRAFT_SIZE)
            upright = ImageOps.exif_transpose(img)
            return str(imagehash.phash(upright))
    except Exception:  # noqa: BLE001 - see above
        return None


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two hex-encoded hashes of the same length."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes differ in length: {a_hex!r} vs {b_hex!r}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _similar_media(a: frozenset[str], b: frozenset[str], max_distance: int) -> bool:
    return any(len(x) == len(y) and hamming(x, y) <= max_distance for x in a for y in b)


def join_reason(new: ReportFacts, existing: ReportFacts, cfg: DedupConfig) -> str | None:
    """Why ``new`` belongs in ``existing``'s case (the first applicable reason), or None."""
    if new.media_sha256 & existing.media_sha256:
        return SAME_MEDIA
    if _similar_media(new.media_phash, existing.media_phash, cfg.phash_max_distance):
        return SIMILAR_MEDIA
    if (
        new.plate_match_key  # None (and a stray "") never matches
        and new.plate_match_key == existing.plate_match_key
        and new.violation == existing.violation
        and abs(new.captured_at - existing.captured_at) <= cfg.window
        and haversine_m(new.lat, new.lon, existing.lat, existing.lon) <= cfg.radius_m
    ):
        return SAME_PLATE
    return None


def find_case(
    new: ReportFacts,
    candidates: Iterable[tuple[str, ReportFacts]],
    cfg: DedupConfig,
) -> tuple[str, str] | None:
    """The case ``new`` should join as ``(case_id, reason)``, or None for a new case.

    ``candidates`` are ``(case_id, facts)`` of existing reports (several may share a case).
    The best match has the highest-priority reason, then the earliest ``captured_at``;
    remaining ties go to the smallest ``(case_id, report_id)`` so the answer is stable.
    A candidate with the same ``report_id`` as ``new`` (the report itself) is ignored.
    """
    best: tuple[tuple[int, datetime, str, str], str, str] | None = None
    for case_id, facts in candidates:
        if facts.report_id == new.report_id:
            continue
        reason = join_reason(new, facts, cfg)
        if reason is None:
            continue
        key = (REASON_PRIORITY[reason], facts.captured_at, case_id, facts.report_id)
        if best is None or key < best[0]:
            best = (key, case_id, reason)
    return None if best is None else (best[1], best[2])


def candidate_window(
    new: ReportFacts, cfg: DedupConfig
) -> tuple[datetime, datetime, tuple[float, float, float, float]]:
    """A time window and bounding box enclosing every possible ``same_plate`` match.

    Returns ``(t_min, t_max, (min_lat, max_lat, min_lon, max_lon))``, all bounds inclusive.
    The box contains the whole ``radius_m`` circle (it is a superset: the caller still
    checks each candidate with :func:`join_reason`). It only covers plate matches; media
    matches are not bounded in space or time and need their own lookup by hash.
    Near a pole, or when the circle crosses the antimeridian, the longitude range is the
    full ``(-180, 180)``.
    """
    window = cfg.window
    # Angular radius, with a hair of slack so float rounding never drops an edge point.
    d = cfg.radius_m / EARTH_RADIUS_M * (1 + 1e-9) + 1e-12
    lat = math.radians(new.lat)
    min_lat, max_lat = lat - d, lat + d
    if min_lat <= -math.pi / 2 or max_lat >= math.pi / 2:
        box = (math.degrees(max(min_lat, -math.pi / 2)), math.degrees(min(max_lat, math.pi / 2)))
        return new.captured_at - window, new.captured_at + window, (*box, -180.0, 180.0)
    # Largest longitude offset of points on the circle (exact on the sphere).
    dlon = math.degrees(math.asin(min(1.0, math.sin(d) / math.cos(lat))))
    min_lon, max_lon = new.lon - dlon, new.lon + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        min_lon, max_lon = -180.0, 180.0
    return (
        new.captured_at - window,
        new.captured_at + window,
        (math.degrees(min_lat), math.degrees(max_lat), min_lon, max_lon),
    )
