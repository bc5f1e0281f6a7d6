"""Tests for server.dedup: merging reports of the same violation into one case.

Test images are synthetic and deterministic: a 640x480 scene of random shapes drawn
from a seeded RNG. The pHash threshold is tested on two populations:

* near-duplicates of scenes 0..19 (re-encoded, resized, brightened, EXIF-rotated,
  cropped, combinations; HEIC on scenes 0..4) must be within the threshold;
* 50 pairs of different scenes (seeds 1000..1099) must all be above it.

Measured with Pillow 12.0 / ImageHash 4.3.2: the near-duplicates are at most 8 bits apart
(the 2 % crop is the worst), the different scenes at least 20 bits apart; the threshold (12)
sits with a margin of at least MARGIN_BITS on both sides, and that margin is tested too.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageEnhance

from server.dedup import (
    DEFAULT_PHASH_MAX_DISTANCE,
    EARTH_RADIUS_M,
    HEIF_SUPPORTED,
    DedupConfig,
    Receipt,
    ReportFacts,
    candidate_window,
    find_case,
    find_match,
    first_reporter,
    hamming,
    haversine_m,
    join_reason,
    perceptual_hash,
    photo_distance,
    plates_compatible,
    usable_phash,
)

W, H = 640, 480
CFG = DedupConfig()
THRESHOLD = CFG.phash_max_distance
NEAR_DUP_SEEDS = range(20)
DIFFERENT_PAIRS = [(1000 + 2 * i, 1001 + 2 * i) for i in range(50)]
MARGIN_BITS = 4  # required gap between the threshold and each measured population
ORIENTATION = 0x0112  # EXIF tag

# --------------------------------------------------------------------------- images


@functools.cache
def scene(seed: int) -> Image.Image:
    """A deterministic 640x480 picture of random shapes."""
    rng = random.Random(seed)

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    img = Image.new("RGB", (W, H), colour())
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(25, 40)):
        kind = rng.choice(["rectangle", "ellipse", "polygon", "line"])
        x0, y0 = rng.randrange(-W // 4, W), rng.randrange(-H // 4, H)
        x1, y1 = x0 + rng.randrange(20, W // 2), y0 + rng.randrange(20, H // 2)
        if kind == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=colour())
        elif kind == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour())
        elif kind == "polygon":
            points = [(rng.randrange(W), rng.randrange(H)) for _ in range(rng.randint(3, 6))]
            draw.polygon(points, fill=colour())
        else:
            draw.line((x0, y0, x1, y1), fill=colour(), width=rng.randint(2, 12))
    return img


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def jpeg(img: Image.Image, quality: int = 95, orientation: int | None = None) -> bytes:
    buf = io.BytesIO()
    extra = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        extra["exif"] = exif.tobytes()
    img.save(buf, "JPEG", quality=quality, **extra)
    return buf.getvalue()


# Stored pixels for an EXIF orientation: the inverse of what a viewer applies to show it upright.
STORED_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,  # the usual phone portrait shot
    8: Image.Transpose.ROTATE_270,
}


def exif_rotated(img: Image.Image, orientation: int) -> bytes:
    """Pixels rotated and tagged so that a viewer honouring EXIF shows ``img`` upright."""
    return jpeg(img.transpose(STORED_FOR_ORIENTATION[orientation]), orientation=orientation)


def cropped(img: Image.Image, fraction: float = 0.02) -> bytes:
    dx, dy = round(img.width * fraction), round(img.height * fraction)
    return png(img.crop((dx, dy, img.width - dx, img.height - dy)))


def half(img: Image.Image) -> Image.Image:
    return img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)


def brighter(img: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(img).enhance(1.10)


def heic(img: Image.Image, orientation: int | None = None) -> bytes:
    buf = io.BytesIO()
    extra = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        extra["exif"] = exif.tobytes()
        img = img.transpose(STORED_FOR_ORIENTATION[orientation])
    img.save(buf, "HEIF", quality=60, **extra)
    return buf.getvalue()


NEAR_DUPLICATES: dict[str, Callable[[Image.Image], bytes]] = {
    "jpeg_quality_60": lambda img: jpeg(img, quality=60),
    "resized_to_50_percent": lambda img: png(half(img)),
    "brightened_10_percent": lambda img: png(brighter(img)),
    "exif_orientation_6_rotated_pixels": lambda img: exif_rotated(img, 6),
    "exif_orientation_3_rotated_pixels": lambda img: exif_rotated(img, 3),
    "exif_orientation_8_rotated_pixels": lambda img: exif_rotated(img, 8),
    "cropped_2_percent_each_edge": cropped,
    "half_size_brightened_jpeg_60": lambda img: jpeg(brighter(half(img)), quality=60),
    "forwarded_chat_copy": lambda img: jpeg(  # rotated + shrunk + recompressed
        half(img).transpose(STORED_FOR_ORIENTATION[6]), quality=60, orientation=6
    ),
}
# HEIC encoding is slow (~0.2 s a picture), so those variants use fewer scenes.
HEIC_SEEDS = range(5)
SEEDS_FOR: dict[str, range] = {}
if HEIF_SUPPORTED:
    NEAR_DUPLICATES["heic_quality_60"] = heic
    NEAR_DUPLICATES["heic_exif_orientation_6"] = lambda img: heic(img, orientation=6)
    SEEDS_FOR = {"heic_quality_60": HEIC_SEEDS, "heic_exif_orientation_6": HEIC_SEEDS}


@functools.cache
def scene_hash(seed: int) -> str:
    h = perceptual_hash(png(scene(seed)))
    assert h is not None
    return h


@functools.cache
def near_duplicate_distance(variant: str, seed: int) -> int:
    h = perceptual_hash(NEAR_DUPLICATES[variant](scene(seed)))
    assert h is not None, f"{variant} of scene {seed} did not hash"
    return hamming(scene_hash(seed), h)


def different_scene_distances() -> list[int]:
    return [hamming(scene_hash(a), scene_hash(b)) for a, b in DIFFERENT_PAIRS]


# --------------------------------------------------------------------------- pHash threshold


@pytest.mark.parametrize("variant", sorted(NEAR_DUPLICATES))
def test_near_duplicate_photo_hashes_within_threshold(variant: str) -> None:
    seeds = SEEDS_FOR.get(variant, NEAR_DUP_SEEDS)
    distances = {seed: near_duplicate_distance(variant, seed) for seed in seeds}
    assert max(distances.values()) <= THRESHOLD, distances


def test_fifty_pairs_of_different_scenes_all_hash_above_threshold() -> None:
    distances = different_scene_distances()
    assert len(distances) == 50
    assert min(distances) > THRESHOLD, sorted(distances)


def test_threshold_keeps_a_margin_from_both_measured_populations() -> None:
    max_near = max(
        near_duplicate_distance(variant, seed)
        for variant in NEAR_DUPLICATES
        for seed in SEEDS_FOR.get(variant, NEAR_DUP_SEEDS)
    )
    min_different = min(different_scene_distances())
    # Recorded figures (Pillow 12.0, ImageHash 4.3.2): max_near == 8, min_different == 20.
    assert max_near + MARGIN_BITS <= THRESHOLD, (max_near, THRESHOLD)
    assert THRESHOLD + MARGIN_BITS <= min_different, (THRESHOLD, min_different)


def test_default_threshold_is_the_tested_one() -> None:
    assert DedupConfig().phash_max_distance == DEFAULT_PHASH_MAX_DISTANCE == 12


@pytest.mark.parametrize("orientation", sorted(STORED_FOR_ORIENTATION))
def test_rotated_pixels_without_orientation_tag_hash_as_a_different_picture(
    orientation: int,
) -> None:
    # Proves the orientation tag is what makes rotated copies match.
    seed = 3
    untagged = jpeg(scene(seed).transpose(STORED_FOR_ORIENTATION[orientation]))
    h = perceptual_hash(untagged)
    assert h is not None
    assert hamming(scene_hash(seed), h) > THRESHOLD


def test_full_size_phone_jpeg_hashes_like_small_copy() -> None:
    # 4000x3000 is decoded at reduced scale (JPEG draft); the hash must not suffer.
    seed = 5
    big = scene(seed).resize((4000, 3000), Image.Resampling.BICUBIC)
    h = perceptual_hash(exif_rotated(big, 6))
    assert h is not None
    assert hamming(scene_hash(seed), h) <= MARGIN_BITS


# --------------------------------------------------------------------------- perceptual_hash


def test_perceptual_hash_is_16_lowercase_hex_digits() -> None:
    h = perceptual_hash(png(scene(1)))
    assert h is not None
    assert len(h) == 16
    assert h == h.lower()
    int(h, 16)


def test_perceptual_hash_accepts_str_path_pathlib_and_byte_buffers(tmp_path: Path) -> None:
    data = jpeg(scene(2))
    file = tmp_path / "photo.jpg"
    file.write_bytes(data)
    hashes = {
        perceptual_hash(data),
        perceptual_hash(bytearray(data)),
        perceptual_hash(memoryview(data)),
        perceptual_hash(file),
        perceptual_hash(str(file)),
    }
    assert len(hashes) == 1
    assert None not in hashes


def test_perceptual_hash_is_deterministic() -> None:
    assert perceptual_hash(png(scene(7))) == perceptual_hash(png(scene(7)))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty", b""),
        ("plain_text", b"not an image at all\n" * 10),
        ("pdf", b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"),
        ("mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64),
        ("truncated_jpeg", jpeg(scene(4))[:1500]),
        ("jpeg_header_only", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ],
)
def test_perceptual_hash_returns_none_for_non_images_and_undecodable_data(
    name: str, data: bytes
) -> None:
    assert perceptual_hash(data) is None


def test_perceptual_hash_returns_none_for_a_non_image_file(tmp_path: Path) -> None:
    file = tmp_path / "clip.mp4"
    file.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    assert perceptual_hash(file) is None


def test_perceptual_hash_raises_for_a_missing_file(tmp_path: Path) -> None:
    # Missing storage is an operational error, not an undecodable upload.
    with pytest.raises(FileNotFoundError):
        perceptual_hash(tmp_path / "nope.jpg")


def _noisy_grey(sigma: float, seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("L", (W, H))
    img.putdata([max(0, min(255, round(rng.gauss(128, sigma)))) for _ in range(W * H)])
    return img.convert("RGB")


def _faint_gradient() -> Image.Image:
    img = Image.new("L", (W, H))
    img.putdata([120 + (10 * x) // W for _ in range(H) for x in range(W)])
    return img.convert("RGB")


@pytest.mark.parametrize(
    "image",
    [
        pytest.param(lambda: Image.new("RGB", (W, H), (255, 255, 255)), id="white"),
        pytest.param(lambda: Image.new("RGB", (W, H), (0, 0, 0)), id="black"),
        pytest.param(lambda: Image.new("RGB", (W, H), (128, 128, 128)), id="grey"),
        pytest.param(lambda: _noisy_grey(8), id="grey_with_sensor_noise"),
        pytest.param(_faint_gradient, id="faint_gradient"),
        pytest.param(lambda: Image.new("RGB", (W, H), (20, 20, 30)), id="lens_cap"),
    ],
)
@pytest.mark.parametrize("encode", [png, lambda img: jpeg(img, quality=60)], ids=["png", "jpeg"])
def test_uniform_or_near_blank_images_get_no_hash(
    image: Callable[[], Image.Image], encode: Callable[[Image.Image], bytes]
) -> None:
    # Their pHash would be all zeros (or noise): two blank photos must never "match".
    assert perceptual_hash(encode(image())) is None


def test_a_dark_but_real_scene_still_hashes() -> None:
    dark = ImageEnhance.Brightness(scene(9)).enhance(0.25)
    h = perceptual_hash(png(dark))
    assert h is not None and usable_phash(h)


def test_the_hash_is_the_same_as_before_the_blank_check() -> None:
    # Stored hashes stay comparable: the reduction is the one imagehash makes itself.
    import imagehash

    for seed in (1, 2, 3):
        assert perceptual_hash(png(scene(seed))) == str(imagehash.phash(scene(seed)))


@pytest.mark.parametrize(
    ("hex_hash", "usable"),
    [
        ("0000000000000000", False),
        ("8000000000000000", False),
        ("0000000000000007", False),
        ("000000000000000f", True),
        ("fffffffffffffff0", True),
        ("fffffffffffffffe", False),
        ("ffffffffffffffff", False),
        ("a5a5a5a5a5a5a5a5", True),
        ("a5a5", False),
        ("zzzzzzzzzzzzzzzz", False),
    ],
)
def test_usable_phash_rejects_degenerate_and_malformed_hashes(hex_hash: str, usable: bool) -> None:
    assert usable_phash(hex_hash) is usable


# --------------------------------------------------------------------------- hamming


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0000000000000000", "0000000000000000", 0),
        ("ffffffffffffffff", "0000000000000000", 64),
        ("8000000000000000", "0000000000000001", 2),
        ("00000000000000ff", "000000000000000f", 4),
        ("abcdef0123456789", "ABCDEF0123456789", 0),
        ("a5a5a5a5a5a5a5a5", "5a5a5a5a5a5a5a5a", 64),
    ],
)
def test_hamming_counts_differing_bits(a: str, b: str, expected: int) -> None:
    assert hamming(a, b) == expected
    assert hamming(b, a) == expected


def test_hamming_rejects_hashes_of_different_length() -> None:
    with pytest.raises(ValueError):
        hamming("ff", "00ff")


# --------------------------------------------------------------------------- haversine


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2", "expected_m", "tolerance_m"),
    [
        (0.0, 0.0, 1.0, 0.0, 111_200, 50),  # 1 degree of latitude
        (21.0, 105.8, 22.0, 105.8, 111_200, 50),  # same, in Hanoi
        (0.0, 0.0, 0.0, 1.0, 111_200, 50),  # 1 degree of longitude on the equator
        (60.0, 10.0, 60.0, 11.0, 55_600, 50),  # ... halves at 60 degrees north
        (21.0285, 105.8542, 21.0285, 105.8542, 0, 1e-6),
        (0.0, 0.0, 0.0, 180.0, math.pi * EARTH_RADIUS_M, 1),  # antipodes
        (10.0, 179.9995, 10.0, -179.9995, 109.5, 0.5),  # across the antimeridian
    ],
)
def test_haversine_distance_matches_known_values(
    lat1: float, lon1: float, lat2: float, lon2: float, expected_m: float, tolerance_m: float
) -> None:
    assert haversine_m(lat1, lon1, lat2, lon2) == pytest.approx(expected_m, abs=tolerance_m)
    assert haversine_m(lat2, lon2, lat1, lon1) == pytest.approx(expected_m, abs=tolerance_m)


# --------------------------------------------------------------------------- report facts

HOAN_KIEM = (21.0285, 105.8542)
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
PHASH_A = "a5a5a5a5a5a5a5a5"  # 32 of 64 bits set, as real pHashes have


def moved(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg`` (spherical Earth)."""
    d = distance_m / EARTH_RADIUS_M
    phi, lmb, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    phi2 = math.asin(math.sin(phi) * math.cos(d) + math.cos(phi) * math.sin(d) * math.cos(theta))
    lmb2 = lmb + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi), math.cos(d) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lmb2) + 540.0) % 360.0 - 180.0


def phash_with_bits(n: int) -> str:
    """A hash exactly ``n`` bits away from PHASH_A."""
    return f"{int(PHASH_A, 16) ^ ((1 << n) - 1):016x}"


def facts(
    report_id: str = "r-new",
    *,
    violation: str = "red_light",
    plate: str | None = "moto:29B11234",
    metres_east: float = 0.0,
    minutes: float = 0.0,
    sha: tuple[str, ...] = (),
    phash: tuple[str, ...] = (),
    at: tuple[float, float] = HOAN_KIEM,
    district: str | None = "002",
) -> ReportFacts:
    lat, lon = moved(*at, 90.0, metres_east) if metres_east else at
    return ReportFacts(
        report_id=report_id,
        violation=violation,
        plate_match_key=plate,
        lat=lat,
        lon=lon,
        captured_at=T0 + timedelta(minutes=minutes),
        media_sha256=frozenset(sha),
        media_phash=frozenset(phash),
        district_code=district,
    )


def test_test_helper_moves_points_by_the_requested_distance() -> None:
    moved_facts = facts(metres_east=149.0)
    assert haversine_m(*HOAN_KIEM, moved_facts.lat, moved_facts.lon) == pytest.approx(149.0)


def test_report_facts_reject_naive_capture_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(facts(), captured_at=datetime(2025, 3, 1, 8, 0))


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (-90.5, 0.0), (0.0, 180.5), (0.0, -181.0)])
def test_report_facts_reject_impossible_coordinates(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="out of range"):
        replace(facts(), lat=lat, lon=lon)


def test_config_rejects_negative_values() -> None:
    with pytest.raises(ValueError):
        DedupConfig(phash_max_distance=-1)


# --------------------------------------------------------------------------- join_reason

SHA_1 = "1" * 64
SHA_2 = "2" * 64
FAR_AWAY = (10.7769, 106.7009)  # Ho Chi Minh City, ~1,140 km from Hoan Kiem


@pytest.mark.parametrize(
    ("new", "existing", "expected"),
    [
        pytest.param(
            facts(),
            facts("r-old", metres_east=50, minutes=-5),
            "same_plate",
            id="same_plate_violation_50m_5min_joins",
        ),
        pytest.param(
            facts(),
            facts("r-old", metres_east=149, minutes=-30),
            "same_plate",
            id="same_plate_at_149m_and_exactly_30min_joins",
        ),
        pytest.param(
            facts(),
            facts("r-old", metres_east=10, minutes=30),
            "same_plate",
            id="same_plate_existing_captured_30min_later_joins",
        ),
        pytest.param(
            facts(),
            facts("r-old", metres_east=200),
            None,
            id="same_plate_200m_away_stays_apart",
        ),
        pytest.param(
            facts(),
            facts("r-old", metres_east=151),
            None,
            id="same_plate_just_beyond_radius_stays_apart",
        ),
        pytest.param(
            facts(),
            facts("r-old", minutes=-31),
            None,
            id="same_plate_31min_earlier_stays_apart",
        ),
        pytest.param(
            facts(),
            facts("r-old", minutes=31),
            None,
            id="same_plate_31min_later_stays_apart",
        ),
        pytest.param(
            facts(),
            facts("r-old", violation="no_helmet"),
            None,
            id="same_plate_different_violation_stays_apart",
        ),
        pytest.param(
            facts(plate="moto:29B11234"),
            facts("r-old", plate="car:29B11234"),
            None,
            id="motorbike_and_car_with_equal_plate_text_stay_apart",
        ),
        pytest.param(
            facts(plate="moto:29B11234"),
            facts("r-old", plate="moto:29B11235"),
            None,
            id="different_plates_stay_apart",
        ),
        pytest.param(
            facts(plate=None),
            facts("r-old", plate=None),
            None,
            id="no_plate_on_either_same_place_and_time_stays_apart",
        ),
        pytest.param(
            facts(plate=None),
            facts("r-old"),
            None,
            id="no_plate_on_new_stays_apart_from_plated_report",
        ),
        pytest.param(
            facts(plate=""),
            facts("r-old", plate=""),
            None,
            id="empty_plate_keys_do_not_count_as_a_plate",
        ),
        pytest.param(
            facts(plate=None, sha=(SHA_1,)),
            facts("r-old", plate=None, sha=(SHA_2, SHA_1)),
            "same_media",
            id="no_plate_shared_file_joins",
        ),
        pytest.param(
            facts(plate=None, phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(6),)),
            "similar_media",
            id="no_plate_similar_photo_joins",
        ),
        pytest.param(
            facts(sha=(SHA_1,), plate="moto:29B11234"),
            facts(
                "r-old",
                sha=(SHA_1,),
                plate=None,
                at=FAR_AWAY,
                minutes=3 * 24 * 60,
                district="760",
            ),
            "same_media",
            id="shared_file_joins_whatever_distance_time_or_district",
        ),
        pytest.param(
            facts(sha=(SHA_1,), plate="moto:29B11234"),
            facts("r-old", sha=(SHA_1,), plate="car:51F99999"),
            None,
            id="shared_file_with_incompatible_plates_stays_apart",
        ),
        pytest.param(
            facts(sha=(SHA_1,), violation="red_light"),
            facts("r-old", sha=(SHA_1,), violation="wrong_way"),
            None,
            id="shared_file_with_another_violation_stays_apart",
        ),
        pytest.param(
            facts(phash=(PHASH_A,)),
            facts("r-old", phash=(phash_with_bits(THRESHOLD),), metres_east=149, minutes=-30),
            "similar_media",
            id="photo_at_threshold_distance_joins_within_radius_and_window",
        ),
        pytest.param(
            facts(phash=(PHASH_A,)),
            facts("r-old", phash=(PHASH_A,), at=FAR_AWAY, minutes=-600),
            None,
            id="identical_photo_hash_far_away_stays_apart",
        ),
        pytest.param(
            facts(plate=None, phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(2),), metres_east=151),
            None,
            id="similar_photo_beyond_radius_stays_apart",
        ),
        pytest.param(
            facts(plate=None, phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(2),), minutes=-31),
            None,
            id="similar_photo_outside_window_stays_apart",
        ),
        pytest.param(
            facts(plate=None, phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(2),), district="001"),
            None,
            id="similar_photo_in_another_district_stays_apart",
        ),
        pytest.param(
            facts(plate="car:30A11111", phash=(PHASH_A,)),
            facts("r-old", plate="car:29C24680", phash=(phash_with_bits(4),), minutes=-15),
            None,
            id="similar_photo_of_two_plates_at_one_corner_stays_apart",
        ),
        pytest.param(
            facts(plate="car:30A11111", phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(4),), minutes=-15),
            "similar_media",
            id="similar_photo_plate_and_no_plate_joins",
        ),
        pytest.param(
            facts(violation="red_light", plate=None, phash=(PHASH_A,)),
            facts("r-old", violation="no_helmet", plate=None, phash=(PHASH_A,)),
            None,
            id="similar_photo_of_another_violation_stays_apart",
        ),
        pytest.param(
            facts(plate=None, phash=("0000000000000000",)),
            facts("r-old", plate=None, phash=("0000000000000000",)),
            None,
            id="blank_image_hashes_never_join",
        ),
        pytest.param(
            facts(plate=None, phash=("8000000000000000",)),
            facts("r-old", plate=None, phash=("8000000000000001",)),
            None,
            id="degenerate_hashes_never_join",
        ),
        pytest.param(
            facts(plate=None, phash=(PHASH_A,)),
            facts("r-old", plate=None, phash=(phash_with_bits(THRESHOLD + 1),)),
            None,
            id="photo_one_bit_beyond_threshold_stays_apart",
        ),
        pytest.param(
            facts(plate=None, phash=(phash_with_bits(40), PHASH_A)),
            facts("r-old", plate=None, phash=("ffffffffffffffff", phash_with_bits(2))),
            "similar_media",
            id="any_pair_of_photos_within_threshold_joins",
        ),
        pytest.param(
            facts(sha=(SHA_1,), phash=(PHASH_A,)),
            facts("r-old", sha=(SHA_1,), phash=(PHASH_A,), metres_east=10),
            "same_media",
            id="shared_file_outranks_similar_photo_and_plate",
        ),
        pytest.param(
            facts(phash=(PHASH_A,)),
            facts("r-old", phash=(phash_with_bits(2),), metres_east=10),
            "similar_media",
            id="similar_photo_outranks_plate",
        ),
        pytest.param(
            facts(plate=None),
            facts("r-old", plate=None, sha=(SHA_1,), phash=(PHASH_A,)),
            None,
            id="report_without_media_or_plate_never_joins",
        ),
    ],
)
def test_join_reason(new: ReportFacts, existing: ReportFacts, expected: str | None) -> None:
    assert join_reason(new, existing, CFG) == expected


def test_join_reason_uses_the_configured_phash_threshold() -> None:
    new = facts(plate=None, phash=(PHASH_A,))
    existing = facts("r-old", plate=None, phash=(phash_with_bits(4),))
    assert join_reason(new, existing, DedupConfig(phash_max_distance=4)) == "similar_media"
    assert join_reason(new, existing, DedupConfig(phash_max_distance=3)) is None


def test_join_reason_uses_the_configured_radius_and_window() -> None:
    new = facts()
    existing = facts("r-old", metres_east=400, minutes=-50)
    assert join_reason(new, existing, CFG) is None
    wide = DedupConfig(radius_m=500, window_minutes=60)
    assert join_reason(new, existing, wide) == "same_plate"


def test_real_near_duplicate_photos_join_as_similar_media() -> None:
    original = perceptual_hash(jpeg(scene(11)))
    copy = perceptual_hash(NEAR_DUPLICATES["forwarded_chat_copy"](scene(11)))
    other = perceptual_hash(jpeg(scene(12)))
    assert original and copy and other
    new = facts(plate=None, phash=(copy,))
    assert join_reason(new, facts("r-old", plate=None, phash=(original,)), CFG) == "similar_media"
    assert join_reason(new, facts("r-other", plate=None, phash=(other,)), CFG) is None


@pytest.mark.parametrize(
    ("a", "b", "compatible"),
    [
        pytest.param((), (), True, id="no_plates"),
        pytest.param(("car:30A11111",), (), True, id="plate_and_none"),
        pytest.param((None,), ("",), True, id="none_and_empty_are_no_plate"),
        pytest.param(("car:30A11111",), ("car:30A11111",), True, id="same_key"),
        pytest.param(("car:30A11111",), ("car:29C24680",), False, id="two_plates"),
        pytest.param(("car:30A11111",), ("moto:30A11111",), False, id="same_text_other_class"),
        pytest.param(
            ("car:30A11111",), ("car:30A11111", "car:30A11117"), True, id="within_merged_case"
        ),
        pytest.param(
            ("car:30A11111", "car:29C24680"), ("car:29C24680", "car:51F99999"), False,
            id="overlapping_but_neither_holds_the_other",
        ),
    ],
)  # fmt: skip
def test_plates_compatible(a: tuple, b: tuple, compatible: bool) -> None:
    assert plates_compatible(a, b) is compatible
    assert plates_compatible(b, a) is compatible


def test_photo_distance_is_the_closest_usable_pair() -> None:
    assert photo_distance({PHASH_A}, {phash_with_bits(6), phash_with_bits(3)}) == 3
    assert photo_distance({PHASH_A, "0000000000000000"}, {"0000000000000000"}) is None
    assert photo_distance(set(), {PHASH_A}) is None


# --------------------------------------------------------------------------- find_case


def test_find_case_prefers_the_best_reason_over_an_earlier_report() -> None:
    new = facts(sha=(SHA_1,), phash=(PHASH_A,))
    candidates = [
        ("case-plate", facts("r1", metres_east=20, minutes=-25)),
        ("case-similar", facts("r2", phash=(phash_with_bits(2),), minutes=-20, plate=None)),
        ("case-same", facts("r3", sha=(SHA_1,), minutes=-1, plate=None)),
    ]
    assert find_case(new, candidates, CFG) == ("case-same", "same_media")
    assert find_case(new, candidates[:2], CFG) == ("case-similar", "similar_media")
    assert find_case(new, candidates[:1], CFG) == ("case-plate", "same_plate")


def test_find_case_breaks_a_reason_tie_by_earliest_capture() -> None:
    new = facts()
    candidates = [
        ("case-b", facts("r1", metres_east=30, minutes=-5)),
        ("case-a", facts("r2", metres_east=60, minutes=-20)),
        ("case-c", facts("r3", metres_east=90, minutes=10)),
    ]
    assert find_case(new, candidates, CFG) == ("case-a", "same_plate")


def test_find_case_breaks_a_full_tie_by_smallest_case_id() -> None:
    new = facts()
    candidates = [("case-2", facts("r1", minutes=-5)), ("case-1", facts("r2", minutes=-5))]
    assert find_case(new, candidates, CFG) == ("case-1", "same_plate")
    assert find_case(new, list(reversed(candidates)), CFG) == ("case-1", "same_plate")


@pytest.mark.parametrize(
    "candidates",
    [
        pytest.param([], id="no_candidates"),
        pytest.param(
            [
                ("case-far", facts("r1", metres_east=500)),
                ("case-late", facts("r2", minutes=45)),
                ("case-car", facts("r3", plate="car:29B11234")),
            ],
            id="only_non_matching_candidates",
        ),
    ],
)
def test_find_case_returns_none_when_nothing_matches(
    candidates: list[tuple[str, ReportFacts]],
) -> None:
    assert find_case(facts(), candidates, CFG) is None


def test_find_case_ignores_the_report_itself() -> None:
    new = facts("r-new", sha=(SHA_1,))
    assert find_case(new, [("case-own", facts("r-new", sha=(SHA_1,)))], CFG) is None


def test_find_case_accepts_a_one_shot_iterator() -> None:
    candidates = iter([("case-1", facts("r1", minutes=-1))])
    assert find_case(facts(), candidates, CFG) == ("case-1", "same_plate")


CAR_A, CAR_B = "car:30A11111", "car:29C24680"


def test_find_match_never_joins_a_case_holding_another_plate() -> None:
    # The new car shares a file with a report without a plate, in a case of another car.
    new = facts(plate=CAR_A, sha=(SHA_1,))
    candidates = [("case-b", facts("r1", plate=None, sha=(SHA_1,)))]
    assert find_match(new, candidates, CFG) is not None  # the report alone would do
    assert find_match(new, candidates, CFG, case_plates={"case-b": frozenset({CAR_B})}) is None
    joined = find_match(new, candidates, CFG, case_plates={"case-b": frozenset({CAR_A})})
    assert joined == ("case-b", "same_media", "r1")


def test_find_match_checks_a_whole_case_against_the_given_own_plates() -> None:
    # A case merge: the new report has no plate, but its case holds car A.
    new = facts(plate=None, phash=(PHASH_A,))
    candidates = [("case-b", facts("r1", plate=None, phash=(phash_with_bits(2),)))]
    plates = {"case-b": frozenset({CAR_B})}
    assert find_match(new, candidates, CFG, plates) == ("case-b", "similar_media", "r1")
    assert find_match(new, candidates, CFG, plates, own_plates={CAR_A}) is None


def test_find_match_prefers_the_closest_photo_over_an_earlier_one() -> None:
    new = facts(plate=None, phash=(PHASH_A,))
    candidates = [
        ("case-early", facts("r1", plate=None, phash=(phash_with_bits(8),), minutes=-20)),
        ("case-close", facts("r2", plate=None, phash=(phash_with_bits(1),), minutes=-5)),
    ]
    assert find_match(new, candidates, CFG) == ("case-close", "similar_media", "r2")


@pytest.mark.parametrize(
    ("bits_a", "bits_b", "expected"),
    [
        pytest.param(0, 6, "case-a", id="a_copy_of_one_car_joins_it"),
        pytest.param(0, 4, "case-a", id="nearer_by_the_margin_joins"),
        pytest.param(2, 4, None, id="almost_as_close_to_two_cars_joins_neither"),
        pytest.param(4, 4, None, id="as_close_to_two_cars_joins_neither"),
    ],
)
def test_a_photo_without_plate_like_two_cars_joins_only_a_clearly_nearer_one(
    bits_a: int, bits_b: int, expected: str | None
) -> None:
    new = facts(plate=None, phash=(PHASH_A,))
    candidates = [
        ("case-a", facts("r1", plate=CAR_A, phash=(phash_with_bits(bits_a),), minutes=-15)),
        ("case-b", facts("r2", plate=CAR_B, phash=(phash_with_bits(bits_b),), minutes=-1)),
    ]
    found = find_match(new, candidates, CFG)
    assert (found.case_id if found else None) == expected


def test_two_cases_without_plates_are_no_ambiguity() -> None:
    new = facts(plate=None, phash=(PHASH_A,))
    candidates = [
        ("case-a", facts("r1", plate=None, phash=(phash_with_bits(2),))),
        ("case-b", facts("r2", plate=None, phash=(phash_with_bits(4),))),
    ]
    assert find_match(new, candidates, CFG) == ("case-a", "similar_media", "r1")


# --------------------------------------------------------------------------- first reporter

RECEIVED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
SETTLE = timedelta(minutes=30)


def receipt(
    report_id: str, claimed_min: float, received_min: float, evidence_min: float | None
) -> Receipt:
    """Times in minutes from RECEIVED: claimed capture, report receipt, evidence receipt."""
    return Receipt(
        report_id=report_id,
        captured_at=RECEIVED + timedelta(minutes=claimed_min),
        received_at=RECEIVED + timedelta(minutes=received_min),
        evidence_at=None if evidence_min is None else RECEIVED + timedelta(minutes=evidence_min),
    )


@pytest.mark.parametrize(
    ("receipts", "first"),
    [
        pytest.param([], None, id="no_reports"),
        pytest.param([receipt("a", -5, 0, 1)], "a", id="one_report"),
        pytest.param(
            [receipt("honest", -5, 0, 1), receipt("backdated", -24 * 60, 60, None)],
            "honest",
            id="backdated_report_without_evidence_is_not_first",
        ),
        pytest.param(
            [receipt("honest", -5, 0, 1), receipt("backdated", -24 * 60, 60, 70)],
            "honest",
            id="backdated_claim_with_late_evidence_is_not_first",
        ),
        pytest.param(
            [receipt("later_claim", -2, 0, 1), receipt("earlier_claim", -10, 5, 20)],
            "earlier_claim",
            id="evidence_within_settle_ordered_by_claim",
        ),
        pytest.param(
            [receipt("first_in", -2, 0, 1), receipt("claims_earlier", -10, 5, 40)],
            "first_in",
            id="evidence_beyond_settle_ordered_by_receipt",
        ),
        pytest.param([receipt("a", -5, 0, 1), receipt("b", -5, 0, 1)], "a", id="full_tie_by_id"),
        pytest.param(
            [receipt("a", 0, 0, 0), receipt("b", -1, 0, 20), receipt("c", -30, 0, 40)],
            "b",
            id="anchored_at_the_earliest_evidence_not_chained",
        ),
        pytest.param(
            [receipt("sent_first", 3, 0, None), receipt("claims_earlier", 1, 2, None)],
            "claims_earlier",
            id="no_evidence_anywhere_receipts_within_settle_ordered_by_claim",
        ),
        pytest.param(
            [receipt("sent_first", 3, 0, None), receipt("claims_earlier", -600, 45, None)],
            "sent_first",
            id="no_evidence_anywhere_late_receipt_is_not_first",
        ),
    ],
)
def test_first_reporter_rests_on_the_servers_receipt_of_the_evidence(
    receipts: list[Receipt], first: str | None
) -> None:
    assert first_reporter(receipts, SETTLE) == first
    assert first_reporter(reversed(receipts), SETTLE) == first


def test_first_reporter_settle_interval_is_a_parameter() -> None:
    receipts = [receipt("first_in", -2, 0, 1), receipt("claims_earlier", -10, 5, 40)]
    assert first_reporter(receipts, timedelta(minutes=30)) == "first_in"
    assert first_reporter(receipts, timedelta(minutes=45)) == "claims_earlier"


# --------------------------------------------------------------------------- candidate_window

VIETNAM_AND_HARDER_PLACES = [
    pytest.param((8.6, 104.7), id="ca_mau"),
    pytest.param((21.0285, 105.8542), id="hanoi"),
    pytest.param((23.36, 105.32), id="ha_giang"),
    pytest.param((-33.87, 151.21), id="sydney"),
    pytest.param((69.65, 18.96), id="tromso"),
]


@pytest.mark.parametrize("place", VIETNAM_AND_HARDER_PLACES)
def test_candidate_window_box_contains_the_whole_join_radius(place: tuple[float, float]) -> None:
    new = facts(at=place)
    _, _, (min_lat, max_lat, min_lon, max_lon) = candidate_window(new, CFG)
    for bearing in range(0, 360, 5):
        lat, lon = moved(*place, bearing, CFG.radius_m)
        assert min_lat <= lat <= max_lat, bearing
        assert min_lon <= lon <= max_lon, bearing


@pytest.mark.parametrize("place", VIETNAM_AND_HARDER_PLACES)
def test_candidate_window_box_is_tight(place: tuple[float, float]) -> None:
    new = facts(at=place)
    _, _, (min_lat, max_lat, min_lon, max_lon) = candidate_window(new, CFG)
    # Each corner lies at most radius * sqrt(2) (plus rounding) away: no wasted rows.
    corners = [(min_lat, min_lon), (min_lat, max_lon), (max_lat, min_lon), (max_lat, max_lon)]
    for lat, lon in corners:
        assert haversine_m(*place, lat, lon) <= CFG.radius_m * math.sqrt(2) * 1.001
    assert haversine_m(min_lat, place[1], max_lat, place[1]) == pytest.approx(2 * CFG.radius_m)


def test_candidate_window_time_range_is_the_join_window() -> None:
    new = facts()
    t_min, t_max, _ = candidate_window(new, CFG)
    assert (t_min, t_max) == (T0 - timedelta(minutes=30), T0 + timedelta(minutes=30))
    assert t_min.tzinfo is not None


def test_candidate_window_keeps_every_plate_match_a_join_would_accept() -> None:
    new = facts()
    t_min, t_max, (min_lat, max_lat, min_lon, max_lon) = candidate_window(new, CFG)
    for bearing in range(0, 360, 15):
        for minutes in (-30, -7.5, 0, 30):
            lat, lon = moved(*HOAN_KIEM, bearing, CFG.radius_m * 0.999)
            existing = replace(facts("r-old", minutes=minutes), lat=lat, lon=lon)
            assert join_reason(new, existing, CFG) == "same_plate"
            assert t_min <= existing.captured_at <= t_max
            assert min_lat <= existing.lat <= max_lat
            assert min_lon <= existing.lon <= max_lon


@pytest.mark.parametrize(
    ("place", "expected_lon_range"),
    [
        pytest.param((10.0, 179.9995), (-180.0, 180.0), id="crossing_the_antimeridian_east"),
        pytest.param((10.0, -179.9995), (-180.0, 180.0), id="crossing_the_antimeridian_west"),
        pytest.param((89.9995, 0.0), (-180.0, 180.0), id="reaching_the_north_pole"),
    ],
)
def test_candidate_window_falls_back_to_all_longitudes_where_the_box_would_wrap(
    place: tuple[float, float], expected_lon_range: tuple[float, float]
) -> None:
    _, _, (min_lat, max_lat, min_lon, max_lon) = candidate_window(facts(at=place), CFG)
    assert (min_lon, max_lon) == expected_lon_range
    assert -90.0 <= min_lat < place[0] < max_lat <= 90.0


def test_candidate_window_accepts_any_timezone() -> None:
    new = replace(facts(), captured_at=T0.astimezone(UTC))
    t_min, t_max, _ = candidate_window(new, CFG)
    assert t_min == T0 - timedelta(minutes=30)
    assert t_max == T0 + timedelta(minutes=30)
