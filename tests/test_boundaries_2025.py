"""The shipped boundaries of 1 July 2025 (data/boundaries/, see PROVENANCE.md).

Pure data checks with shapely: the 34 provinces and the communes carry exactly the codes and
names of the official list (the ``vietnam-provinces`` package), the communes do not overlap,
and every place of ``tests/data/places_2025.json`` (commune taken from published addresses and
the 2025 resolutions, never from this geometry) lies in exactly one commune: its own.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape
from vietnam_provinces import Province, VietNamDivisionType, Ward

ROOT = Path(__file__).resolve().parents[1]
BOUNDARIES = ROOT / "data" / "boundaries"
PLACES = json.loads((ROOT / "tests" / "data" / "places_2025.json").read_text(encoding="utf-8"))
TYPES = {"xã", "phường", "đặc khu"}


def load(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)["features"]


@cache
def communes() -> list[dict]:
    return load(BOUNDARIES / "vn_communes_2025.geojson.gz")


@cache
def provinces() -> list[dict]:
    return load(BOUNDARIES / "vn_provinces_2025.geojson.gz")


@cache
def commune_index() -> tuple[shapely.STRtree, list[dict], list]:
    feats = communes()
    geoms = [shape(f["geometry"]) for f in feats]
    return shapely.STRtree(geoms), feats, geoms


def official_province_name(p: Province) -> str:
    return f"Tỉnh {p.name}" if p.division_type == VietNamDivisionType.TINH else p.name


def test_34_provinces_with_official_codes_and_names():
    official = {f"{p.code.value:02d}": official_province_name(p) for p in Province.iter_all()}
    shipped = {f["properties"]["code"]: f["properties"]["name"] for f in provinces()}
    assert len(provinces()) == 34
    assert shipped == official


def test_every_old_province_is_merged_into_exactly_one_new_one():
    old_codes = [c for f in provinces() for c in f["properties"]["old_codes"]]
    crosswalk = json.loads((BOUNDARIES / "crosswalk_provinces_2025.json").read_text("utf-8"))
    assert len(old_codes) == len(set(old_codes)) == 63
    assert set(crosswalk) == set(old_codes)
    for f in provinces():
        for old in f["properties"]["old_codes"]:
            assert crosswalk[old]["new_code"] == f["properties"]["code"]


def test_every_official_commune_is_present_once_with_its_name():
    official = {f"{w.code.value:05d}": w for w in Ward.iter_all()}
    shipped = [f["properties"] for f in communes()]
    codes = [p["code"] for p in shipped]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(official)
    for p in shipped:
        w = official[p["code"]]
        assert p["name"] == w.name
        assert p["type"] == w.division_type.value and p["type"] in TYPES
        assert p["province_code"] == f"{w.province_code.value:02d}"
        assert isinstance(p["aliases"], list)


def test_commune_geometries_are_valid_multipolygons():
    for f in communes():
        assert f["geometry"]["type"] == "MultiPolygon"
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty, f["properties"]["code"]


def test_communes_overlap_only_in_sub_metre_slivers():
    # Overlaps were clipped at build time (the lower code keeps them); what survives the
    # rounding of coordinates to 1e-5 deg are slivers along shared borders. Each must be
    # thinner than 2 m (width ~ 2 * area / perimeter) and all together under 0.01 km².
    tree, feats, geoms = commune_index()
    a, b = tree.query(geoms, predicate="overlaps")
    total = 0.0
    for i, j in zip(a, b, strict=True):
        if i >= j:
            continue
        inter = shapely.intersection(geoms[i], geoms[j])
        for part in shapely.get_parts(inter):
            if part.area == 0:
                continue
            m2 = part.area * 111_320.0**2  # degrees² to m², generous at these latitudes
            width = 2 * part.area / part.length * 111_320.0
            total += m2
            pair = (feats[i]["properties"]["code"], feats[j]["properties"]["code"])
            assert width < 2.0, (pair, m2, width)
    assert total < 10_000


@pytest.mark.parametrize("province_code", sorted({p["province_code"] for p in PLACES}))
def test_places_table_covers_the_province_twice(province_code):
    assert sum(p["province_code"] == province_code for p in PLACES) >= 2


def test_places_table_covers_all_34_provinces_and_the_official_list():
    official = {f"{w.code.value:05d}": w.name for w in Ward.iter_all()}
    assert len(PLACES) >= 100
    assert {p["province_code"] for p in PLACES} == {
        f"{p.code.value:02d}" for p in Province.iter_all()}
    for p in PLACES:
        assert official[p["commune_code"]] == p["commune_name"]
        assert p["source"]


@pytest.mark.parametrize("place", PLACES, ids=[p["name"] for p in PLACES])
def test_place_routes_to_exactly_its_commune(place):
    tree, feats, geoms = commune_index()
    pt = Point(place["lon"], place["lat"])
    hits = [feats[i]["properties"] for i in tree.query(pt, predicate="intersects")]
    assert [(h["code"], h["name"]) for h in hits] == [
        (place["commune_code"], place["commune_name"])]
    assert hits[0]["province_code"] == place["province_code"]
    assert hits[0]["province_name"] == place["province_name"]


def test_phone_files_hold_each_commune_of_their_province():
    by_province: dict[str, set[str]] = {}
    for f in communes():
        by_province.setdefault(f["properties"]["province_code"], set()).add(
            f["properties"]["code"])
    files = sorted((BOUNDARIES / "communes_2025").glob("*.geojson.gz"))
    assert [p.name.split(".")[0] for p in files] == sorted(by_province)
    for path in files:
        assert path.stat().st_size <= 600 * 1024, path.name
        codes = {f["properties"]["code"] for f in load(path)}
        assert codes == by_province[path.name.split(".")[0]]


def test_district_crosswalk_shares_sum_to_one_both_ways():
    cw = json.loads((BOUNDARIES / "crosswalk_districts_2025.json").read_text("utf-8"))
    d2c, c2d = cw["district_to_communes"], cw["commune_to_districts"]
    assert len(d2c) == 692
    assert set(c2d) == {f["properties"]["code"] for f in communes()}
    for side in (d2c, c2d):
        for shares in side.values():
            if shares:
                assert sum(s["share"] for s in shares) == pytest.approx(1.0, abs=2e-3)
                assert all(s["share"] > 0 for s in shares)
    # The two directions describe the same intersections: a district's main commune lists
    # the district back, and a commune's main district lists the commune back (bar the odd
    # pair whose overlap is a sliver below 0.5 % on the other side, e.g. a commune lying in a
    # gap of the pre-2025 district file keeps only its small largest overlap).
    back_d = [d for d, v in d2c.items()
              if v and any(x["district_code"] == d for x in c2d[v[0]["commune_code"]])]
    back_c = [c for c, v in c2d.items()
              if v and any(x["commune_code"] == c for x in d2c[v[0]["district_code"]])]
    assert len(back_d) >= 0.99 * len(d2c)
    assert len(back_c) >= 0.985 * sum(1 for v in c2d.values() if v)
    # Only communes of Quảng Ninh (no pre-2025 district geometry) and a few island or
    # border communes have no old district at all.
    assert sum(1 for v in c2d.values() if not v) <= 40
