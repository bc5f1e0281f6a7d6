"""The console's offline map (server.console.maps): the district boundary served as
GeoJSON to those who may see the district, the place in words, and the tile server only
when one is configured. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from server.console import maps
from server.settings import Settings, override
from tests.test_console import BA_DINH, DONG_DA, HA_GIANG, World, build_world, session_for

BOUNDARY = "/console/districts/{}/boundary.geojson"
TILES = "https://tiles.cong-an.example.vn/{z}/{x}/{y}.png"
ATTRIBUTION = "© Bản đồ Công an tỉnh"


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _shape(feature: dict) -> shapely.Geometry:
    return shapely.from_geojson(json.dumps(feature["geometry"]))


def test_boundary_is_served_for_the_users_own_district(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")  # reviewer of 006 (Đống Đa)
    resp = c.get(BOUNDARY.format("006"))
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    assert "private" in resp.headers["Cache-Control"]
    feature = resp.get_json(force=True)
    assert feature["type"] == "Feature"
    assert feature["properties"] == {
        "code": "006",
        "name": "Quận Đống Đa",
        "province": "Thành phố Hà Nội",
        "place": "Quận Đống Đa, Thành phố Hà Nội",
    }
    outline = _shape(feature)
    assert outline.geom_type in ("Polygon", "MultiPolygon")
    assert outline.contains(shapely.Point(DONG_DA[1], DONG_DA[0]))
    assert not outline.contains(shapely.Point(BA_DINH[1], BA_DINH[0]))
    # Simplified, but still the district: the same area within 1 %.
    with app.app_context():
        full = dict((d.code, g) for d, g in maps.districts.current_index().district_geometries())
    assert abs(outline.area - full["006"].area) / full["006"].area < 0.01
    assert shapely.get_num_coordinates(outline) < shapely.get_num_coordinates(full["006"])
    # A second fetch with the ETag is answered 304.
    again = c.get(BOUNDARY.format("006"), headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


def test_boundary_of_another_district_is_not_found(app: Flask, world: World) -> None:
    rev_a = session_for(app, "rev_a")
    assert rev_a.get(BOUNDARY.format("001")).status_code == 404  # Ba Đình: not rev_a's
    assert rev_a.get(BOUNDARY.format("999")).status_code == 404  # no such district
    assert rev_a.get(BOUNDARY.format("x" * 40)).status_code == 404
    sup_hn = session_for(app, "sup_hn")  # every district of province 01
    assert sup_hn.get(BOUNDARY.format("001")).status_code == 200
    assert sup_hn.get(BOUNDARY.format("024")).status_code == 404  # Hà Giang: province 02
    admin = session_for(app, "admin")
    hg = admin.get(BOUNDARY.format("024")).get_json(force=True)
    assert _shape(hg).contains(shapely.Point(HA_GIANG[1], HA_GIANG[0]))
    anonymous = app.test_client().get(BOUNDARY.format("006"))
    assert anonymous.status_code == 302 and "/console/login" in anonymous.headers["Location"]


def test_case_page_draws_from_own_data_without_tiles(app: Flask, world: World) -> None:
    page = session_for(app, "rev_a").get(f"/console/cases/{world.cases['A']}")
    html = page.get_data(as_text=True)
    assert f'data-boundary="{BOUNDARY.format("006")}"' in html
    assert "Quận Đống Đa, Thành phố Hà Nội" in html  # the case's place in words
    assert html.count('data-place="Quận Đống Đa, Thành phố Hà Nội"') == 2  # each point's
    assert 'data-zoom-in="Phóng to"' in html  # the map's controls speak Vietnamese
    assert "data-tile-url" not in html and "tile.openstreetmap.org" not in html
    assert "{z}" not in html


def test_case_page_names_the_tile_server_when_configured(app: Flask, world: World) -> None:
    override(app, MAP_TILE_URL=TILES, MAP_TILE_ATTRIBUTION=ATTRIBUTION)
    html = (
        session_for(app, "rev_b").get(f"/console/cases/{world.cases['B']}").get_data(as_text=True)
    )
    assert f'data-tile-url="{TILES}"' in html
    assert f'data-tile-attribution="{ATTRIBUTION}"' in html
    assert f'data-boundary="{BOUNDARY.format("001")}"' in html
    assert "Quận Ba Đình, Thành phố Hà Nội" in html


def test_place_words_come_from_our_boundaries(app: Flask) -> None:
    with app.app_context():
        assert maps.place_words("001") == "Quận Ba Đình, Thành phố Hà Nội"
        assert maps.place_words("024") == "Thành phố Hà Giang, Tỉnh Hà Giang"
        assert maps.place_words("999") is None and maps.place_words(None) is None


def test_tile_settings_are_read_from_the_environment() -> None:
    unset = Settings.from_env({})
    assert unset.map_tile_url == "" and unset.map_tile_attribution == ""
    given = Settings.from_env({"MAP_TILE_URL": f" {TILES} ", "MAP_TILE_ATTRIBUTION": ATTRIBUTION})
    assert given.map_tile_url == TILES and given.map_tile_attribution == ATTRIBUTION
