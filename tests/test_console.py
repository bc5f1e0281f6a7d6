"""The review console (server.console): queue, case page, evidence, decisions, split,
forward, the officers' login. Every test runs on SQLite and on PostgreSQL.

The helpers here (``World``, ``login``, ``post``) are shared by the other console tests.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditLog, Case, Decision, OfficerDevice, Report, StatusEvent
from server.services import accounts
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import _draw_scene, _save, exif_bytes

DONG_DA = (21.028511, 105.804817)  # district 006, province 01
BA_DINH = (21.0367, 105.8345)  # district 001, province 01
HA_GIANG = (22.8233, 104.9836)  # district 024, province 02
T0 = datetime.fromisoformat("2026-11-20T08:00:00+07:00")
PASSWORD = "correct horse battery"

_seed = iter(range(50_000, 90_000))


def send(
    client: FlaskClient,
    at: tuple[float, float],
    *,
    plate: str = "30A-123.45",
    minutes: float = 0,
    upload: bool = True,
    api: Api | None = None,
    orientation: int = 1,
) -> tuple[str, MediaFile]:
    """A citizen's report (with the secret identity) and, unless told, its photo: a
    distinct scene with EXIF of the report's place and time."""
    api = api or Api.register(client)
    taken = T0 + timedelta(minutes=minutes)
    exif = exif_bytes(
        lat=at[0],
        lon=at[1],
        taken_at=taken.strftime("%Y-%m-%dT%H:%M:%S"),
        offset="+07:00",
        make="Samsung",
        model="Galaxy A54",
        orientation=orientation,
    )
    media = MediaFile(_save(_draw_scene(next(_seed), (640, 480), 40), "JPEG", exif, quality=90))
    rid = str(uuid.uuid4())
    body = report_body(
        [media],
        plate=plate,
        captured_at=(T0 + timedelta(minutes=minutes)).isoformat(),
        location={"lat": at[0], "lon": at[1], "accuracy_m": 5.0, "source": "gps"},
    )
    resp = api.put_report(rid, body)
    assert resp.status_code == 201, resp.get_json()
    if upload:
        assert api.put_media(rid, media).status_code in (200, 201, 204)
    return rid, media


@dataclass
class World:
    """Cases in three districts of two provinces, and one account of each kind."""

    app: Flask
    reports: dict[str, str] = field(default_factory=dict)  # name -> report id
    media: dict[str, str] = field(default_factory=dict)  # name -> media id
    cases: dict[str, str] = field(default_factory=dict)  # name -> case id
    citizen: Api | None = None

    def case_of(self, name: str) -> str:
        return self.case_of_report(self.reports[name])

    def case_of_report(self, report_id: str) -> str:
        with self.app.app_context():
            return db.session.get(Report, report_id).case_id


def build_world(app: Flask, client: FlaskClient) -> World:
    w = World(app)
    w.citizen = Api.register(client)
    for name, at, plate, minutes, orientation in (
        ("a1", DONG_DA, "30A-123.45", 0, 1),
        ("a2", DONG_DA, "30A-123.45", 3, 6),  # the same car: joins a1's case; turned 90°
        ("a3", DONG_DA, "29B-555.66", 60, 1),
        ("b1", BA_DINH, "30F-777.88", 0, 1),
        ("c1", HA_GIANG, "23A-111.22", 0, 1),
    ):
        rid, media = send(
            client, at, plate=plate, minutes=minutes, api=w.citizen, orientation=orientation
        )
        w.reports[name], w.media[name] = rid, media.media_id
    w.cases = {
        "A": w.case_of("a1"),
        "A3": w.case_of("a3"),
        "B": w.case_of("b1"),
        "C": w.case_of("c1"),
    }
    assert w.case_of("a2") == w.cases["A"]
    with app.app_context():
        mk = accounts.create_user
        mk("rev_a", PASSWORD, "reviewer", districts=["006"], display_name="Reviewer A")
        mk("rev_b", PASSWORD, "reviewer", districts=["001"], display_name="Reviewer B")
        mk("sup_hn", PASSWORD, "supervisor", province="01", display_name="Supervisor HN")
        mk("sup_hg", PASSWORD, "supervisor", province="02", display_name="Supervisor HG")
        mk("admin", PASSWORD, "admin", display_name="Admin")
        mk("officer1", PASSWORD, "officer", display_name="Thiếu úy Trần Văn Cảnh")
    return w


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: FlaskClient, path: str = "/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, page[:500]
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD):
    token = csrf(client)
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )


def session_for(app: Flask, username: str) -> FlaskClient:
    c = app.test_client()
    assert login(c, username).status_code == 302
    return c


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None):
    with client.session_transaction() as s:
        token = s.get("csrf", "")
    return client.post(path, data={**(data or {}), "csrf_token": token})


# ---------------------------------------------------------------------------- queue


def test_queue_lists_own_district_cases_most_confirmed_first(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    page = c.get("/console/queue").get_data(as_text=True)
    a, a3 = world.cases["A"][:8], world.cases["A3"][:8]
    assert a in page and a3 in page
    assert page.index(a) < page.index(a3)  # two reports before one
    assert world.cases["B"][:8] not in page and world.cases["C"][:8] not in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("plate=29B", "A3", "A"),
        ("plate=30a-123", "A", "A3"),
        ("status=verified", None, "A"),
        ("status=submitted", "A", None),
        ("since=2026-11-21", None, "A"),
        ("since=2026-11-19&until=2026-11-20", "A", None),
        ("violation=PARK_SIDEWALK_ROADWAY", "A", None),
    ],
)
def test_queue_filters(app: Flask, world: World, query: str, shown, hidden) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/queue?{query}").get_data(as_text=True)
    if shown:
        assert world.cases[shown][:8] in page
    if hidden:
        assert world.cases[hidden][:8] not in page


def test_queue_pages(app: Flask, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.services import queue

    monkeypatch.setattr(queue, "PAGE_SIZE", 1)
    c = session_for(app, "rev_a")
    first = c.get("/console/queue").get_data(as_text=True)
    second = c.get("/console/queue?page=2").get_data(as_text=True)
    assert world.cases["A"][:8] in first and world.cases["A3"][:8] not in first
    assert world.cases["A3"][:8] in second and "Trang 2/2" in second


@pytest.mark.parametrize(
    "typed",
    [
        "29-MĐ1 013.53",  # as stored
        "29mđ1-01353",  # lowercase đ, other separators
        "29 MĐ1 013 53",
        "mđ1.013",  # part of it
        "29-MD1 013.53",  # D for Đ
        "29md101353",
    ],
)
def test_queue_finds_a_plate_with_d_stroke_however_it_is_typed(
    app: Flask, client: FlaskClient, world: World, typed: str
) -> None:
    rid, _ = send(client, DONG_DA, plate="29-MĐ1 013.53", minutes=200, api=world.citizen)
    electric = world.case_of_report(rid)
    c = session_for(app, "rev_a")
    page = c.get("/console/queue", query_string={"plate": typed}).get_data(as_text=True)
    assert electric[:8] in page, typed
    assert world.cases["A"][:8] not in page and world.cases["A3"][:8] not in page


def test_supervisor_sees_every_district_of_the_province(app: Flask, world: World) -> None:
    page = session_for(app, "sup_hn").get("/console/queue").get_data(as_text=True)
    assert world.cases["A"][:8] in page and world.cases["B"][:8] in page
    assert world.cases["C"][:8] not in page


# ---------------------------------------------------------------------------- case page


def test_case_page_shows_evidence_flags_map_points_and_why_joined(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert f"/console/media/{world.media['a1']}" in page
    assert "EXIF" in page and "Galaxy A54" in page and "Cờ kiểm tra" in page
    assert 'data-lat="21.028511"' in page  # the coordinate list the map is drawn from
    assert "Trùng biển số, hành vi vi phạm, nơi và giờ" in page  # why a2 joined
    assert accounts_pseudonym(app, world.reports["a1"]) in page
    assert "vendor/leaflet/leaflet.js" in page


def test_case_page_and_queue_name_the_violation_and_round_exif_numbers(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    name = "Đỗ, để xe ở lòng đường, vỉa hè trái phép"  # PARK_SIDEWALK_ROADWAY
    assert name[:20] in page
    exif_cells = re.findall(r"<th>(Vĩ độ|Kinh độ)</th><td>([^<]*)</td>", page)
    assert exif_cells and all(re.fullmatch(r"-?\d+\.\d{6}", v) for _, v in exif_cells)
    assert ("Vĩ độ", "21.028511") in exif_cells
    queue = c.get("/console/queue").get_data(as_text=True)
    assert name[:20] in queue and '<option value="PARK_SIDEWALK_ROADWAY"' in queue


def accounts_pseudonym(app: Flask, report_id: str) -> str:
    with app.test_request_context():
        return accounts.pseudonym(report_id)


def test_pseudonym_is_stable_and_differs_between_reports(app: Flask) -> None:
    with app.test_request_context():
        a, b = accounts.pseudonym("r-1"), accounts.pseudonym("r-2")
        assert a == accounts.pseudonym("r-1") and a != b
        assert re.fullmatch(r"Người báo #\d{4}", a)


def test_media_is_streamed_with_its_content_type(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    resp = c.get(f"/console/media/{world.media['a1']}")
    assert resp.status_code == 200
    assert resp.mimetype == "image/jpeg"
    assert resp.data[:2] == b"\xff\xd8"
    assert "no-store" in resp.headers["Cache-Control"]


def test_leaflet_is_vendored_with_its_licence(client: FlaskClient) -> None:
    from server.console.views import STATIC

    assert (STATIC / "vendor/leaflet/LICENSE").read_text().startswith("BSD 2-Clause")
    assert (STATIC / "vendor/leaflet/leaflet.js").stat().st_size > 100_000


# ---------------------------------------------------------------------------- decisions


def _events(app: Flask, report_id: str) -> list[StatusEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(StatusEvent)
                .where(StatusEvent.report_id == report_id)
                .order_by(StatusEvent.seq)
            )
        )


def test_verify_with_a_penalty_number_tells_every_reporter_both_steps(
    app: Flask, world: World
) -> None:
    """A unit that already has the penalty decision gives its number with the
    verification: each reporter sees "verified", then "penalty issued"."""
    c = session_for(app, "rev_a")
    resp = post(
        c,
        f"/console/cases/{world.cases['A']}/decide",
        {
            "kind": "verify",
            "penalty_no": "QD-2026/123",
            "public_note": "Cảm ơn",
            "internal_note": "ghi chú riêng",
            "confirm_count": "2",  # what the page said: the decision reaches 2 reporters
        },
    )
    assert resp.status_code == 302
    for name in ("a1", "a2"):
        verified, issued = _events(app, world.reports[name])[-2:]
        assert (verified.status, verified.public_note, verified.actor) == (
            "verified", "Cảm ơn", "user:rev_a",
        )  # fmt: skip
        assert (issued.status, issued.actor) == ("penalty_issued", "user:rev_a")
    with app.app_context():
        d = db.session.scalar(sa.select(Decision).where(Decision.case_id == world.cases["A"]))
        assert (d.kind, d.penalty_no, d.internal_note) == ("verify", "QD-2026/123", "ghi chú riêng")
        assert db.session.get(Case, world.cases["A"]).verdict == "penalty_issued"
        assert (
            db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case_verify")).case_id
            == world.cases["A"]
        )


def test_reporter_sees_public_part_but_never_the_internal_note(
    app: Flask, client: FlaskClient, world: World
) -> None:
    c = session_for(app, "rev_a")
    post(
        c,
        f"/console/cases/{world.cases['A3']}/decide",
        {
            "kind": "reject",
            "reason_code": "plate_unreadable",
            "public_note": "Ảnh mờ",
            "internal_note": "NOI-BO-123",
        },
    )
    resp = client.get("/api/v1/changes", headers=world.citizen.auth)
    mine = [e for e in resp.get_json()["changes"] if e["report_id"] == world.reports["a3"]]
    assert (mine[-1]["status"], mine[-1]["reason_code"], mine[-1]["public_note"]) == (
        "rejected",
        "plate_unreadable",
        "Ảnh mờ",
    )
    assert "NOI-BO-123" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        # A case of two reports: the page's count is missing, so the decision is refused
        # (verifying itself needs no penalty number: tests/test_console_decisions.py).
        ({"kind": "verify"}, "Vụ việc đã thay đổi (số người phản ánh khác với trang đã xem)."),
        ({"kind": "reject"}, "Hãy chọn lý do từ chối trong danh sách."),
        ({"kind": "reject", "reason_code": "because_i_said_so"}, "Hãy chọn lý do từ chối"),
        (
            {"kind": "needs_info", "reason_code": "plate_unreadable"},
            "Hãy chọn thông tin cần bổ sung trong danh sách.",
        ),
        ({"kind": "approve_all"}, "Quyết định không hợp lệ."),
    ],
)
def test_decision_without_a_coded_reason_is_refused(
    app: Flask, world: World, form, problem
) -> None:
    c = session_for(app, "rev_a")
    resp = post(c, f"/console/cases/{world.cases['A']}/decide", form)
    assert resp.status_code == 302
    assert problem in c.get(resp.location).get_data(as_text=True)
    assert [e.status for e in _events(app, world.reports["a1"])] == ["submitted"] or all(
        e.status not in ("verified", "rejected", "needs_info")
        for e in _events(app, world.reports["a1"])
    )


def test_needs_info_asks_the_reporter_with_a_coded_reason(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    post(
        c,
        f"/console/cases/{world.cases['A3']}/decide",
        {"kind": "needs_info", "reason_code": "need_plate_photo"},
    )
    last = _events(app, world.reports["a3"])[-1]
    assert (last.status, last.reason_code) == ("needs_info", "need_plate_photo")


def test_split_takes_a_report_into_its_own_case(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    resp = post(
        c,
        f"/console/cases/{world.cases['A']}/split",
        {"report_id": world.reports["a2"], "reason": "xe khác"},
    )
    assert resp.status_code == 302
    new_case = world.case_of("a2")
    assert new_case != world.cases["A"] and resp.location.endswith(f"/console/cases/{new_case}")
    with app.app_context():
        assert db.session.get(Case, world.cases["A"]).report_count == 1
        assert (
            db.session.scalar(
                sa.select(AuditLog.action).where(AuditLog.report_id == world.reports["a2"])
            )
            == "report_split"
        )


def test_split_needs_a_reason_and_a_member_report(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    post(
        c,
        f"/console/cases/{world.cases['A']}/split",
        {"report_id": world.reports["a2"], "reason": ""},
    )
    post(
        c,
        f"/console/cases/{world.cases['A']}/split",
        {"report_id": world.reports["b1"], "reason": "x"},
    )
    assert world.case_of("a2") == world.cases["A"] and world.case_of("b1") == world.cases["B"]


def test_forward_moves_the_case_out_of_the_reviewers_reach(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    resp = post(
        c,
        f"/console/cases/{world.cases['A3']}/forward",
        {"to_district": "001", "note": "sai địa bàn"},
    )
    assert resp.status_code == 302 and resp.location.endswith("/console/queue")
    assert c.get(f"/console/cases/{world.cases['A3']}").status_code == 404
    b = session_for(app, "rev_b")
    page = b.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True)
    assert re.search(r"Reviewer A chuyển vụ việc từ [^<]*\(006\) sang [^<]*\(001\)", page)


def test_forward_to_an_unknown_district_is_refused(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    post(c, f"/console/cases/{world.cases['A3']}/forward", {"to_district": "99999"})
    with app.app_context():
        assert db.session.get(Case, world.cases["A3"]).district_code == "006"


# ---------------------------------------------------------------------------- officers


def test_officer_login_gives_a_sync_token_bound_to_the_officer(
    app: Flask, client: FlaskClient, world: World
) -> None:
    resp = client.post(
        "/api/v1/officers/login", json={"username": "officer1", "password": PASSWORD}
    )
    assert resp.status_code == 201
    body = resp.get_json()
    api = Api(client, body["device_id"], body["token"])
    rid, _ = send(client, DONG_DA, plate="51G-999.99", minutes=500, api=api)
    with app.app_context():
        assert db.session.get(OfficerDevice, body["device_id"]).user_id is not None
        case_id = db.session.get(Report, rid).case_id
    page = session_for(app, "rev_a").get(f"/console/cases/{case_id}").get_data(as_text=True)
    assert "Cán bộ: Thiếu úy Trần Văn Cảnh" in page


def officer_api(client: FlaskClient, username: str = "officer1") -> Api:
    resp = client.post("/api/v1/officers/login", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    return Api(client, body["device_id"], body["token"])


@pytest.mark.parametrize("claimed", ["citizen", "officer"])
def test_an_officers_token_makes_an_officers_report_whatever_the_body_claims(
    app: Flask, client: FlaskClient, world: World, claimed: str
) -> None:
    api = officer_api(client)
    body = report_body(
        [MediaFile(_save(_draw_scene(next(_seed), (320, 240), 20), "JPEG", b"", quality=85))],
        reporter={"kind": claimed},
        location={"lat": DONG_DA[0], "lon": DONG_DA[1], "accuracy_m": 5.0, "source": "gps"},
    )
    rid = str(uuid.uuid4())
    assert api.put_report(rid, body).status_code == 201
    assert api.put_report(rid, body).status_code == 200  # a retry is still the same report
    assert api.get_report(rid).get_json()["reporter_kind"] == "officer"
    with app.app_context():
        assert db.session.get(Report, rid).reporter_kind == "officer"


def test_a_citizens_token_cannot_send_an_officers_report(
    app: Flask, client: FlaskClient, world: World
) -> None:
    api = Api.register(client)
    rid = str(uuid.uuid4())
    resp = api.put_report(rid, report_body(reporter={"kind": "officer", "name": "Tự xưng"}))
    assert resp.status_code == 422
    problem = resp.get_json()
    assert problem["code"] == "validation_failed" and "reporter.kind" in problem["errors"]
    with app.app_context():
        assert db.session.get(Report, rid) is None


def test_a_deactivated_officers_phone_loses_its_token(
    app: Flask, client: FlaskClient, world: World
) -> None:
    api = officer_api(client)
    with app.app_context():
        accounts.deactivate("officer1")
    resp = api.put_report(str(uuid.uuid4()), report_body(reporter={"kind": "officer"}))
    assert resp.status_code == 401 and resp.get_json()["code"] == "invalid_token"
    citizen = Api.register(client)  # other phones are untouched
    assert citizen.put_report(str(uuid.uuid4()), report_body()).status_code == 201


@pytest.mark.parametrize(
    ("username", "password"),
    [("officer1", "wrong password"), ("nobody", PASSWORD), ("rev_a", PASSWORD)],
)
def test_officer_login_refusals_are_generic(
    client: FlaskClient, world: World, username, password
) -> None:
    resp = client.post("/api/v1/officers/login", json={"username": username, "password": password})
    assert resp.status_code == 401
    assert resp.get_json()["code"] == "invalid_credentials"


def test_officer_login_is_rate_limited(client: FlaskClient, world: World) -> None:
    for _ in range(accounts.MAX_FAILURES):
        assert (
            client.post(
                "/api/v1/officers/login", json={"username": "officer1", "password": "x"}
            ).status_code
            == 401
        )
    resp = client.post(
        "/api/v1/officers/login", json={"username": "officer1", "password": PASSWORD}
    )
    assert resp.status_code == 429 and resp.get_json()["code"] == "rate_limited"


# ------------------------------------------------------------- report codes (issue 14)


def _code_of(app: Flask, report_id: str) -> str:
    with app.app_context():
        return db.session.get(Report, report_id).code


@pytest.mark.parametrize("form", [str.upper, str.lower, lambda c: f"{c[:4]}-{c[4:]}"])
def test_queue_finds_a_case_by_its_report_code(app: Flask, world: World, form) -> None:
    code = _code_of(app, world.reports["a1"])
    c = session_for(app, "rev_a")
    page = c.get("/console/queue", query_string={"plate": form(code)}).get_data(as_text=True)
    assert world.cases["A"][:8] in page
    assert world.cases["A3"][:8] not in page


def test_case_page_shows_each_reports_code(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert f'Mã phản ánh: <span class="mono">{_code_of(app, world.reports["a1"])}</span>' in page
