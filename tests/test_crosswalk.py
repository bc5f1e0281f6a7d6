"""The crosswalk between the pre-2025 map and today's (server.services.crosswalk): every
old province in exactly one new province, figures carried across with their totals
kept, on both sides."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from server.district_index import DATA_DIR
from server.services import crosswalk


def _features(name: str) -> list[dict]:
    with gzip.open(DATA_DIR / name, "rt", encoding="utf-8") as fh:
        return json.load(fh)["features"]


OLD = {f["properties"]["adm1_code"] for f in _features("vn_adm1_provinces_pre2025.geojson.gz")}
NEW = {f["properties"]["code"]: f["properties"] for f in _features("vn_provinces_2025.geojson.gz")}


def test_every_old_province_lies_in_one_of_the_34_new_provinces():
    mapping = crosswalk.province_map()
    # The old outlines lack Quảng Ninh (22; data/boundaries/PROVENANCE.md): 62 + 1.
    assert len(OLD) == 62 and set(mapping) == OLD | {"22"}
    assert mapping["22"] == "22"
    assert set(mapping.values()) == set(NEW) and len(NEW) == 34


def test_the_crosswalk_and_the_new_outlines_name_the_same_old_provinces():
    for code, props in NEW.items():
        assert crosswalk.old_provinces(code) == sorted(props["old_codes"]), props["name"]


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("24", "24", "Tỉnh Bắc Ninh"),  # Bắc Giang
        ("27", "24", "Tỉnh Bắc Ninh"),
        ("06", "19", "Tỉnh Thái Nguyên"),  # Bắc Kạn
        ("01", "01", "Thành phố Hà Nội"),
    ],
)
def test_old_province_to_new(old, new, name):
    assert crosswalk.new_province(old) == new
    assert crosswalk.province_names()[new] == name


def test_province_figures_keep_their_total_on_both_sides():
    rng = random.Random(23)
    figures = {code: rng.randint(0, 5000) for code in sorted(OLD)}
    carried = crosswalk.carry_provinces(figures)
    assert sum(carried.values()) == sum(figures.values())
    for new, value in carried.items():
        assert value == sum(figures[o] for o in crosswalk.old_provinces(new))
    assert carried["24"] == figures["24"] + figures["27"]  # Bắc Giang + Bắc Ninh


def test_an_unknown_old_province_is_an_error_not_a_zero():
    with pytest.raises(crosswalk.CrosswalkError):
        crosswalk.new_province("99")
    with pytest.raises(crosswalk.CrosswalkError):
        crosswalk.carry_provinces({"99": 1})


SHARES = {
    "001": [("00004", 0.6), ("00008", 0.39)],  # rounding in the file: sums to 0.99
    "002": [("00008", 1.0)],
    "003": [("00012", 0.5), ("00004", 0.25), ("00016", 0.25)],
}


def test_district_figures_split_by_area_share_keep_their_total():
    shares = crosswalk.normalise(SHARES)
    figures = {"001": 99.0, "002": 10.0, "003": 40.0}
    carried = crosswalk.carry_districts(figures, shares)
    assert sum(carried.values()) == pytest.approx(sum(figures.values()))
    assert carried["00004"] == pytest.approx(60.0 + 10.0)
    assert crosswalk.districts_of_commune("00008", shares) == [
        ("001", pytest.approx(0.39 / 0.99)),
        ("002", 1.0),
    ]
    # The reverse table carries the same figures to the same totals.
    back = {
        c: sum(figures[d] * s for d, s in crosswalk.districts_of_commune(c, shares))
        for c in carried
    }
    assert back == pytest.approx(carried)


def test_the_shipped_district_crosswalk_keeps_totals_both_ways():
    districts = {
        f["properties"]["adm2_code"] for f in _features("vn_adm2_districts_pre2025.geojson.gz")
    }
    shares = crosswalk.district_shares()
    assert set(shares) == districts
    rng = random.Random(2025)
    figures = {d: float(rng.randint(0, 900)) for d in sorted(districts) if shares[d]}
    carried = crosswalk.carry_districts(figures)
    assert sum(carried.values()) == pytest.approx(sum(figures.values()), rel=1e-9)
    communes = {f["properties"]["code"] for f in _features("vn_communes_2025.geojson.gz")}
    assert set(carried) <= communes
    # The other way: today's figures carried back to the old districts. Communes with no
    # old district (Quảng Ninh, absent from the old data; the Hoàng Sa zone) have none.
    reverse = crosswalk.commune_shares()
    today = {c: float(rng.randint(0, 900)) for c in sorted(reverse) if reverse[c]}
    back = crosswalk.carry_communes(today)
    assert sum(back.values()) == pytest.approx(sum(today.values()), rel=1e-9)
    assert set(back) <= districts
    with pytest.raises(crosswalk.CrosswalkError):
        crosswalk.carry_communes({next(c for c in sorted(reverse) if not reverse[c]): 1.0})
    # Ba Đình's old district (001) lies in today's wards of Ba Đình, Ngọc Hà, Giảng Võ …
    assert {"00004", "00008", "00025"} <= {c for c, _ in crosswalk.communes_of_district("001")}
