"""GET /api/v1/places (issue 14): every district's outline, simplified, for the PWA's map
picker and its place names offline; gzipped, revalidated with an ETag, and naming the
tile server only when one is configured."""

from __future__ import annotations

import gzip
import json

import shapely
from flask import Flask

from server.api import places
from server.services import districts
from server.settings import override


def body(resp) -> dict:
    data = resp.data
    if resp.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


def test_every_district_is_there_with_its_name_and_province(app: Flask, client) -> None:
    resp = client.get("/api/v1/places")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    got = body(resp)
    with app.app_context():
        index = districts.current_index()
        expected = {d.code: d for d in index.districts()}
    assert {d["code"] for d in got["districts"]} == set(expected)
    ba_dinh = next(d for d in got["districts"] if d["code"] == "001")
    assert (ba_dinh["name"], ba_dinh["province"]) == ("Quận Ba Đình", "Thành phố Hà Nội")
    assert got["tiles"] is None and got["tolerance_m"] == places.TOLERANCE_M


def test_a_simplified_outline_stays_within_its_tolerance(app: Flask) -> None:
    with app.app_context():
        index = districts.current_index()
        got = places.places(index)
        exact = dict((d.code, g) for d, g in index.district_geometries())
    for d in got["districts"][::25]:
        simple = shapely.geometry.shape({"type": d["type"], "coordinates": d["coordinates"]})
        # Hausdorff distance in degrees; 0.005 deg is some 500 m (the tolerance is 200 m).
        assert simple.hausdorff_distance(exact[d["code"]]) < 0.005, d["code"]
        assert simple.is_valid


def test_gzip_and_a_revalidation_costs_a_304(client) -> None:
    first = client.get("/api/v1/places", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert len(first.data) < 400_000  # the country's outlines, gzipped
    again = client.get(
        "/api/v1/places",
        headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.data == b""


def test_a_configured_tile_server_is_named(app: Flask, client) -> None:
    first = client.get("/api/v1/places").headers["ETag"]
    override(
        app, MAP_TILE_URL="https://tiles.example.vn/{z}/{x}/{y}.png", MAP_TILE_ATTRIBUTION="© OSM"
    )
    resp = client.get("/api/v1/places")
    assert resp.headers["ETag"] != first  # a phone's copy is replaced
    got = body(resp)
    assert got["tiles"] == {
        "url": "https://tiles.example.vn/{z}/{x}/{y}.png",
        "attribution": "© OSM",
    }
