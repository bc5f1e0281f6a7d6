"""Routing at ingest: every new report is placed in a district (or the unrouted queue).

The database has no imported boundaries here, so the router uses the shipped pre-2025
data (server.services.districts); its index is built once per test session. The pure
routing rules themselves are tested in tests/test_routing.py; these tests check what
ingest stores and what the API and the administrators see.
"""

from __future__ import annotations

import gzip
import json
import uuid
from functools import lru_cache

import pytest
import shapely
from shapely.geometry import shape

from server.district_index import DATA_DIR, DISTRICTS_FILE
from server.extensions import db
from server.models import Case, CaseEvent, Report
from tests.factories import Api, MediaFile, photo, report_body
from tests.media_factory import make_photo

HCMC = "Thành phố Hồ Chí Minh"
HANOI = "Thành phố Hà Nội"


@lru_cache(maxsize=1)
def _shapes() -> dict[str, shapely.Geometry]:
    with gzip.open(DATA_DIR / DISTRICTS_FILE, "rt", encoding="utf-8") as fh:
        fc = json.load(fh)
    return {f["properties"]["adm2_code"]: shape(f["geometry"]) for f in fc["features"]}


def shared_vertex(code_a: str, code_b: str) -> tuple[float, float]:
    """(lat, lon) of a vertex that both districts' polygons have (a point on their border)."""
    a, b = _shapes()[code_a], _shapes()[code_b]
    va = {tuple(map(float, xy)) for xy in shapely.get_coordinates(a)}
    vb = {tuple(map(float, xy)) for xy in shapely.get_coordinates(b)}
    shared = sorted(va & vb)
    assert shared, f"{code_a} and {code_b} share no vertex in this data"
    lon, lat = shared[len(shared) // 2]
    return lat, lon


def send(client, lat: float, lon: float, source: str = "gps", **overrides) -> dict:
    """A new report from a new device at (lat, lon); returns the API's answer."""
    api = Api.register(client)
    media = overrides.pop("media", None) or [MediaFile(make_photo(abs(hash((lat, lon))) % 997))]
    body = report_body(
        media,
        location={"lat": lat, "lon": lon, "accuracy_m": 10.0, "source": source},
        **overrides,
    )
    resp = api.put_report(str(uuid.uuid4()), body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def stored(app, report_id: str) -> Report:
    with app.app_context():
        report = db.session.get(Report, report_id)
        db.session.expunge(report)
        return report


# (lat, lon) resolved lazily for the border case, which needs the polygons.
PLACES = [
    # id, lat, lon, district code, district name, province name, rule
    ("inside-dong-da-hanoi", 21.028511, 105.804817, "006", "Quận Đống Đa", HANOI, "inside"),
    ("inside-quan-1-hcmc", 10.7769, 106.7009, "760", "Quận 1", HCMC, "inside"),
    ("border-ba-dinh-hoan-kiem", None, None, "001", "Quận Ba Đình", HANOI, "border"),
    ("gap-former-quan-9-hcmc", 10.81, 106.82, "769", "Thành phố Thủ Đức", HCMC, "province_nearest"),
    (
        "just-off-ngu-hanh-son-beach",
        16.03,
        108.2606,
        "494",
        "Quận Ngũ Hành Sơn",
        "Thành phố Đà Nẵng",
        "tolerance_nearest",
    ),
]


@pytest.mark.parametrize(
    ("lat", "lon", "code", "name", "province", "rule"),
    [pytest.param(*row[1:], id=row[0]) for row in PLACES],
)
def test_report_is_routed_at_ingest_and_the_api_shows_its_district(
    app, client, lat, lon, code, name, province, rule
) -> None:
    if lat is None:
        lat, lon = shared_vertex("001", "002")
    view = send(client, lat, lon)

    assert view["district"] == {"code": code, "name": name, "province": province}
    report = stored(app, view["report_id"])
    assert (report.district_code, report.route_rule) == (code, rule)
    assert report.route_location_source == "gps"
    if rule in ("inside", "border"):
        assert report.route_distance_m == 0.0
    else:
        assert report.route_distance_m > 0


def test_gap_probe_in_hcmc_goes_to_a_district_of_province_79_and_the_api_shows_it(
    app, client
) -> None:
    api = Api.register(client)
    rid = str(uuid.uuid4())
    body = report_body(
        [MediaFile(make_photo(3))],
        location={"lat": 10.81, "lon": 106.82, "accuracy_m": 10.0, "source": "gps"},
    )
    assert api.put_report(rid, body).status_code == 201

    view = api.get_report(rid).get_json()
    report = stored(app, rid)
    assert report.route_rule == "province_nearest"
    with app.app_context():
        from server.services import districts as routing

        info = routing.district_info(report.district_code)
    assert info is not None and info.province_code == "79"
    assert view["district"] == {"code": info.code, "name": info.name, "province": HCMC}


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(12.0, 112.0, id="far-at-sea"),
        pytest.param(20.95, 107.08, id="quang-ninh-ha-long-no-geometry"),
        pytest.param(21.01, 107.29, id="quang-ninh-cam-pha-no-geometry"),
    ],
)
def test_unroutable_report_is_stored_with_no_district_and_rule_unrouted(
    app, client, lat, lon
) -> None:
    view = send(client, lat, lon)

    assert view["district"] is None
    assert view["case_id"] is not None  # still a case, just not one any unit sees yet
    report = stored(app, view["report_id"])
    assert (report.district_code, report.route_rule, report.route_distance_m) == (
        None,
        "unrouted",
        None,
    )
    with app.app_context():
        case = db.session.get(Case, view["case_id"])
        assert (case.district_code, case.unit_code) == (None, None)


@pytest.mark.parametrize("source", ["gps", "exif", "manual"])
def test_report_records_which_location_was_routed(app, client, source) -> None:
    view = send(client, 21.028511, 105.804817, source=source)
    assert stored(app, view["report_id"]).route_location_source == source


def test_photo_with_a_different_exif_position_does_not_reroute_the_report(app, client) -> None:
    """Routing stays on the report's location; the reviewer sees a mismatch flag."""
    api = Api.register(client)
    rid = str(uuid.uuid4())
    pic = photo(lat=10.7769, lon=106.7009)  # EXIF says HCMC, the report says Hà Nội
    assert api.put_report(rid, report_body([pic])).status_code == 201
    resp = api.put_media(rid, pic)
    assert resp.status_code == 201, resp.get_json()

    view = api.get_report(rid).get_json()
    assert view["district"]["code"] == "006"
    assert "exif_location_mismatch" in view["flags"]
    assert stored(app, rid).route_rule == "inside"


def test_far_at_sea_report_is_listed_as_unrouted_then_routed_by_hand(app, client, runner):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    body = report_body(
        [MediaFile(make_photo(7))],
        location={"lat": 12.0, "lon": 112.0, "accuracy_m": 10.0, "source": "manual"},
    )
    assert api.put_report(rid, body).status_code == 201
    routed = send(client, 21.028511, 105.804817, plate="51F-999.99")

    listing = runner.invoke(args=["districts", "unrouted"])
    assert listing.exit_code == 0, listing.output
    assert rid in listing.output
    assert routed["report_id"] not in listing.output

    done = runner.invoke(args=["districts", "route-by-hand", rid, "760", "--actor", "admin:lan"])
    assert done.exit_code == 0, done.output

    view = api.get_report(rid).get_json()
    assert view["district"] == {"code": "760", "name": "Quận 1", "province": HCMC}
    report = stored(app, rid)
    assert (report.district_code, report.route_rule) == ("760", "by_hand")
    with app.app_context():
        case = db.session.get(Case, view["case_id"])
        assert (case.district_code, case.unit_code) == ("760", "CA-760")
        events = db.session.scalars(
            db.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ).all()
        assert [(e.kind, e.to_district, e.actor) for e in events][-1] == (
            "routed_by_hand",
            "760",
            "admin:lan",
        )
    assert rid not in runner.invoke(args=["districts", "unrouted"]).output


def test_routing_a_whole_case_by_hand_places_its_unrouted_reports_too(app, client) -> None:
    pic = make_photo(11)
    first = send(client, 12.0, 112.0, media=[MediaFile(pic)])
    second = send(client, 12.001, 112.001, plate="", media=[MediaFile(pic)])  # same photo
    assert first["case_id"] == second["case_id"]

    from server.services import cases

    with app.app_context():
        case = db.session.get(Case, first["case_id"])
        cases.route_by_hand(case, "494", actor="admin:lan", note="tàu cá Đà Nẵng")

    for view in (first, second):
        report = stored(app, view["report_id"])
        assert (report.district_code, report.route_rule) == ("494", "by_hand")
    with app.app_context():
        case = db.session.get(Case, first["case_id"])
        assert (case.district_code, case.unit_code) == ("494", "CA-494")
        event = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
        assert (event.kind, event.from_district, event.to_district, event.note) == (
            "routed_by_hand",
            None,
            "494",
            "tàu cá Đà Nẵng",
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["route-by-hand", "{rid}", "999"], "unknown district", id="unknown-district"),
        pytest.param(
            ["route-by-hand", str(uuid.UUID(int=1)), "760"], "no report", id="unknown-report"
        ),
    ],
)
def test_route_by_hand_rejects_unknown_ids(app, client, runner, args, message) -> None:
    view = send(client, 12.0, 112.0)
    args = [a.replace("{rid}", view["report_id"]) for a in args]
    result = runner.invoke(args=["districts", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert stored(app, view["report_id"]).district_code is None


def test_unrouted_listing_says_so_when_the_queue_is_empty(client, runner) -> None:
    send(client, 21.028511, 105.804817)
    result = runner.invoke(args=["districts", "unrouted"])
    assert result.exit_code == 0
    assert "no unrouted reports" in result.output
