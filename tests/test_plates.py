"""Tests for server.plates: the 40 shared vectors plus the rules around them."""

import dataclasses
import json
import random
import re
from pathlib import Path

import pytest

from server.plates import KINDS, VEHICLE_CLASSES, Plate, match_key, normalize_plate

VECTORS = json.loads(
    (Path(__file__).parent / "data" / "plate_examples.json").read_text(encoding="utf-8")
)
NO_DISPLAY_KINDS = {"ambiguous", "unknown", "empty"}
NO_KEY_KINDS = {"unknown", "empty"}


def test_vector_file_has_forty_unique_inputs() -> None:
    """The copied vector file is complete: 40 vectors, no duplicate raw input."""
    assert len(VECTORS) == 40
    assert len({v["raw"] for v in VECTORS}) == 40


@pytest.mark.parametrize("vector", VECTORS, ids=[repr(v["raw"]) for v in VECTORS])
def test_vector_kind_compact_and_display_match_exactly(vector: dict[str, str]) -> None:
    """Each vector: "vehicle_class" is the plate kind, "match_key" the compact form,
    and "display" "" means no display (None)."""
    plate = normalize_plate(vector["raw"])
    assert plate.raw == vector["raw"]
    assert plate.kind == vector["vehicle_class"]
    assert plate.compact == vector["match_key"]
    assert plate.display == (vector["display"] or None)


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v["display"]],
    ids=[repr(v["raw"]) for v in VECTORS if v["display"]],
)
def test_display_form_normalises_to_itself(vector: dict[str, str]) -> None:
    """Feeding a display form back in gives the same kind, compact form and display."""
    first = normalize_plate(vector["raw"])
    assert first.display is not None
    again = normalize_plate(first.display)
    assert (again.kind, again.compact, again.display) == (
        first.kind,
        first.compact,
        first.display,
    )


@pytest.mark.parametrize(
    ("vehicle_class", "kind", "display"),
    [
        ("motorbike", "moto", "29-B1 1234"),
        ("car", "car", "29B-112.34"),
        ("truck", "car", "29B-112.34"),
        ("bus", "car", "29B-112.34"),
        ("bicycle", "ambiguous", None),
        ("other", "ambiguous", None),
        (None, "ambiguous", None),
        ("", "ambiguous", None),
    ],
)
def test_vehicle_class_resolves_ambiguous_plate(
    vehicle_class: str | None, kind: str, display: str | None
) -> None:
    """Without separators '29B11234' is decided by the reporter's vehicle class."""
    plate = normalize_plate("29B11234", vehicle_class)
    assert (plate.kind, plate.compact, plate.display) == (kind, "29B11234", display)


def test_separators_take_precedence_over_vehicle_class() -> None:
    """A break after the 4th character means motorbike even if the reporter picked car,
    and a break after the 3rd means car even if they picked motorbike."""
    assert normalize_plate("29B1-1234", "car").display == "29-B1 1234"
    assert normalize_plate("29B-112.34", "motorbike").display == "29B-112.34"


def test_breaks_after_both_third_and_fourth_character_decide_nothing() -> None:
    """Contradictory separators fall back to the vehicle class, else stay ambiguous."""
    assert normalize_plate("29B-1-1234").kind == "ambiguous"
    assert normalize_plate("29B-1-1234", "motorbike").display == "29-B1 1234"


def test_vehicle_class_does_not_change_unambiguous_plates() -> None:
    """The vehicle class only matters for the 8-character ambiguous form."""
    for vehicle_class in VEHICLE_CLASSES:
        assert normalize_plate("29-B1 123.45", vehicle_class).display == "29-B1 123.45"
        assert normalize_plate("29A-1234", vehicle_class).display == "29A-1234"


def test_match_keys_of_old_motorbike_and_new_car_with_same_compact_form_differ() -> None:
    """'29B1-1234' (motorbike) and '29B-112.34' (car) share a compact form, not a key."""
    moto = normalize_plate("29B1-1234", "motorbike")
    car = normalize_plate("29B-112.34", "car")
    assert moto.compact == car.compact == "29B11234"
    assert match_key(moto, "motorbike") != match_key(car, "car")


def test_same_car_typed_three_ways_has_the_same_match_key() -> None:
    """Dash/dot, lower case with spaces and a Cyrillic А all give one key."""
    keys = {
        match_key(normalize_plate(raw, "car"), "car")
        for raw in ("30A-123.45", "30a 123 45", "30\u0410-123.45")
    }
    assert keys == {"car:30A12345"}


@pytest.mark.parametrize(
    ("vehicle_class", "family"),
    [("car", "car"), ("truck", "car"), ("bus", "car"), ("motorbike", "moto"),
     ("bicycle", "moto"), ("other", "moto")],
)  # fmt: skip
def test_match_key_is_family_colon_compact(vehicle_class: str, family: str) -> None:
    """Key format is '<family>:<compact>'; car/truck/bus are 'car', the rest 'moto'."""
    plate = normalize_plate("29-B1 123.45", vehicle_class)
    assert match_key(plate, vehicle_class) == f"{family}:29B112345"


def test_match_key_folds_d_with_stroke() -> None:
    """'29-MĐ1 013.53' and '29-MD1 013.53' differ in display but share a match key."""
    with_stroke = normalize_plate("29-MĐ1 013.53", "motorbike")
    plain = normalize_plate("29-MD1 013.53", "motorbike")
    assert with_stroke.display == "29-MĐ1 013.53"
    assert plain.display == "29-MD1 013.53"
    assert match_key(with_stroke, "motorbike") == match_key(plain, "motorbike")
    assert match_key(plain, "motorbike") == "moto:29MD101353"


def test_ambiguous_plate_still_gets_a_match_key() -> None:
    """An ambiguous plate is still a plate: the family in the key keeps readings apart."""
    plate = normalize_plate("29B11234")
    assert match_key(plate, "car") == "car:29B11234"
    assert match_key(plate, "motorbike") == "moto:29B11234"


@pytest.mark.parametrize("raw", [None, "", " ", "   \t\n ", "\u3000", "\u00a0"])
def test_empty_or_blank_input_is_kind_empty_without_match_key(raw: str | None) -> None:
    """None and whitespace-only input give kind 'empty', compact '' and no key."""
    plate = normalize_plate(raw)
    assert plate == Plate(raw or "", "empty", "", None)
    assert match_key(plate, "car") is None


@pytest.mark.parametrize(
    "raw",
    ["!!!", "???", "-.-", "😀", "\x00", "\ufeff", "hello world", "SSSSSSS", "123",
     "30A-123.456789", "ABCDEFGHIJ", "Đ", "ßß", "\ud800"],
)  # fmt: skip
def test_garbage_is_unknown_or_empty_and_never_raises(raw: str) -> None:
    """Garbage never raises, has no display and no match key."""
    plate = normalize_plate(raw, "car")
    assert plate.kind in NO_KEY_KINDS
    assert plate.display is None
    assert match_key(plate, "car") is None


def test_unknown_keeps_cleaned_characters_as_compact() -> None:
    """An unrecognised plate keeps its cleaned, Đ-folded characters as the compact form."""
    plate = normalize_plate("hello-đ 42")
    assert (plate.kind, plate.compact, plate.display) == ("unknown", "HELLOD42", None)


def test_punctuation_only_input_is_empty() -> None:
    """Input with no plate character at all counts as empty, not unknown."""
    assert normalize_plate("!!!").kind == "empty"


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("5IG-678.90", "51G-678.90"),  # I -> 1 in the locality
        ("S1G-678.90", "51G-678.90"),  # S -> 5 in the locality
        ("51G-678.9O", "51G-678.90"),  # O -> 0 in the order
        ("29-B1 123.4S", "29-B1 123.45"),  # S -> 5 in a motorbike order
        ("29-AA I23.45", "29-AA 123.45"),  # I -> 1 in a moped order
        ("TC-33-B6", "TC-33-86"),  # B -> 8 in a military number
        ("T29-123.4Z", "T29-123.42"),  # Z -> 2 in a temporary order
    ],
)
def test_ocr_fixes_locality_and_order_group(raw: str, display: str) -> None:
    """Look-alike letters are fixed in the locality and the trailing order group."""
    assert normalize_plate(raw).display == display


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("51B-678.90", "51B-678.90"),
        ("30O-123.45", "30O-123.45"),
        ("29-S1 123.45", "29-S1 123.45"),
        ("29-GD 123.45", "29-GD 123.45"),
    ],
)
def test_ocr_fixes_never_touch_the_series(raw: str, display: str) -> None:
    """B, O, S, G, D in the series slot stay letters."""
    assert normalize_plate(raw).display == display


def test_ocr_reading_with_fewest_fixes_wins() -> None:
    """'29AB12S4' is the moped 29-AB 1254 (one fix), not the car 29A-812.54 (two fixes)."""
    assert normalize_plate("29AB12S4").display == "29-AB 1254"


@pytest.mark.parametrize("raw", ["SSSSSSS", "OO-OOOOO", "3OA-I2S.4O", "TC-SSSS"])
def test_ocr_fixes_refuse_readings_made_of_look_alikes(raw: str) -> None:
    """Too many fixes, or a group with no genuine digit, is not read as a plate."""
    assert normalize_plate(raw).kind == "unknown"


def test_unknown_locality_codes_are_not_rejected() -> None:
    """Codes missing from the locality list (10, 13, 42, 87, 96 ...) still parse."""
    for code in ("10", "13", "42", "87", "96", "00"):
        assert normalize_plate(f"{code}A-123.45").display == f"{code}A-123.45"


def test_lookalike_letters_are_folded_in_any_case() -> None:
    """Lower-case Cyrillic, Greek capitals and Icelandic Ð fold to the Latin plate."""
    assert normalize_plate("30\u0430-123.45").display == "30A-123.45"  # Cyrillic а
    assert normalize_plate("29-\u0391\u0392 123.45").display == "29-AB 123.45"  # Greek ΑΒ
    assert normalize_plate("29K\u03a4-123.45").display == "29KT-123.45"  # Greek Τ
    assert normalize_plate("29-M\u00d01 013.53").display == "29-MĐ1 013.53"  # Ð -> Đ


def test_lower_case_d_with_stroke_is_upper_cased() -> None:
    """A typed 'đ' is kept as Đ in the display and folded to D in the compact form."""
    plate = normalize_plate("29-mđ1 013.53")
    assert (plate.kind, plate.compact, plate.display) == (
        "moto_electric",
        "29MD101353",
        "29-MĐ1 013.53",
    )


def test_old_four_digit_formats_display_without_dot() -> None:
    """4-digit orders are shown as is for every kind that allows them."""
    assert normalize_plate("51LD1234").display == "51LD-1234"
    assert normalize_plate("29-AA 1234").display == "29-AA 1234"
    assert normalize_plate("29-MĐ1 1234").display == "29-MĐ1 1234"


def test_unknown_vehicle_class_raises_value_error() -> None:
    """A vehicle class outside VEHICLE_CLASSES is a caller bug, reported loudly."""
    with pytest.raises(ValueError):
        normalize_plate("30A-123.45", "plane")
    with pytest.raises(ValueError):
        match_key(normalize_plate("30A-123.45"), "plane")
    with pytest.raises(ValueError):
        match_key(normalize_plate("30A-123.45"), "")


def test_vehicle_class_is_case_and_space_insensitive() -> None:
    """' Car ' and 'MOTORBIKE' are accepted."""
    plate = normalize_plate("29B11234", " Car ")
    assert plate.display == "29B-112.34"
    assert match_key(plate, "MOTORBIKE") == "moto:29B11234"


def test_plate_is_immutable() -> None:
    """Plate is a frozen dataclass."""
    plate = normalize_plate("30A-123.45")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plate.kind = "moto"  # type: ignore[misc]


_ALPHABET = (
    "0123456789" * 3
    + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2
    + "abcdefghijklmnopqrstuvwxyz"
    + "ĐđÐ"
    + "АВЕКМНОРСТХУаеорсху"
    + "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαβ"
    + "０１２３４５ＡＢＣ－．"
    + "-. _/·\n\t" * 3
    + "\u0301\u200b\ufeff\x00😀ß€"
)


def _random_text(rng: random.Random) -> str:
    length = rng.randint(0, 16)
    chars = [rng.choice(_ALPHABET) for _ in range(length)]
    if rng.random() < 0.2:
        chars.append(chr(rng.randrange(0x110000)))  # any code point, surrogates included
    return "".join(chars)


def _mutated_vector(rng: random.Random) -> str:
    chars = list(rng.choice(VECTORS)["raw"])
    for _ in range(rng.randint(1, 2)):
        pos = rng.randrange(len(chars) + 1)
        op = rng.choice(("insert", "delete", "replace"))
        if op == "insert":
            chars.insert(pos, rng.choice(_ALPHABET))
        elif chars and pos < len(chars):
            if op == "delete":
                del chars[pos]
            else:
                chars[pos] = rng.choice(_ALPHABET)
    return "".join(chars)


def test_fuzz_random_strings_never_raise_and_keep_invariants() -> None:
    """600 seeded random strings (noise and mutated vectors) never raise, and every
    result is consistent: kind in KINDS, display only for resolved kinds, ASCII compact,
    a key exactly when there is a plate, and a display that normalises to itself."""
    rng = random.Random(20250101)
    recognised = 0
    for i in range(600):
        raw = _random_text(rng) if i % 2 else _mutated_vector(rng)
        vehicle_class = rng.choice((None, *VEHICLE_CLASSES))
        plate = normalize_plate(raw, vehicle_class)
        assert plate.raw == raw
        assert plate.kind in KINDS
        assert (plate.display is None) == (plate.kind in NO_DISPLAY_KINDS), raw
        assert re.fullmatch(r"[0-9A-Z]*", plate.compact), raw
        assert (plate.compact == "") == (plate.kind == "empty"), raw
        for key_class in VEHICLE_CLASSES:
            key = match_key(plate, key_class)
            assert (key is None) == (plate.kind in NO_KEY_KINDS), raw
        if plate.display is not None:
            recognised += 1
            again = normalize_plate(plate.display)
            assert (again.kind, again.compact, again.display) == (
                plate.kind,
                plate.compact,
                plate.display,
            ), raw
    assert recognised > 50  # the mutated vectors exercise the parser, not just the fallback
