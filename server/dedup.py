"""Merging reports of the same violation into one case, and who reported it first.

Many citizens photograph the same violation; their reports must end up in one case.
Product rule 6: a case holds one violation by one vehicle, so a join that could mix two
vehicles is worse than a missed join. Pure functions only: no Flask, no database. The
caller gathers candidate reports (see :func:`candidate_window` for the plate query) and
asks :func:`find_case` / :func:`find_match`.

Every join needs *compatible plates* (the same match key, or one side has no plate; for
cases: one case's plate keys hold the other's, :func:`plates_compatible`) and the *same
violation*. A new report then joins an existing report's case for the first applicable
reason:

1. ``"same_media"``    -- the two reports share a file (equal SHA-256), at any distance.
2. ``"similar_media"`` -- two images whose 64-bit pHashes are within
   ``DedupConfig.phash_max_distance`` bits (a re-encoded, resized, rotated or lightly
   edited copy of the same photo), taken in the *same district*, within ``radius_m``
   metres and ``window_minutes`` minutes. Two photos of one street corner differ by a
   few bits whatever car is in them: the pHash alone never says "the same vehicle".
3. ``"same_plate"``    -- equal plate match key (which includes the vehicle class),
   within ``radius_m`` metres and ``window_minutes`` minutes.

A similar photo that does not qualify is at most a hint for the reviewer
(:func:`similar_photos`). A uniform or near-blank image carries no picture to compare:
:func:`perceptual_hash` gives it no hash, and a degenerate stored hash (almost no bits
set, :func:`usable_phash`) never matches. When a report without a plate looks like the
photos of two cases with different plates almost equally, it joins neither.

The first reporter of a case (:func:`first_reporter`) is decided by the server's receipt
of each report's evidence, not by the phone's claimed capture time alone.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, NamedTuple

import imagehash
from PIL import Image, ImageStat

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
_REASONS: Final = {v: k for k, v in REASON_PRIORITY.items()}

# Chosen from measurements on seeded synthetic 640x480 scenes (tests/test_dedup.py):
# - tested set: near-duplicates of 20 scenes (JPEG q60, 50 % resize, +10 % brightness,
#   EXIF-rotated, 2 % crop per edge, HEIC, combinations) are at most 8 bits apart (the crop
#   is the worst); 50 pairs of different scenes are at least 20 bits apart;
# - wider sweep: the 2 % crop of 1000 scenes reaches 12 bits (5 of 1000); 179,700 pairs
#   of 600 different scenes never come closer than 14 bits (4 pairs at 14).
# 12 is the only value separating both sweeps, with a margin of 4 and 8 bits on the tested
# set. pHash distances are almost always even (32 of 64 bits above the median), so 13
# would behave the same. Synthetic scenes are not street photos: two photos of the same
# street corner with different cars are a few bits apart (tests/street_scene.py: 6), which
# is why a similar photo joins only close in place and time, with compatible plates.
DEFAULT_PHASH_MAX_DISTANCE: Final = 12

# A report without a plate whose photo looks like two cases' photos with different plates
# joins the nearer one only if it is nearer by at least this many bits (a re-encoded copy
# is 0-2 bits from its original; two cars at one corner ~4-8 bits apart).
AMBIGUITY_MARGIN_BITS: Final = 4

# An image whose 32x32 grayscale reduction (what the pHash sees) varies less than this
# (standard deviation, of 255) is uniform or near-blank: its pHash is noise or all zeros.
NEAR_BLANK_STDDEV: Final = 4.0
# A stored hash with fewer set bits than this (or more than 64 minus it) is degenerate:
# real pictures set about half of the 64 bits (median threshold).
MIN_HASH_BITS: Final = 4

# JPEG (and a few other formats) can decode at 1/2, 1/4 or 1/8 scale, which makes hashing
# a 12-megapixel phone photo much cheaper. The pHash itself works on 32x32 pixels.
_DRAFT_SIZE: Final = (256, 256)
_PHASH_SIZE: Final = (32, 32)
# The most pixels :func:`perceptual_hash` decodes (PHASH_MAX_PIXELS): a 48-megapixel
# HEIC fits; JPEGs count after their reduced-scale decode.
DEFAULT_MAX_DECODE_PIXELS: Final = 50_000_000
_EXIF_ORIENTATION: Final = 0x0112
# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_TRANSPOSE_FOR_ORIENTATION: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

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
    district_code: str | None = None  # the district the report was routed to

    def __post_init__(self) -> None:
        if self.captured_at.tzinfo is None or self.captured_at.utcoffset() is None:
            raise ValueError(f"captured_at must be timezone-aware: {self.captured_at!r}")
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise ValueError(f"coordinates out of range: ({self.lat}, {self.lon})")

    @property
    def plates(self) -> frozenset[str]:
        """The report's plate key as a set: empty without a plate."""
        return frozenset((self.plate_match_key,)) if self.plate_match_key else frozenset()


class Match(NamedTuple):
    """The case a new report joins, why, and the report of that case it matched."""

    case_id: str
    reason: str
    report_id: str


# --------------------------------------------------------------------------- hashing


def perceptual_hash(
    path_or_bytes: PathOrBytes, max_pixels: int = DEFAULT_MAX_DECODE_PIXELS
) -> str | None:
    """The 64-bit pHash of an image as 16 hex digits, or None if it is not a decodable
    image, or is uniform or near-blank (nothing to compare: such images never join), or
    would decode to more than ``max_pixels`` pixels.

    The pixel count is read from the image's header (after asking JPEG to decode at a
    reduced scale, :meth:`PIL.Image.Image.draft`) before anything is decoded, so a small
    file declaring a huge picture (a "pixel flood") is never decoded: it gets no hash.
    What is decoded is turned grey and reduced before the final resize, so memory stays
    within about ``max_pixels`` times the image's bytes per pixel.

    EXIF orientation is applied (to the reduced image), so a photo stored sideways with
    an orientation tag hashes like the upright copy. HEIC/HEIF is decoded when
    pillow-heif is installed. A path that cannot be opened raises
    (``FileNotFoundError`` etc.): that is a storage problem, not an undecodable upload.
    """
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        return _hash_stream(io.BytesIO(path_or_bytes), max_pixels)
    with open(path_or_bytes, "rb") as fh:
        return _hash_stream(fh, max_pixels)


def decoded_pixels(img: Image.Image) -> int:
    """How many pixels decoding ``img`` makes, from its header (after any draft)."""
    width, height = img.size
    return width * height


def _hash_stream(stream: io.BufferedIOBase | io.BytesIO, max_pixels: int) -> str | None:
    # Pillow raises many exception types on hostile or broken input (UnidentifiedImageError,
    # OSError for truncation, DecompressionBombError, ValueError, SyntaxError, struct.error ...).
    # Any failure to decode means "not an image we can hash".
    try:
        with Image.open(stream) as img:
            img.draft("L", _DRAFT_SIZE)
            if decoded_pixels(img) > max_pixels:
                return None  # never decoded: a pixel flood, or a picture too large to hash
            orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
            grey = img.convert("L")  # the one full-size decode
        factor = min(grey.size) // _DRAFT_SIZE[0]
        if factor > 1:  # what draft does for JPEG, for every other format
            grey = grey.reduce(factor)
        method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
        upright = grey.transpose(method) if method is not None else grey
        # The reduction imagehash.phash makes itself (it then finds the size right).
        small = upright.resize(_PHASH_SIZE, Image.Resampling.LANCZOS)
        if ImageStat.Stat(small).stddev[0] < NEAR_BLANK_STDDEV:
            return None
        return str(imagehash.phash(small))
    except Exception:  # noqa: BLE001 - see above
        return None


def usable_phash(hex_hash: str) -> bool:
    """Whether a stored hash can match: 16 hex digits, not degenerate (all or almost all
    bits equal, as the hash of a uniform image stored before such images were skipped)."""
    if len(hex_hash) != 16:
        return False
    try:
        bits = int(hex_hash, 16).bit_count()
    except ValueError:
        return False
    return MIN_HASH_BITS <= bits <= 64 - MIN_HASH_BITS


def hamming(a_hex: str, b_hex: str) -> int:
    """Number of differing bits between two hex-encoded hashes of the same length."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hashes differ in length: {a_hex!r} vs {b_hex!r}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def photo_distance(a: Iterable[str], b: Iterable[str]) -> int | None:
    """The smallest Hamming distance between a usable hash of ``a`` and one of ``b``,
    or None when either side has none."""
    usable_b = [h for h in b if usable_phash(h)]
    distances = [hamming(x, y) for x in a if usable_phash(x) for y in usable_b]
    return min(distances, default=None)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# --------------------------------------------------------------------------- join rules


def plates_compatible(a: Collection[str | None], b: Collection[str | None]) -> bool:
    """Whether two reports' (or two cases') plate keys may be one vehicle: one side has
    none, or one side's keys are all among the other's (a case a reviewer merged may hold
    two spellings a reviewer judged to be one plate). Empty keys count as none."""
    keys_a = frozenset(k for k in a if k)
    keys_b = frozenset(k for k in b if k)
    return keys_a <= keys_b or keys_b <= keys_a


def near(new: ReportFacts, existing: ReportFacts, cfg: DedupConfig) -> bool:
    """Within the dedup window and radius of each other."""
    return (
        abs(new.captured_at - existing.captured_at) <= cfg.window
        and haversine_m(new.lat, new.lon, existing.lat, existing.lon) <= cfg.radius_m
    )


def similar_photos(new: ReportFacts, existing: ReportFacts, cfg: DedupConfig) -> bool:
    """Whether the two reports hold photos within the pHash threshold (usable hashes),
    whatever else: the test of a reviewer's hint, not of a join."""
    distance = photo_distance(new.media_phash, existing.media_phash)
    return distance is not None and distance <= cfg.phash_max_distance


def join_reason(new: ReportFacts, existing: ReportFacts, cfg: DedupConfig) -> str | None:
    """Why ``new`` belongs in ``existing``'s case (the first applicable reason), or None."""
    if new.violation != existing.violation or not plates_compatible(new.plates, existing.plates):
        return None
    if new.media_sha256 & existing.media_sha256:
        return SAME_MEDIA
    if not near(new, existing, cfg):
        return None
    if new.district_code == existing.district_code and similar_photos(new, existing, cfg):
        return SIMILAR_MEDIA
    if new.plate_match_key and new.plate_match_key == existing.plate_match_key:
        return SAME_PLATE
    return None


def find_match(
    new: ReportFacts,
    candidates: Iterable[tuple[str, ReportFacts]],
    cfg: DedupConfig,
    case_plates: dict[str, frozenset[str]] | None = None,
    own_plates: Collection[str] | None = None,
) -> Match | None:
    """The case ``new`` should join, why, and the report it matched; None for a new case.

    ``candidates`` are ``(case_id, facts)`` of existing reports (several may share a case).
    ``case_plates`` gives each candidate case's plate keys (default: those of its
    candidates): a case whose keys are not compatible with ``own_plates`` (default:
    ``new``'s plate) is never joined, whatever report of it matched -- a report without a
    plate may sit in a case of a car. The best match has the highest-priority reason,
    then (similar photos) the smallest pHash distance, then the earliest ``captured_at``;
    remaining ties go to the smallest ``(case_id, report_id)`` so the answer is stable. A
    candidate with the same ``report_id`` as ``new`` (the report itself) is ignored. A
    similar-photo match is refused as ambiguous when a case with other plates is within
    :data:`AMBIGUITY_MARGIN_BITS` of being as similar.
    """
    found = [(c, f) for c, f in candidates if f.report_id != new.report_id]
    plates = case_plates if case_plates is not None else _plates_by_case(found)
    own = frozenset(k for k in (new.plates if own_plates is None else own_plates) if k)
    scored: list[tuple[int, int, datetime, str, str]] = []
    for case_id, facts in found:
        if not plates_compatible(own, plates.get(case_id, frozenset())):
            continue
        reason = join_reason(new, facts, cfg)
        if reason is None:
            continue
        distance = 0
        if reason == SIMILAR_MEDIA:
            distance = photo_distance(new.media_phash, facts.media_phash) or 0
        scored.append(
            (REASON_PRIORITY[reason], distance, facts.captured_at, case_id, facts.report_id)
        )
    if not scored:
        return None
    priority, distance, _, case_id, report_id = min(scored)
    if priority == REASON_PRIORITY[SIMILAR_MEDIA] and any(
        other[0] == priority
        and other[3] != case_id
        and other[1] - distance < AMBIGUITY_MARGIN_BITS
        and not plates_compatible(plates.get(case_id, ()), plates.get(other[3], ()))
        for other in scored
    ):
        return None
    return Match(case_id, _REASONS[priority], report_id)


def _plates_by_case(found: list[tuple[str, ReportFacts]]) -> dict[str, frozenset[str]]:
    plates: dict[str, frozenset[str]] = {}
    for case_id, facts in found:
        plates[case_id] = plates.get(case_id, frozenset()) | facts.plates
    return plates


def find_case(
    new: ReportFacts,
    candidates: Iterable[tuple[str, ReportFacts]],
    cfg: DedupConfig,
    case_plates: dict[str, frozenset[str]] | None = None,
) -> tuple[str, str] | None:
    """The case ``new`` should join as ``(case_id, reason)``, or None for a new case
    (:func:`find_match` without the matched report)."""
    match = find_match(new, candidates, cfg, case_plates)
    return None if match is None else (match.case_id, match.reason)


# --------------------------------------------------------------------------- first reporter


@dataclass(frozen=True)
class Receipt:
    """When the server got a report and its evidence, and when the phone says it was taken."""

    report_id: str
    captured_at: datetime  # claimed by the phone
    received_at: datetime  # the server stored the report
    evidence_at: datetime | None  # the server verified its last evidence file; None: not all


def first_reporter(receipts: Iterable[Receipt], settle: timedelta) -> str | None:
    """The report whose reporter reported first, by the server's receipt of the evidence.

    Reports whose evidence has all arrived come before every report still missing some
    (a report without evidence cannot be first while one with evidence exists). Among
    them, the earliest evidence receipt sets an anchor; every report whose evidence
    arrived within ``settle`` of it is a contender, and the contenders are ordered by the
    claimed ``captured_at`` (then receipt, then id): phones that sent their evidence
    close together are told apart by when they say they took it, a claim alone never
    beats a receipt much earlier. Without any evidence the reports' own receipts play
    that part. None for no reports.
    """
    items = list(receipts)
    with_evidence = [r for r in items if r.evidence_at is not None]
    pool = with_evidence or items
    if not pool:
        return None

    def receipt(r: Receipt) -> datetime:
        return r.evidence_at if with_evidence and r.evidence_at else r.received_at

    anchor = min(receipt(r) for r in pool)
    contenders = [r for r in pool if receipt(r) - anchor <= settle]
    best = min(contenders, key=lambda r: (r.captured_at, receipt(r), r.received_at, r.report_id))
    return best.report_id


def candidate_window(
    new: ReportFacts, cfg: DedupConfig
) -> tuple[datetime, datetime, tuple[float, float, float, float]]:
    """A time window and bounding box enclosing every possible ``same_plate`` (and
    ``similar_media``) match.

    Returns ``(t_min, t_max, (min_lat, max_lat, min_lon, max_lon))``, all bounds inclusive.
    The box contains the whole ``radius_m`` circle (it is a superset: the caller still
    checks each candidate with :func:`join_reason`). A shared file (``same_media``) is
    not bounded in space or time and needs its own lookup by hash.
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
