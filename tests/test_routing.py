"""Routing a reported position to the district unit responsible for it (server.district_index).

The real pre-2025 boundaries shipped in data/boundaries are loaded once per module. Where a
test relies on a property of the data (a vertex shared by two districts, a point outside
every province polygon, ...), it checks that property first with plain shapely, so that a
change of data cannot make the test pass for the wrong reason.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from server.district_index import (
    DATA_DIR,
    M_PER_DEG,
    DistrictIndex,
    PropertyNames,
    Route,
)
from server.district_index import DistrictInfo as District

DISTRICTS_GZ = DATA_DIR / "vn_adm2_districts_pre2025.geojson.gz"
PROVINCES_GZ = DATA_DIR / "vn_adm1_provinces_pre2025.geojson.gz"
# Bounds of all district polygons except the Hoàng Sa (498) and Trường Sa (576) archipelagos.
VN_BBOX = (102.144028, 8.381387, 109.470109, 23.392851)  # lon_min, lat_min, lon_max, lat_max


def _read(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def raw() -> tuple[dict, dict]:
    return _read(DISTRICTS_GZ), _read(PROVINCES_GZ)


@pytest.fixture(scope="module")
def index() -> DistrictIndex:
    return DistrictIndex.load_default()


@pytest.fixture(scope="module")
def district_shapes(raw: tuple[dict, dict]) -> dict[str, shapely.Geometry]:
    return {f["properties"]["adm2_code"]: shape(f["geometry"]) for f in raw[0]["features"]}


@pytest.fixture(scope="module")
def province_shapes(raw: tuple[dict, dict]) -> dict[str, shapely.Geometry]:
    return {f["properties"]["adm1_code"]: shape(f["geometry"]) for f in raw[1]["features"]}


def _oracle_distances_m(
    shapes: dict[str, shapely.Geometry], codes: list[str], lat: float, lon: float
) -> dict[str, float]:
    """Independent check of the documented distance model: project each polygon onto a
    local equirectangular plane centred on the point and let shapely measure."""
    kx = M_PER_DEG * math.cos(math.radians(lat))

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - lon) * kx, (xy[:, 1] - lat) * M_PER_DEG])

    origin = shapely.Point(0, 0)
    return {c: shapely.distance(shapely.transform(shapes[c], project), origin) for c in codes}


def _oracle_nearest(
    shapes: dict[str, shapely.Geometry], codes: list[str], lat: float, lon: float
) -> tuple[str, float]:
    dists = _oracle_distances_m(shapes, codes, lat, lon)
    return min(dists.items(), key=lambda kv: (kv[1], kv[0]))


def _covering(shapes: dict[str, shapely.Geometry], lat: float, lon: float) -> list[str]:
    p = shapely.Point(lon, lat)
    return sorted(c for c, g in shapes.items() if g.intersects(p))


def _nearby(shapes: dict[str, shapely.Geometry], lat: float, lon: float, deg: float) -> list[str]:
    p = shapely.Point(lon, lat)
    return [c for c, g in shapes.items() if g.distance(p) <= deg]


def _assert_same_in_route_many(index: DistrictIndex, lat: float, lon: float) -> None:
    expected = index.route(lat, lon).district_code
    assert index.route_many(np.array([lat]), np.array([lon])) == [expected]


# --------------------------------------------------------------------------- inside


@pytest.mark.parametrize(
    ("lat", "lon", "code", "name", "province_code"),
    [
        pytest.param(21.0285, 105.8542, "002", "Quận Hoàn Kiếm", "01", id="hoan-kiem-hanoi"),
        pytest.param(21.0341, 105.8372, "001", "Quận Ba Đình", "01", id="ba-dinh-hanoi"),
        pytest.param(10.7769, 106.7009, "760", "Quận 1", "79", id="quan-1-hcmc"),
        pytest.param(16.0600, 108.2200, "492", "Quận Hải Châu", "48", id="hai-chau-da-nang"),
        pytest.param(10.0340, 105.7800, "916", "Quận Ninh Kiều", "92", id="ninh-kieu-can-tho"),
        pytest.param(20.8650, 106.6800, "303", "Quận Hồng Bàng", "31", id="hong-bang-hai-phong"),
        pytest.param(16.4637, 107.5909, "474", "Thành phố Huế", "46", id="hue"),
    ],
)
def test_point_well_inside_a_district_routes_to_it_with_rule_inside(
    index: DistrictIndex, lat: float, lon: float, code: str, name: str, province_code: str
) -> None:
    assert index.route(lat, lon) == Route(code, "inside", 0.0)
    _assert_same_in_route_many(index, lat, lon)
    d = index.district(code)
    assert d is not None and (d.name, d.province_code) == (name, province_code)


# --------------------------------------------------------------------------- borders


def _shared_vertices(a: shapely.Geometry, b: shapely.Geometry) -> list[tuple[float, float]]:
    va = {tuple(map(float, xy)) for xy in shapely.get_coordinates(a)}
    vb = {tuple(map(float, xy)) for xy in shapely.get_coordinates(b)}
    return sorted(va & vb)


def _shared_edge_midpoint(a: shapely.Geometry, b: shapely.Geometry) -> tuple[float, float]:
    """Midpoint of an edge present in both polygons that (in floating point) lies on both."""
    shared = set(_shared_vertices(a, b))
    for ring in shapely.get_rings(shapely.get_parts(a)):
        xy = [tuple(map(float, c)) for c in shapely.get_coordinates(ring)]
        for p, q in zip(xy, xy[1:], strict=False):
            if p in shared and q in shared:
                m = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
                pt = shapely.Point(m)
                if a.intersects(pt) and b.intersects(pt):
                    return m
    raise AssertionError("no shared edge whose midpoint lies on both polygons")


@pytest.mark.parametrize(
    ("code_a", "code_b"),
    [
        pytest.param("001", "002", id="ba-dinh|hoan-kiem"),
        pytest.param("760", "765", id="quan-1|binh-thanh"),
        pytest.param("491", "492", id="thanh-khe|hai-chau"),
        pytest.param("725", "761", id="thuan-an-binh-duong|quan-12-hcmc"),
    ],
)
@pytest.mark.parametrize("where", ["shared-vertex", "shared-edge-midpoint"])
def test_point_on_shared_border_goes_to_exactly_one_district_the_lowest_code(
    index: DistrictIndex,
    district_shapes: dict[str, shapely.Geometry],
    code_a: str,
    code_b: str,
    where: str,
) -> None:
    a, b = district_shapes[code_a], district_shapes[code_b]
    if where == "shared-vertex":
        shared = _shared_vertices(a, b)
        if not shared:
            pytest.fail(f"{code_a} and {code_b} share no vertex in this data")
        lon, lat = shared[len(shared) // 2]
    else:
        lon, lat = _shared_edge_midpoint(a, b)
    covering = _covering(district_shapes, lat, lon)
    assert {code_a, code_b} <= set(covering)  # really on the border of both

    route = index.route(lat, lon)
    assert route == Route(min(covering), "border", 0.0)
    assert index.route_many(np.array([lat, lat]), np.array([lon, lon])) == [min(covering)] * 2


def test_point_in_tiny_overlap_of_two_districts_goes_to_the_lowest_code(
    index: DistrictIndex, district_shapes: dict[str, shapely.Geometry]
) -> None:
    # Thanh Ba (232) and Cẩm Khê (235), Phú Thọ, overlap by about 0.09 km² in this data.
    overlap = shapely.intersection(district_shapes["232"], district_shapes["235"])
    polys = [g for g in shapely.get_parts(overlap) if g.geom_type == "Polygon"]
    pt = max(polys, key=lambda g: g.area).representative_point()
    assert district_shapes["232"].contains(pt) and district_shapes["235"].contains(pt)

    assert index.route(pt.y, pt.x) == Route("232", "border", 0.0)
    _assert_same_in_route_many(index, pt.y, pt.x)


# --------------------------------------------------------------------------- gaps


@pytest.mark.parametrize(
    ("lat", "lon", "province_code", "expected"),
    [
        # The documented probe: former Quận 9 / Thủ Đức, covered by no district polygon.
        pytest.param(10.81, 106.82, "79", "769", id="hcmc-former-quan-9"),
        pytest.param(22.81901, 105.95485, "04", None, id="cao-bang-former-thong-nong"),
        pytest.param(22.80396, 106.32471, "04", None, id="cao-bang-former-tra-linh"),
        pytest.param(20.90071, 105.39921, "17", None, id="hoa-binh-former-ky-son"),
        pytest.param(15.18792, 108.39254, "51", None, id="quang-ngai-former-tay-tra"),
    ],
)
def test_point_in_province_but_no_district_goes_to_nearest_district_of_that_province(
    index: DistrictIndex,
    district_shapes: dict[str, shapely.Geometry],
    province_shapes: dict[str, shapely.Geometry],
    lat: float,
    lon: float,
    province_code: str,
    expected: str | None,
) -> None:
    assert _covering(district_shapes, lat, lon) == []
    assert _covering(province_shapes, lat, lon) == [province_code]

    route = index.route(lat, lon)
    assert route.rule == "province_nearest"
    district = index.district(route.district_code or "")
    assert district is not None and district.province_code == province_code
    own = [d.code for d in index.districts() if d.province_code == province_code]
    code, metres = _oracle_nearest(district_shapes, own, lat, lon)
    assert route.district_code == code
    assert route.distance_m == pytest.approx(metres, abs=0.01)
    if expected is not None:
        assert route.district_code == expected
    _assert_same_in_route_many(index, lat, lon)


# --------------------------------------------------------------------------- tolerance


@pytest.mark.parametrize(
    ("lat", "lon", "expected", "max_m"),
    [
        # ~290 m off the beach of Ngũ Hành Sơn, Đà Nẵng.
        pytest.param(16.03, 108.2606, "494", 400, id="offshore-ngu-hanh-son"),
        # Đông Triều side of the missing Quảng Ninh, outside every polygon, ~630 m from
        # Kinh Môn (Hải Dương): the documented consequence of the tolerance rule there.
        pytest.param(21.065919, 106.515651, "292", 2000, id="quang-ninh-edge-near-kinh-mon"),
    ],
)
def test_point_outside_every_polygon_but_within_tolerance_goes_to_nearest_district(
    index: DistrictIndex,
    district_shapes: dict[str, shapely.Geometry],
    province_shapes: dict[str, shapely.Geometry],
    lat: float,
    lon: float,
    expected: str,
    max_m: float,
) -> None:
    assert _covering(district_shapes, lat, lon) == []
    assert _covering(province_shapes, lat, lon) == []

    route = index.route(lat, lon)
    code, metres = _oracle_nearest(
        district_shapes, _nearby(district_shapes, lat, lon, 0.1), lat, lon
    )
    assert route == Route(expected, "tolerance_nearest", pytest.approx(metres, abs=0.01))
    assert code == expected
    assert 0 < route.distance_m <= max_m
    _assert_same_in_route_many(index, lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(20.95, 107.08, id="quang-ninh-ha-long"),
        pytest.param(21.01, 107.29, id="quang-ninh-cam-pha"),
        pytest.param(21.53, 107.97, id="quang-ninh-mong-cai"),
        pytest.param(21.035, 106.77, id="quang-ninh-uong-bi"),
        pytest.param(20.94, 106.81, id="quang-ninh-quang-yen"),
    ],
)
def test_point_inside_missing_quang_ninh_beyond_tolerance_is_unrouted(
    index: DistrictIndex,
    district_shapes: dict[str, shapely.Geometry],
    province_shapes: dict[str, shapely.Geometry],
    lat: float,
    lon: float,
) -> None:
    assert _covering(province_shapes, lat, lon) == []
    near = _oracle_distances_m(district_shapes, _nearby(district_shapes, lat, lon, 0.1), lat, lon)
    assert min(near.values(), default=math.inf) > index.tolerance_m

    assert index.route(lat, lon) == Route(None, "unrouted", None)
    assert index.route_many(np.array([lat]), np.array([lon])) == [None]


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(12.0, 112.0, id="south-china-sea"),
        pytest.param(17.0, 110.5, id="gulf-of-tonkin-east"),
        pytest.param(0.0, 0.0, id="null-island"),
        pytest.param(48.8566, 2.3522, id="paris"),
        pytest.param(-89.9, -179.9, id="near-south-pole"),
    ],
)
def test_point_far_from_every_district_is_unrouted(
    index: DistrictIndex, lat: float, lon: float
) -> None:
    assert index.route(lat, lon) == Route(None, "unrouted", None)
    assert index.route_many(np.array([lat]), np.array([lon])) == [None]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(math.nan, 105.85, id="nan-lat"),
        pytest.param(21.03, math.nan, id="nan-lon"),
        pytest.param(math.inf, 105.85, id="inf-lat"),
        pytest.param(21.03, -math.inf, id="minus-inf-lon"),
        pytest.param(90.5, 105.85, id="lat-above-90"),
        pytest.param(-91.0, 105.85, id="lat-below-minus-90"),
        pytest.param(21.03, 180.5, id="lon-above-180"),
        pytest.param(21.03, -181.0, id="lon-below-minus-180"),
        pytest.param(None, 105.85, id="none-lat"),
        pytest.param("21.03x", 105.85, id="garbage-string-lat"),
    ],
)
def test_invalid_coordinates_are_unrouted_without_raising(
    index: DistrictIndex, lat: object, lon: object
) -> None:
    assert index.route(lat, lon) == Route(None, "unrouted", None)  # type: ignore[arg-type]


def test_route_many_gives_none_for_invalid_entries_and_routes_the_rest(
    index: DistrictIndex,
) -> None:
    lats = np.array([math.nan, 21.0285, 95.0, 10.7769, math.inf])
    lons = np.array([105.85, 105.8542, 105.85, 106.7009, 106.7])
    assert index.route_many(lats, lons) == [None, "002", None, "760", None]
    assert index.route_many(np.array([]), np.array([])) == []


# --------------------------------------------------------------------------- consistency


def test_route_many_agrees_with_route_on_2000_random_points_in_vietnam_bbox(
    index: DistrictIndex,
) -> None:
    rng = np.random.default_rng(20240722)
    lons = rng.uniform(VN_BBOX[0], VN_BBOX[2], 2000)
    lats = rng.uniform(VN_BBOX[1], VN_BBOX[3], 2000)
    many = index.route_many(lats, lons)
    singles = [index.route(float(la), float(lo)) for la, lo in zip(lats, lons, strict=True)]
    assert many == [r.district_code for r in singles]
    rules = {r.rule for r in singles}
    assert {"inside", "unrouted", "tolerance_nearest"} <= rules  # the sample is not trivial


def test_lookup_grid_gives_exactly_the_answers_of_the_exact_path(
    index: DistrictIndex, raw: tuple[dict, dict]
) -> None:
    exact = DistrictIndex.from_geojson(raw[0], raw[1], grid_cell_deg=None)
    rng = np.random.default_rng(7)
    n = 40_000
    # The whole data extent (archipelagos included), where the grid is most varied.
    lons = rng.uniform(101.5, 116.5, n)
    lats = rng.uniform(7.5, 24.0, n)
    got = index.route_indices(lats, lons)
    want = exact.route_indices(lats, lons)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])


# --------------------------------------------------------------------------- lookups


def test_district_lookup_returns_names_and_none_for_codes_without_geometry(
    index: DistrictIndex,
) -> None:
    assert index.district("002") == District("002", "Quận Hoàn Kiếm", "01", "Thành phố Hà Nội")
    assert index.district("193") is None  # Hạ Long: Quảng Ninh has no geometry
    assert index.district("nope") is None
    codes = [d.code for d in index.districts()]
    assert len(codes) == 692 and codes == sorted(set(codes))
    assert not any(d.province_code == "22" for d in index.districts())


def test_load_default_is_built_once_and_reads_only_the_shipped_files(
    index: DistrictIndex,
) -> None:
    assert DistrictIndex.load_default() is index
    assert DATA_DIR == Path(__file__).resolve().parents[1] / "data" / "boundaries"
    assert DISTRICTS_GZ.is_file() and PROVINCES_GZ.is_file()
    assert (DATA_DIR / "PROVENANCE.md").is_file()


# --------------------------------------------------------------------------- synthetic data


def _square(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _synthetic() -> tuple[dict, dict]:
    """Near the equator. Province P1 = [0,3]x[0,1] holds districts 20 ([0,1]x[0,1]) and
    10 ([1,2]x[0,1]), leaving a gap [2,3]x[0,1]. P2 = district 30 = [0,1]x[2,3].
    District 05 = [3.001,4]x[0,1] belongs to P3, which has no province polygon."""

    def district(code: str, name: str, prov: str, geom: dict) -> dict:
        props = {"code": code, "name": name, "prov": prov, "prov_name": f"Province {prov}"}
        return {"type": "Feature", "properties": props, "geometry": geom}

    def province(code: str, geom: dict) -> dict:
        return {"type": "Feature", "properties": {"pcode": code, "pname": code}, "geometry": geom}

    districts = {
        "type": "FeatureCollection",
        "features": [
            district("20", "West", "P1", _square(0, 0, 1, 1)),
            district("10", "East", "P1", _square(1, 0, 2, 1)),
            district("30", "North", "P2", _square(0, 2, 1, 3)),
            district("05", "Beyond", "P3", _square(3.001, 0, 4, 1)),
        ],
    }
    provinces = {
        "type": "FeatureCollection",
        "features": [
            province("P1", _square(0, 0, 3, 1)),
            province("P2", _square(0, 2, 1, 3)),
        ],
    }
    return districts, provinces


SYNTHETIC_PROPS = PropertyNames(
    district_code="code",
    district_name="name",
    district_province_code="prov",
    district_province_name="prov_name",
    province_code="pcode",
    province_name="pname",
)


def _metres(dlat_deg: float, dlon_deg: float, at_lat: float) -> float:
    return math.hypot(dlat_deg * M_PER_DEG, dlon_deg * M_PER_DEG * math.cos(math.radians(at_lat)))


@pytest.mark.parametrize("grid", [0.01, None], ids=["grid", "no-grid"])
@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        pytest.param(0.5, 0.5, Route("20", "inside", 0.0), id="inside-west"),
        pytest.param(0.5, 1.5, Route("10", "inside", 0.0), id="inside-east"),
        pytest.param(0.5, 1.0, Route("10", "border", 0.0), id="shared-edge-lowest-code"),
        pytest.param(1.0, 1.0, Route("10", "border", 0.0), id="shared-corner-lowest-code"),
        pytest.param(
            0.5,
            2.5,
            Route("10", "province_nearest", _metres(0, 0.5, 0.5)),
            id="province-gap-nearest-own-district",
        ),
        # 11 m from district 05 but inside P1: P1's own nearest district wins.
        pytest.param(
            0.5,
            2.99999,
            Route("10", "province_nearest", _metres(0, 0.99999, 0.5)),
            id="province-gap-ignores-closer-foreign-district",
        ),
        pytest.param(
            0.5,
            4.01,
            Route("05", "tolerance_nearest", _metres(0, 0.01, 0.5)),
            id="within-tolerance",
        ),
        pytest.param(0.5, 4.02, Route(None, "unrouted", None), id="beyond-tolerance"),
        pytest.param(
            1.01,
            0.5,
            Route("20", "tolerance_nearest", _metres(0.01, 0, 1.01)),
            id="within-tolerance-north-of-west",
        ),
    ],
)
def test_synthetic_layout_follows_the_documented_rules(
    lat: float, lon: float, expected: Route, grid: float | None
) -> None:
    districts, provinces = _synthetic()
    index = DistrictIndex.from_geojson(districts, provinces, SYNTHETIC_PROPS, grid_cell_deg=grid)
    route = index.route(lat, lon)
    assert (route.district_code, route.rule) == (expected.district_code, expected.rule)
    if expected.distance_m is None:
        assert route.distance_m is None
    else:
        assert route.distance_m == pytest.approx(expected.distance_m, rel=1e-9)
    assert index.route_many(np.array([lat]), np.array([lon])) == [expected.district_code]
    assert index.district("10") == District("10", "East", "P1", "Province P1")


def test_equidistant_districts_tie_goes_to_the_lowest_code() -> None:
    districts, provinces = _synthetic()
    wide = DistrictIndex.from_geojson(districts, provinces, SYNTHETIC_PROPS, tolerance_m=60_000)
    # Halfway between district 20 (top edge at lat 1) and 30 (bottom edge at lat 2).
    route = wide.route(1.5, 0.5)
    assert route == Route("20", "tolerance_nearest", pytest.approx(0.5 * M_PER_DEG))
    strict = DistrictIndex.from_geojson(districts, provinces, SYNTHETIC_PROPS)
    assert strict.route(1.5, 0.5) == Route(None, "unrouted", None)
