"""The reveal log and the reveal control in the console.

A province's supervisor reads the reveal log of their own province (reveals made there,
and without who or why earlier reveals made elsewhere of its cases), an administrator
all of it, a reviewer none. The
case page offers the reveal only on reports that name someone. Every test runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Report
from server.services import accounts
from tests.factories import SECRET_NAME, Api, MediaFile, report_body
from tests.media_factory import _draw_scene, _save, exif_bytes
from tests.test_console import (
    DONG_DA,
    PASSWORD,
    T0,
    World,
    build_world,
    post,
    send,
    session_for,
)

REASON = "Công văn 12/TA của Tòa án nhân dân, xác minh nhân chứng"


def _reveal(app: Flask, username: str, report_id: str) -> None:
    resp = post(
        session_for(app, username), f"/console/reports/{report_id}/reveal", {"reason": REASON}
    )
    assert resp.status_code == 200, resp.status_code


def _log(app: Flask, username: str) -> tuple[int, str]:
    resp = session_for(app, username).get("/console/reveals")
    return resp.status_code, resp.get_data(as_text=True)


@pytest.fixture
def revealed(app: Flask, client: FlaskClient) -> World:
    """The console's world with one reveal in each province: a1 (Hà Nội, case A) by the
    Hà Nội supervisor and c1 (Hà Giang, case C) by the Hà Giang supervisor."""
    world = build_world(app, client)
    _reveal(app, "sup_hn", world.reports["a1"])
    _reveal(app, "sup_hg", world.reports["c1"])
    return world


@pytest.mark.parametrize(
    ("username", "sees", "not_sees"),
    [
        ("sup_hn", ["a1"], ["c1"]),
        ("sup_hg", ["c1"], ["a1"]),
        ("admin", ["a1", "c1"], []),
    ],
)
def test_reveal_log_shows_a_supervisor_their_province_and_an_admin_everything(
    app: Flask, revealed: World, username: str, sees: list[str], not_sees: list[str]
) -> None:
    status, page = _log(app, username)
    assert status == 200
    log = page[page.index('id="reveal-log"') :]
    for name in sees:
        assert revealed.reports[name][:8] in log, name
    for name in not_sees:
        assert revealed.reports[name][:8] not in log, name
    assert log.count("<tr><td>") == len(sees)
    assert SECRET_NAME not in page


@pytest.mark.parametrize("username", ["rev_a", "rev_b"])
def test_reviewers_may_not_read_the_reveal_log(app: Flask, revealed: World, username: str) -> None:
    assert _log(app, username)[0] == 403


NAV_LINK = re.compile(r'<nav[^>]*>.*?href="/console/reveals".*?</nav>', re.S)


@pytest.mark.parametrize(
    ("username", "linked"),
    [("sup_hn", True), ("admin", True), ("rev_a", False)],
)
def test_the_reveal_log_is_in_the_menu_of_those_who_may_read_it(
    app: Flask, client: FlaskClient, username: str, linked: bool
) -> None:
    build_world(app, client)
    page = session_for(app, username).get("/console/queue").get_data(as_text=True)
    assert bool(NAV_LINK.search(page)) is linked


def _send_anonymous(
    client: FlaskClient, at: tuple[float, float], plate: str, minutes: float
) -> str:
    """A report that names nobody (the reporter left name, ID and phone empty)."""
    api = Api.register(client)
    taken = T0 + timedelta(minutes=minutes)
    exif = exif_bytes(
        lat=at[0], lon=at[1], taken_at=taken.strftime("%Y-%m-%dT%H:%M:%S"), offset="+07:00"
    )
    media = MediaFile(_save(_draw_scene(4242, (640, 480), 40), "JPEG", exif, quality=90))
    rid = str(uuid.uuid4())
    body = report_body(
        [media],
        plate=plate,
        captured_at=taken.isoformat(),
        location={"lat": at[0], "lon": at[1], "accuracy_m": 5.0, "source": "gps"},
        reporter={"kind": "citizen"},
    )
    assert api.put_report(rid, body).status_code == 201
    assert api.put_media(rid, media).status_code in (200, 201, 204)
    return rid


def test_the_reveal_control_is_only_on_reports_that_name_someone(
    app: Flask, client: FlaskClient
) -> None:
    named, _ = send(client, DONG_DA, plate="30K-246.80")
    anonymous = _send_anonymous(client, DONG_DA, "30K-246.80", minutes=2)
    with app.app_context():
        a, b = db.session.get(Report, named), db.session.get(Report, anonymous)
        assert a.case_id == b.case_id  # the same car, place and time: one case
        assert (a.identity_ciphertext is None, b.identity_ciphertext is None) == (False, True)
        case_id = a.case_id
        accounts.create_user("sup", PASSWORD, "supervisor", province="01", display_name="Sup")
    page = session_for(app, "sup").get(f"/console/cases/{case_id}").get_data(as_text=True)
    links = re.findall(r'<a class="reveal-link" href="([^"]+)"', page)
    assert links == [f"/console/reports/{named}/reveal"]
    assert f'id="r-{anonymous}"' in page  # the anonymous report is shown, without the control


def test_a_reveal_stays_in_the_log_of_the_province_where_it_was_made_after_a_forward(
    app: Flask, revealed: World
) -> None:
    """Hà Nội revealed a1's informant, then case A was forwarded to Hà Giang: the reveal
    stays in Hà Nội's log with who and why; Hà Giang sees that an earlier reveal
    happened, not its reason nor who made it (issue 28)."""
    resp = post(
        session_for(app, "rev_a"),
        f"/console/cases/{revealed.cases['A']}/forward",
        {"to_district": "024", "note": "sai địa bàn"},
    )
    assert resp.status_code == 302
    a1 = revealed.reports["a1"][:8]

    _, hanoi = _log(app, "sup_hn")
    row = _row(hanoi, a1)
    assert REASON in row and "Supervisor HN" in row

    _, hagiang = _log(app, "sup_hg")
    row = _row(hagiang, a1)
    assert 'class="elsewhere"' in row
    assert REASON not in row
    assert "Supervisor HN" not in hagiang and "sup_hn" not in hagiang
    assert REASON in _row(hagiang, revealed.reports["c1"][:8])  # its own reveal, in full

    _, everything = _log(app, "admin")
    assert REASON in _row(everything, a1) and "Supervisor HN" in _row(everything, a1)


def _row(page: str, report_prefix: str) -> str:
    log = page[page.index('id="reveal-log"') :]
    rows = [r for r in log.split("<tr")[1:] if report_prefix in r]
    assert len(rows) == 1, rows
    return rows[0]
