"""server.exif.read_exif: known values round-trip; broken input never raises."""

from __future__ import annotations

import logging
import random
import struct
import time
from collections.abc import Callable
from pathlib import Path

import piexif
import pytest
from PIL import features

from server.exif import EMPTY_EXIF, ExifData, read_exif
from tests.media_factory import (
    make_heic,
    make_jpeg,
    make_mp4_head,
    make_png,
    make_tiff,
    make_webm_head,
    make_webp,
)

HANOI = (21.028511, 105.804817)
SANTIAGO = (-33.4489, -70.6693)  # south and west
SYDNEY = (-33.8688, 151.2093)  # south and east
NEW_YORK = (40.7128, -74.0060)  # north and west
TOL = 1e-6

FORMATS: dict[str, Callable[..., bytes]] = {
    "jpeg": make_jpeg,
    "png": make_png,
    "heic": make_heic,
    "tiff": make_tiff,
}
KEYS = ["lat", "lon", "altitude", "taken_at", "make", "model", "orientation"]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[bytes], Path]:
    counter = iter(range(10_000))

    def _write(data: bytes) -> Path:
        path = tmp_path / f"f{next(counter)}.bin"
        path.write_bytes(data)
        return path

    return _write


def _exif(write: Callable[[bytes], Path], data: bytes) -> ExifData:
    return read_exif(write(data))


def _assert_well_typed(result: ExifData) -> None:
    assert isinstance(result, ExifData)
    assert list(result.to_dict()) == KEYS
    for key in ("lat", "lon", "altitude"):
        assert getattr(result, key) is None or isinstance(getattr(result, key), float)
    assert (result.lat is None) == (result.lon is None)
    if result.lat is not None:
        assert -90 <= result.lat <= 90 and -180 <= result.lon <= 180
    assert result.orientation is None or 1 <= result.orientation <= 8


# --- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize(
    "place",
    [HANOI, SANTIAGO, SYDNEY, NEW_YORK, (0.0, 0.0), (-89.999999, 179.999999)],
    ids=["hanoi_NE", "santiago_SW", "sydney_SE", "new_york_NW", "null_island", "extremes"],
)
def test_gps_round_trips_to_a_millionth_of_a_degree(write, fmt, place):
    result = _exif(write, FORMATS[fmt](lat=place[0], lon=place[1]))
    assert result.lat == pytest.approx(place[0], abs=TOL)
    assert result.lon == pytest.approx(place[1], abs=TOL)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_field_round_trips_in_every_format(write, fmt):
    data = FORMATS[fmt](
        lat=HANOI[0], lon=HANOI[1], altitude=-12.5, taken_at="2026-11-20T08:15:00",
        offset="+07:00", make="Apple", model="iPhone 15 Pro", orientation=6,
    )  # fmt: skip
    result = _exif(write, data)
    assert result.lat == pytest.approx(HANOI[0], abs=TOL)
    assert result.lon == pytest.approx(HANOI[1], abs=TOL)
    assert result.to_dict() | {"lat": None, "lon": None} == {
        "lat": None,
        "lon": None,
        "altitude": -12.5,
        "taken_at": "2026-11-20T08:15:00+07:00",
        "make": "Apple",
        "model": "iPhone 15 Pro",
        "orientation": 6,
    }


def test_webp_exif_is_read_too(write):
    if not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    result = _exif(
        write, make_webp(lat=SANTIAGO[0], lon=SANTIAGO[1], taken_at="2025-01-02T03:04:05")
    )
    assert result.lat == pytest.approx(SANTIAGO[0], abs=TOL)
    assert result.lon == pytest.approx(SANTIAGO[1], abs=TOL)
    assert result.taken_at == "2025-01-02T03:04:05"


@pytest.mark.parametrize(
    ("altitude", "expected"),
    [(-12.5, -12.5), (0.0, 0.0), (15.25, 15.25), (8848.86, 8848.86), (-430.5, -430.5)],
    ids=["below_sea_level", "sea_level", "above", "everest", "dead_sea"],
)
def test_altitude_sign_follows_altitude_ref(write, altitude, expected):
    assert _exif(write, make_jpeg(altitude=altitude)).altitude == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [(0, 12.5), (1, -12.5), (2, 12.5), (3, -12.5), (7, None)],
    ids=["above_sea", "below_sea", "exif3_positive_ellipsoidal", "exif3_negative_ellipsoidal",
         "unknown_ref_is_null"],
)  # fmt: skip
def test_altitude_ref_values(write, ref, expected):
    data = make_jpeg(altitude=12.5, extra_exif={"GPS": {piexif.GPSIFD.GPSAltitudeRef: ref}})
    assert _exif(write, data).altitude == expected


def test_missing_altitude_ref_means_above_sea_level(write):
    gps = {piexif.GPSIFD.GPSAltitude: (125, 10)}
    assert _exif(write, make_jpeg(extra_exif={"GPS": gps})).altitude == 12.5


# --- references -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"omit_lat_ref": True}, (abs(SANTIAGO[0]), SANTIAGO[1])),
        ({"omit_lon_ref": True}, (SANTIAGO[0], abs(SANTIAGO[1]))),
        ({"omit_lat_ref": True, "omit_lon_ref": True}, (abs(SANTIAGO[0]), abs(SANTIAGO[1]))),
    ],
    ids=["no_lat_ref", "no_lon_ref", "no_refs"],
)
def test_missing_reference_is_treated_as_north_or_east(write, kwargs, expected):
    result = _exif(write, make_jpeg(lat=SANTIAGO[0], lon=SANTIAGO[1], **kwargs))
    assert (result.lat, result.lon) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("lat_ref", "lon_ref", "expected"),
    [
        (b"n", b"e", HANOI),
        (b"S", b"W", (-HANOI[0], -HANOI[1])),
        (b"", b"", HANOI),
        (b"X", b"E", (None, None)),
        (b"N", b"Q", (None, None)),
    ],
    ids=["lower_case", "south_west", "empty_is_missing", "bad_lat_ref", "bad_lon_ref"],
)
def test_reference_values(write, lat_ref, lon_ref, expected):
    gps = {piexif.GPSIFD.GPSLatitudeRef: lat_ref, piexif.GPSIFD.GPSLongitudeRef: lon_ref}
    result = _exif(write, make_jpeg(lat=HANOI[0], lon=HANOI[1], extra_exif={"GPS": gps}))
    if expected[0] is None:
        assert (result.lat, result.lon) == (None, None)
    else:
        assert (result.lat, result.lon) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("latitude", "expected"),
    [
        (((21, 1),), 21.0),
        (((21, 1), (15, 10)), 21.025),
        (((21, 1), (1, 1), (426396, 10000)), HANOI[0]),
        (((2102851, 100000), (0, 1), (0, 1)), 21.02851),
    ],
    ids=["degrees_only", "decimal_minutes", "dms", "decimal_degrees_zero_ms"],
)
def test_one_two_or_three_components_are_accepted(write, latitude, expected):
    gps = {piexif.GPSIFD.GPSLatitude: latitude}
    result = _exif(write, make_jpeg(lat=1.0, lon=HANOI[1], extra_exif={"GPS": gps}))
    assert result.lat == pytest.approx(expected, abs=TOL)


# --- impossible values are null -------------------------------------------------------


@pytest.mark.parametrize(
    ("gps", "field"),
    [
        ({piexif.GPSIFD.GPSLatitude: ((95, 1), (0, 1), (0, 1))}, "lat"),
        ({piexif.GPSIFD.GPSLatitude: ((90, 1), (0, 1), (1, 1))}, "lat"),
        ({piexif.GPSIFD.GPSLatitude: ((21, 1), (60, 1), (0, 1))}, "lat"),
        ({piexif.GPSIFD.GPSLatitude: ((21, 1), (1, 1), (60, 1))}, "lat"),
        ({piexif.GPSIFD.GPSLongitude: ((181, 1), (0, 1), (0, 1))}, "lon"),
        ({piexif.GPSIFD.GPSLongitude: ((105, 1), (0, 0), (0, 1))}, "lon"),
        ({piexif.GPSIFD.GPSLongitude: ((0, 0), (0, 0), (0, 0))}, "lon"),
        ({piexif.GPSIFD.GPSLatitude: ((1, 1), (2, 1), (3, 1), (4, 1))}, "lat"),
        ({piexif.GPSIFD.GPSAltitude: (20_000_000, 100)}, "altitude"),
        ({piexif.GPSIFD.GPSAltitude: (10, 0)}, "altitude"),
    ],
    ids=["lat_95", "lat_just_over_90", "minutes_60", "seconds_60", "lon_181",
         "lon_zero_denominator_minutes", "lon_all_zero_over_zero", "four_components",
         "altitude_200km", "altitude_zero_denominator"],
)  # fmt: skip
def test_impossible_gps_values_are_null(write, gps, field):
    data = make_jpeg(lat=HANOI[0], lon=HANOI[1], altitude=5.0, extra_exif={"GPS": gps})
    result = _exif(write, data)
    assert getattr(result, field) is None
    if field in ("lat", "lon"):
        assert (result.lat, result.lon) == (None, None)  # half a position is no position
        assert result.altitude == 5.0  # the rest is still read
    else:
        assert result.lat == pytest.approx(HANOI[0], abs=TOL)


def test_zero_denominators_give_null_not_a_crash(write):
    data = make_jpeg(lat=HANOI[0], lon=HANOI[1], altitude=-12.5, zero_denominator=True,
                     taken_at="2026-11-20T08:15:00", make="Xiaomi")  # fmt: skip
    result = _exif(write, data)
    assert (result.lat, result.lon, result.altitude) == (None, None, None)
    assert result.taken_at == "2026-11-20T08:15:00"
    assert result.make == "Xiaomi"


@pytest.mark.parametrize("orientation", [0, 9, 65535])
def test_orientation_out_of_range_is_null(write, orientation):
    assert _exif(write, make_jpeg(orientation=orientation)).orientation is None


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_1_to_8_is_read(write, orientation):
    assert _exif(write, make_jpeg(orientation=orientation)).orientation == orientation


# --- time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken_at", "offset", "expected"),
    [
        ("2026-11-20T08:15:00", "+07:00", "2026-11-20T08:15:00+07:00"),
        ("2026-11-20T08:15:00", None, "2026-11-20T08:15:00"),
        ("2026:11:20 08:15:00", "-03:30", "2026-11-20T08:15:00-03:30"),
        ("2026:11:20 08:15:00", "+05:45", "2026-11-20T08:15:00+05:45"),
        ("2026:11:20 08:15:00", "+0700", "2026-11-20T08:15:00+07:00"),
        ("2026:11:20 08:15:00", "   :  ", "2026-11-20T08:15:00"),
        ("2026:11:20 08:15:00", "+25:00", "2026-11-20T08:15:00"),
        ("2026:11:20 08:15:00", "garbage", "2026-11-20T08:15:00"),
        ("2026:13:45 25:61:00", "+07:00", None),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        ("not a date", None, None),
    ],
    ids=["offset_present", "offset_absent", "negative_half_hour", "nepal", "offset_no_colon",
         "blank_offset_ignored", "offset_out_of_range_ignored", "garbage_offset_ignored",
         "impossible_date", "zero_date", "blank_date", "junk_date"],
)  # fmt: skip
def test_taken_at(write, taken_at, offset, expected):
    assert _exif(write, make_jpeg(taken_at=taken_at, offset=offset)).taken_at == expected


@pytest.mark.parametrize(
    ("exif", "zeroth", "expected"),
    [
        ({piexif.ExifIFD.DateTimeDigitized: b"2026:01:02 03:04:05"}, {}, "2026-01-02T03:04:05"),
        ({}, {piexif.ImageIFD.DateTime: b"2026:01:02 03:04:06"}, "2026-01-02T03:04:06"),
        (
            {piexif.ExifIFD.DateTimeDigitized: b"2026:01:02 03:04:05"},
            {piexif.ImageIFD.DateTime: b"2026:05:05 05:05:05"},
            "2026-01-02T03:04:05",
        ),
        (
            {piexif.ExifIFD.DateTimeOriginal: b"2026:99:99 99:99:99",
             piexif.ExifIFD.DateTimeDigitized: b"2026:01:02 03:04:05"},
            {},
            "2026-01-02T03:04:05",
        ),
        (
            {piexif.ExifIFD.OffsetTime: b"+07:00"},
            {piexif.ImageIFD.DateTime: b"2026:01:02 03:04:06"},
            "2026-01-02T03:04:06+07:00",
        ),
        (
            {piexif.ExifIFD.DateTimeOriginal: b"2026:01:02 03:04:05",
             piexif.ExifIFD.OffsetTime: b"+09:00"},
            {},
            "2026-01-02T03:04:05+09:00",
        ),
        (
            {piexif.ExifIFD.DateTimeOriginal: b"2026:01:02 03:04:05",
             piexif.ExifIFD.OffsetTimeOriginal: b"+07:00",
             piexif.ExifIFD.OffsetTime: b"+09:00"},
            {},
            "2026-01-02T03:04:05+07:00",
        ),
    ],
    ids=["digitized_fallback", "datetime_fallback", "digitized_before_modification_time",
         "invalid_original_falls_back", "offset_time_with_datetime",
         "offset_time_when_no_offset_time_original", "offset_time_original_wins"],
)  # fmt: skip
def test_taken_at_fallbacks(write, exif, zeroth, expected):
    data = make_jpeg(extra_exif={"Exif": exif, "0th": zeroth})
    assert _exif(write, data).taken_at == expected


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Apple", "Apple"),
        ("  samsung  ", "samsung"),
        ("Canon\x00\x00\x00", "Canon"),
        ("\x00", None),
        ("   ", None),
        ("Xiaomi Redmi Note 13", "Xiaomi Redmi Note 13"),
    ],
)
def test_make_and_model_are_stripped(write, raw, expected):
    result = _exif(write, make_jpeg(make=raw, model=raw))
    assert (result.make, result.model) == (expected, expected)


def test_non_utf8_make_does_not_raise(write):
    data = make_jpeg(extra_exif={"0th": {piexif.ImageIFD.Make: b"Caf\xe9 \xff"}})
    assert _exif(write, data).make == "Café ÿ"


# --- no / broken EXIF -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_image_without_exif_gives_all_null(write, fmt):
    assert _exif(write, FORMATS[fmt]()) == EMPTY_EXIF


def test_empty_exif_to_dict_has_exactly_the_seven_keys():
    assert EMPTY_EXIF.to_dict() == dict.fromkeys(KEYS)


@pytest.mark.parametrize(
    "maker_note",
    [
        bytes(random.Random(1).randrange(256) for _ in range(3000)),
        b"Nikon\x00\x02\x10\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + b"\xff" * 200,
        b"Apple iOS\x00\x00\x01MM" + b"\x00\xff" * 300,
        b"\x00" * 10,
    ],
    ids=["random", "nikon_header_then_junk", "apple_header_then_junk", "zeros"],
)
@pytest.mark.parametrize("make", ["NIKON CORPORATION", "Apple", "Canon"])
def test_maker_note_junk_does_not_stop_gps(write, maker_note, make):
    data = make_jpeg(lat=HANOI[0], lon=HANOI[1], make=make, maker_note=maker_note)
    result = _exif(write, data)
    assert result.lat == pytest.approx(HANOI[0], abs=TOL)
    assert result.make == make


def test_exif_after_a_large_app2_segment_is_found(write):
    """exifread 3.5.1 only scans the first ~4 KB of a JPEG for the Exif APP1."""
    data = make_jpeg(lat=HANOI[0], lon=HANOI[1])
    icc = b"ICC_PROFILE\x00\x01\x01" + bytes(20_000)
    app2 = b"\xff\xe2" + struct.pack(">H", len(icc) + 2) + icc
    result = _exif(write, data[:2] + app2 + data[2:])
    assert result.lat == pytest.approx(HANOI[0], abs=TOL)


def test_png_with_a_non_ascii_chunk_type_before_exif_is_read(write):
    """exifread 3.5.1 raises UnicodeDecodeError on such a chunk type."""
    data = make_png(lat=HANOI[0], lon=HANOI[1])
    chunk = struct.pack(">I", 4) + b"\xe9\xe9\xe9\xe9" + b"junk" + b"\x00\x00\x00\x00"
    result = _exif(write, data[:33] + chunk + data[33:])  # after signature + IHDR
    assert result.lat == pytest.approx(HANOI[0], abs=TOL)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_truncated_files_never_raise(write, fmt):
    data = FORMATS[fmt](lat=HANOI[0], lon=HANOI[1], taken_at="2026-11-20T08:15:00",
                        make="Apple", orientation=3)  # fmt: skip
    cuts = sorted({1, 2, 3, 4, 8, 12, 16, 20, 30, 40, 60, 100, 150, 200, 300, 400,
                   len(data) // 2, len(data) - 1})  # fmt: skip
    for cut in cuts:
        _assert_well_typed(_exif(write, data[:cut]))


def test_jpeg_cut_after_the_exif_block_still_gives_the_gps(write):
    data = make_jpeg(lat=HANOI[0], lon=HANOI[1], size=(320, 240))
    result = _exif(write, data[: len(data) // 2])
    assert result.lat == pytest.approx(HANOI[0], abs=TOL)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    "prefix",
    [b"", b"\xff\xd8", b"\xff\xd8\xff\xe1\x10\x00Exif\x00\x00", b"\x89PNG\r\n\x1a\n",
     b"II*\x00", b"MM\x00*", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
     b"RIFF\x00\x10\x00\x00WEBP"],
    ids=["none", "jpeg_soi", "jpeg_app1", "png", "tiff_le", "tiff_be", "heic", "webp"],
)  # fmt: skip
def test_random_bytes_behind_any_magic_never_raise(write, seed, prefix):
    rng = random.Random(seed)
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 64, 500, 4096])))
    _assert_well_typed(_exif(write, prefix + junk))


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("seed", range(15))
def test_bit_flipped_files_never_raise(write, fmt, seed):
    data = bytearray(FORMATS[fmt](lat=SANTIAGO[0], lon=SANTIAGO[1], altitude=-3.0,
                                  taken_at="2026-11-20T08:15:00", offset="+07:00",
                                  make="Apple", model="X", orientation=8))  # fmt: skip
    rng = random.Random(seed)
    for _ in range(20):
        data[rng.randrange(min(len(data), 1200))] = rng.randrange(256)
    _assert_well_typed(_exif(write, bytes(data)))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, world\n",
        b"<!doctype html><html><body>hi</body></html>",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        make_mp4_head(),
        make_webm_head(),
    ],
    ids=["empty", "text", "html", "pdf", "gif", "mp4_head", "webm_head"],
)
def test_non_image_or_empty_files_give_all_null(write, data):
    assert _exif(write, data) == EMPTY_EXIF


def test_pathological_ifd_is_cut_off_quickly(write):
    """65 535 entries, each a 999-element rational array: ~130M reads for plain exifread."""
    entries = struct.pack("<HHII", 0x0101, 5, 999, 8) * 65535
    data = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 65535) + entries
    started = time.monotonic()
    assert _exif(write, data) == EMPTY_EXIF
    assert time.monotonic() - started < 10


def test_pathological_ifd_inside_a_jpeg_is_cut_off_quickly(write):
    count = (65535 - 2 - 6 - 10) // 12  # fill one APP1 segment
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", count)
    tiff += struct.pack(">HHII", 0x0101, 5, 999, 8) * count
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\x00\x00" + tiff
    started = time.monotonic()
    _assert_well_typed(_exif(write, b"\xff\xd8" + app1 + b"\xff\xd9"))
    assert time.monotonic() - started < 10


def test_heic_box_with_zero_64bit_size_does_not_hang(write):
    """exifread 3.5.1's own HEIC reader loops forever on this."""
    ftyp = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic"
    bad_box = struct.pack(">I", 1) + b"free" + struct.pack(">Q", 0)
    started = time.monotonic()
    assert _exif(write, ftyp + bad_box + bytes(64)) == EMPTY_EXIF
    assert time.monotonic() - started < 5


def test_heic_exif_is_independent_between_files(write):
    """exifread 3.5.1 keeps HEIC boxes in a class-level dict shared between calls."""
    first = _exif(write, make_heic(lat=HANOI[0], lon=HANOI[1]))
    second = _exif(write, make_heic())
    third = _exif(write, make_heic(lat=SANTIAGO[0], lon=SANTIAGO[1]))
    assert first.lat == pytest.approx(HANOI[0], abs=TOL)
    assert second == EMPTY_EXIF
    assert third.lat == pytest.approx(SANTIAGO[0], abs=TOL)


def test_missing_file_is_an_os_error_not_empty_exif(tmp_path):
    with pytest.raises(OSError):
        read_exif(tmp_path / "does-not-exist.jpg")


def test_accepts_str_paths(write):
    path = write(make_jpeg(lat=HANOI[0], lon=HANOI[1]))
    assert read_exif(str(path)).lat == pytest.approx(HANOI[0], abs=TOL)


def test_hostile_file_does_not_flood_the_log_with_exifread_warnings(write, caplog):
    count = 3000
    junk_at = 8 + 2 + 12 * count + 4
    entries = struct.pack("<HHII", 0x010F, 2, 8, junk_at) * count  # Make, bad UTF-8
    data = b"II*\x00" + struct.pack("<IH", 8, count) + entries + bytes(4) + b"\xff\xfe\xfd" * 3
    with caplog.at_level(logging.DEBUG):
        _assert_well_typed(_exif(write, data))
    assert [r for r in caplog.records if r.name.startswith("exifread")] == []
