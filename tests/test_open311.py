"""Open data (issue 13, item 5): cases as Open311 GeoReport v2 service requests.

Every response is checked against GeoReport v2's field lists (services and requests, in
JSON and XML); the statuses follow the console's decisions; the location is coarsened to
the documented cell; no identity, plate, note or vehicle description ever appears.
Every database test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.services import open311
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE
from tests.test_console import DONG_DA, World, build_world, post, session_for

# GeoReport v2 (wiki.open311.org/GeoReport_v2): the fields of a service and of a
# service request, as the specification lists them.
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
NEVER = [SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE, "30A-123.45", "30A12345", "Xe con màu"]
NEVER += ["Đỗ trên vỉa hè trước số 12"]  # the reporter's note (tests.factories.report_body)


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _json(client: FlaskClient, path: str, **kw: Any) -> Any:
    resp = client.get(path, **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/json"
    return resp.get_json()


def _xml(client: FlaskClient, path: str) -> ET.Element:
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.mimetype == "text/xml"
    return ET.fromstring(resp.data)


# ---------------------------------------------------------------------------- pure


@pytest.mark.parametrize(
    ("value", "snapped"),
    [
        (21.028511, 21.0275),
        (105.804817, 105.8025),
        (21.0300, 21.0325),  # on a cell's edge: the cell above
        (-0.001, -0.0025),
        (0.0, 0.0025),
    ],
)
def test_a_coordinate_snaps_to_the_centre_of_its_cell(value: float, snapped: float) -> None:
    assert open311.snap(value) == pytest.approx(snapped)
    assert abs(open311.snap(value) - value) <= open311.COORD_STEP / 2 + 1e-9


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"service_code": "NOT_A_CODE"}, "service_code"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"start_date": "2026-11-01T00:00:00"}, "start_date"),  # no time zone
        ({"end_date": "9999-12-31T23:59:59-07:00"}, "end_date"),
        ({"page": "0"}, "page"),
        ({"page": "9" * 40}, "page"),
        ({"page_size": "1001"}, "page_size"),
        ({"service_request_id": ",".join(["x"] * 1001)}, "service_request_id"),
    ],
)
def test_bad_filters_name_their_field(args: dict[str, str], field: str) -> None:
    with pytest.raises(open311.Open311Error) as err:
        open311.parse_query(args)
    assert err.value.field == field


def test_the_window_is_90_days_at_most_and_ends_now_by_default() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    start, end = open311.window(open311.RequestQuery(), now)
    assert (start, end) == (now - timedelta(days=90), now)
    long = open311.RequestQuery(start=now - timedelta(days=91), end=now)
    with pytest.raises(open311.Open311Error):
        open311.window(long, now)
    backwards = open311.RequestQuery(start=now, end=now - timedelta(days=1))
    with pytest.raises(open311.Open311Error):
        open311.window(backwards, now)


# ---------------------------------------------------------------------------- services


def test_services_list_every_violation_type_with_the_standard_fields(client) -> None:
    services = _json(client, "/open311/v2/services.json")
    assert len(services) >= 8
    assert all(set(s) == SERVICE_FIELDS for s in services)
    red = next(s for s in services if s["service_code"] == "RED_LIGHT")
    assert red["service_name"] == "Vượt đèn đỏ" and red["metadata"] is False
    english = _json(client, "/open311/v2/services.json", headers={"Accept-Language": "en"})
    assert next(s for s in english if s["service_code"] == "RED_LIGHT")["service_name"] == (
        "Running a red light"
    )
    root = _xml(client, "/open311/v2/services.xml")
    assert root.tag == "services"
    assert {child.tag for child in root[0]} == SERVICE_FIELDS
    assert len(root) == len(services)


# ---------------------------------------------------------------------------- requests


def test_requests_carry_the_standard_fields_coarse_places_and_no_secret(
    app: Flask, client: FlaskClient, world: World
) -> None:
    resp = client.get("/open311/v2/requests.json")
    requests = resp.get_json()
    # Case A (two reports of one car), A3, B and C: one request each.
    assert sorted(r["service_request_id"] for r in requests) == sorted(world.cases.values())
    assert all(set(r) == REQUEST_FIELDS for r in requests)
    a = next(r for r in requests if r["service_request_id"] == world.cases["A"])
    assert a["status"] == "open" and a["status_notes"] == ""
    assert a["service_code"] == "PARK_SIDEWALK_ROADWAY"
    assert a["address"] == "Quận Đống Đa, Thành phố Hà Nội"
    assert a["agency_responsible"] == "Công an Quận Đống Đa"
    assert a["description"] == "2 phản ánh về vi phạm này"
    assert (a["lat"], a["long"]) == (open311.snap(DONG_DA[0]), open311.snap(DONG_DA[1]))
    assert (a["lat"], a["long"]) != DONG_DA
    assert a["media_url"] == ""
    assert a["requested_datetime"].endswith("Z")
    body = resp.get_data(as_text=True) + client.get("/open311/v2/requests.xml").get_data(
        as_text=True
    )
    assert [secret for secret in NEVER if secret in body] == []
    assert "*" == resp.headers["Access-Control-Allow-Origin"]


def test_statuses_follow_the_decisions(app: Flask, client: FlaskClient, world: World) -> None:
    c = session_for(app, "rev_a")
    verify = {"kind": "verify", "confirm_count": "2"}
    assert post(c, f"/console/cases/{world.cases['A']}/decide", verify).status_code == 302
    reject = {"kind": "reject", "reason_code": "plate_unreadable", "confirm_count": "1"}
    assert post(c, f"/console/cases/{world.cases['A3']}/decide", reject).status_code == 302

    closed = _json(client, "/open311/v2/requests.json?status=closed")
    by_id = {r["service_request_id"]: r for r in closed}
    assert set(by_id) == {world.cases["A"], world.cases["A3"]}
    assert by_id[world.cases["A"]]["status_notes"] == "Đã xác minh vi phạm"
    assert by_id[world.cases["A3"]]["status_notes"] == "Không đọc được biển số xe"
    opened = _json(client, "/open311/v2/requests.json?status=open")
    assert {r["service_request_id"] for r in opened} == {world.cases["B"], world.cases["C"]}
    both = _json(client, "/open311/v2/requests.json?status=open,closed")
    assert len(both) == 4
    english = _json(
        client,
        f"/open311/v2/requests/{world.cases['A3']}.json",
        headers={"Accept-Language": "en"},
    )
    assert english[0]["status_notes"] == "The plate cannot be read"


def test_filters_by_id_code_date_and_page(app: Flask, client: FlaskClient, world: World) -> None:
    a, b = world.cases["A"], world.cases["B"]
    picked = _json(client, f"/open311/v2/requests.json?service_request_id={a},{b}")
    assert {r["service_request_id"] for r in picked} == {a, b}
    assert _json(client, "/open311/v2/requests.json?service_code=RED_LIGHT") == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert _json(client, "/open311/v2/requests.json", query_string={"start_date": future}) == []
    pages = [
        _json(client, f"/open311/v2/requests.json?page_size=3&page={n}") for n in (1, 2, 3)
    ]
    assert [len(p) for p in pages] == [3, 1, 0]
    seen = [r["service_request_id"] for p in pages for r in p]
    assert sorted(seen) == sorted(world.cases.values())


def test_one_request_in_json_and_xml_and_404_for_an_unknown_one(
    app: Flask, client: FlaskClient, world: World
) -> None:
    case_id = world.cases["B"]
    one = _json(client, f"/open311/v2/requests/{case_id}.json")
    assert [r["service_request_id"] for r in one] == [case_id]
    root = _xml(client, f"/open311/v2/requests/{case_id}.xml")
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert {child.tag for child in root[0]} == REQUEST_FIELDS
    assert root[0].findtext("service_request_id") == case_id
    assert root[0].findtext("address") == "Quận Ba Đình, Thành phố Hà Nội"
    missing = client.get("/open311/v2/requests/nope.json")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/open311/v2/requests.csv").status_code == 404


def test_a_merged_case_is_not_listed(app: Flask, client: FlaskClient, world: World) -> None:
    c = session_for(app, "rev_a")
    a, a3 = world.cases["A"], world.cases["A3"]
    resp = post(c, f"/console/cases/{a}/merge", {"other": a3})
    assert resp.status_code == 302
    listed = {r["service_request_id"] for r in _json(client, "/open311/v2/requests.json")}
    assert len(listed) == 3 and {a, a3} & listed


@pytest.mark.parametrize(
    "query",
    [
        "status=pending",
        "start_date=yesterday",
        "page_size=5000",
        "service_code=X'--",
        "start_date=9999-12-31T00:00:00Z",
        "end_date=0001-01-02T00:00:00Z",
    ],
)
def test_bad_queries_are_a_400_problem(client: FlaskClient, query: str) -> None:
    resp = client.get(f"/open311/v2/requests.json?{query}")
    assert resp.status_code == 400
    body = json.loads(resp.data)
    assert body["code"] == "invalid_query" and body["errors"]
