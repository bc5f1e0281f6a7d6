"""Authorisation of every console route and the officers' API, for every kind of caller.

The matrix is checked against ``app.url_map``: a new console route without a row here
fails :func:`test_every_console_route_is_in_the_matrix`. Each caller runs the whole
matrix in one world (on SQLite and PostgreSQL); the target of each request belongs to
district 006 (province 01).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, StatusEvent
from tests.test_console import World, build_world, login, session_for

LOGIN = "login"  # a redirect to the login page

CALLERS = (
    "anonymous",
    "citizen",
    "reviewer_other",
    "reviewer_right",
    "supervisor_other",
    "supervisor_right",
)

# (endpoint, method) -> (path builder, form, expected per caller in CALLERS order)
Row = tuple[Callable[[World], str], dict[str, str] | Callable[[World], dict[str, str]], tuple]
MATRIX: dict[tuple[str, str], Row] = {
    ("console.login", "GET"): (lambda w: "/console/login", {}, (200, 200, 200, 200, 200, 200)),
    ("console.static", "GET"): (
        lambda w: "/console/static/console.css",
        {},
        (200, 200, 200, 200, 200, 200),
    ),
    ("console.index", "GET"): (lambda w: "/console/", {}, (LOGIN, LOGIN, 302, 302, 302, 302)),
    ("console.queue", "GET"): (lambda w: "/console/queue", {}, (LOGIN, LOGIN, 200, 200, 200, 200)),
    ("console.case", "GET"): (
        lambda w: f"/console/cases/{w.cases['A']}",
        {},
        (LOGIN, LOGIN, 404, 200, 404, 200),
    ),
    ("console.district_boundary", "GET"): (
        lambda w: "/console/districts/006/boundary.geojson",
        {},
        (LOGIN, LOGIN, 404, 200, 404, 200),
    ),
    ("console.media", "GET"): (
        lambda w: f"/console/media/{w.media['a1']}",
        {},
        (LOGIN, LOGIN, 404, 200, 404, 200),
    ),
    ("console.evidence_package", "POST"): (
        lambda w: f"/console/cases/{w.cases['A']}/evidence-package",
        {},
        (401, 401, 404, 200, 404, 200),
    ),
    ("console.decide", "POST"): (
        lambda w: f"/console/cases/{w.cases['A3']}/decide",
        {"kind": "reject", "reason_code": "not_a_violation"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.split", "POST"): (
        lambda w: f"/console/cases/{w.cases['A']}/split",
        lambda w: {"report_id": w.reports["a2"], "reason": "another car"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.merge", "POST"): (  # an unknown other case: refused, the world stays as it is
        lambda w: f"/console/cases/{w.cases['A']}/merge",
        {"other": "00000000"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.penalty", "POST"): (  # a pending case: refused, the world stays as it is
        lambda w: f"/console/cases/{w.cases['A3']}/penalty",
        {"penalty_no": "QĐ-1"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.reopen", "POST"): (  # a pending case: refused, the world stays as it is
        lambda w: f"/console/cases/{w.cases['A3']}/reopen",
        {"reason": "xem lại theo yêu cầu"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.bulk_reject", "POST"): (
        lambda w: "/console/queue/reject",
        lambda w: {"case": f"{w.cases['A3']}:1", "reason_code": "duplicate"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.reveal", "GET"): (
        lambda w: f"/console/reports/{w.reports['a1']}/reveal",
        {},
        (LOGIN, LOGIN, 403, 403, 404, 200),
    ),
    ("console.reveal", "POST"): (
        lambda w: f"/console/reports/{w.reports['a1']}/reveal",
        {"reason": "court order 12/2026 requires it"},
        (401, 401, 403, 403, 404, 200),
    ),
    ("console.reveals", "GET"): (  # a supervisor reads their own province's log
        lambda w: "/console/reveals",
        {},
        (LOGIN, LOGIN, 403, 403, 200, 200),
    ),
    ("console.audit_log", "GET"): (
        lambda w: "/console/audit",
        {},
        (LOGIN, LOGIN, 403, 403, 403, 403),
    ),
    ("console.units_page", "GET"): (
        lambda w: "/console/units",
        {},
        (LOGIN, LOGIN, 403, 403, 403, 403),
    ),
    ("console.units_import", "POST"): (  # admins only
        lambda w: "/console/units/import",
        {},
        (401, 401, 403, 403, 403, 403),
    ),
    ("console.login", "POST"): (
        lambda w: "/console/login",
        {"username": "rev_a", "password": "not the password"},
        (400, 400, 401, 401, 401, 401),  # no CSRF token without a session first
    ),
    ("officers.login", "POST"): (
        lambda w: "/api/v1/officers/login",
        {"username": "rev_a", "password": "not the password"},
        (401, 401, 401, 401, 401, 401),
    ),
    ("console.service_worker", "GET"): (
        lambda w: "/console/sw.js",
        {},
        (200, 200, 200, 200, 200, 200),  # public: the browser re-fetches it to update
    ),
    ("console.push_key", "GET"): (
        lambda w: "/console/push/key",
        {},
        (LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    ("console.push_subscribe", "POST"): (
        lambda w: "/console/push/subscription",
        {
            "endpoint": "https://fcm.googleapis.com/fcm/send/authz-matrix",
            "p256dh": "B" * 87,
            "auth": "A" * 22,
            "lang": "vi",
        },
        (401, 401, 201, 201, 201, 201),  # always for the signed-in user
    ),
    ("console.push_unsubscribe", "POST"): (
        lambda w: "/console/push/subscription/delete",
        {"endpoint": "https://fcm.googleapis.com/fcm/send/authz-matrix"},
        (401, 401, 204, 204, 204, 204),
    ),
    # statistics (issue 13): every console user, for the districts they may see
    ("console.stats_dashboard", "GET"): (
        lambda w: "/console/stats?preset=9m&year=2026",
        {},
        (LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    ("console.stats_workbook", "GET"): (
        lambda w: "/console/stats/review.xlsx?preset=year&year=2026",
        {},
        (LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    ("console.stats_cases_csv", "GET"): (
        lambda w: "/console/stats/cases.csv?preset=year&year=2026",
        {},
        (LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    ("console.stats_hotspots", "GET"): (
        lambda w: "/console/stats/hotspots?preset=year&year=2026",
        {},
        (LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    ("console.stats_accidents", "GET"): (
        lambda w: "/console/stats/accidents",
        {},
        (LOGIN, LOGIN, 403, 403, 200, 200),
    ),
    ("console.stats_accidents", "POST"): (  # a district of province 01: not the other's
        lambda w: "/console/stats/accidents",
        {"district": "006", "month": "2026-03", "crashes": "1", "deaths": "0", "injuries": "1"},
        (401, 401, 403, 403, 422, 302),
    ),
    ("console.stats_accidents_import", "POST"): (  # no file: refused, nothing written
        lambda w: "/console/stats/accidents/import",
        {},
        (401, 401, 403, 403, 422, 422),
    ),
    # last: forwarding moves case A3 away from the right reviewer.
    ("console.forward", "POST"): (
        lambda w: f"/console/cases/{w.cases['A3']}/forward",
        {"to_district": "001"},
        (401, 401, 404, 302, 404, 302),
    ),
    ("console.logout", "POST"): (lambda w: "/console/logout", {}, (401, 401, 302, 302, 302, 302)),
}

USERS = {
    "reviewer_other": "rev_b",
    "reviewer_right": "rev_a",
    "supervisor_other": "sup_hg",
    "supervisor_right": "sup_hn",
}


def test_every_console_route_is_in_the_matrix(app: Flask) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("console.", "officers."))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(MATRIX)


def _client_for(app: Flask, caller: str, world: World) -> tuple[FlaskClient, dict[str, str]]:
    if caller == "anonymous":
        return app.test_client(), {}
    if caller == "citizen":
        return app.test_client(), world.citizen.auth
    return session_for(app, USERS[caller]), {}


@pytest.mark.parametrize("caller", CALLERS)
def test_each_route_answers_each_caller_as_expected(
    app: Flask, client: FlaskClient, caller: str
) -> None:
    world = build_world(app, client)
    c, headers = _client_for(app, caller, world)
    with c.session_transaction() as s:
        token = s.get("csrf", "")
    seen = {}
    for (endpoint, method), (path, form, expected) in MATRIX.items():
        url = path(world)
        data = form(world) if callable(form) else dict(form)
        if method == "GET":
            resp = c.get(url, headers=headers)
        elif endpoint.startswith("officers."):
            resp = c.post(url, json=data, headers=headers)
        else:
            resp = c.post(
                url, data={**data, "csrf_token": token} if token else data, headers=headers
            )
        want = expected[CALLERS.index(caller)]
        if want == LOGIN:
            got = (
                LOGIN
                if resp.status_code == 302 and "/console/login" in resp.location
                else resp.status_code
            )
        else:
            got = resp.status_code
        seen[(endpoint, method)] = got
    assert seen == {k: v[2][CALLERS.index(caller)] for k, v in MATRIX.items()}


@pytest.mark.parametrize("caller", ["reviewer_other", "supervisor_other", "citizen", "anonymous"])
def test_refused_callers_change_nothing(app: Flask, client: FlaskClient, caller: str) -> None:
    world = build_world(app, client)
    c, headers = _client_for(app, caller, world)
    with c.session_transaction() as s:
        token = s.get("csrf", "")
    for kind, extra in (("verify", {"penalty_no": "X1"}), ("reject", {"reason_code": "duplicate"})):
        c.post(
            f"/console/cases/{world.cases['A']}/decide",
            data={"kind": kind, "csrf_token": token, **extra},
            headers=headers,
        )
    c.post(
        f"/console/cases/{world.cases['A']}/forward",
        data={"to_district": "001", "csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(Case, world.cases["A"]).district_code == "006"
        statuses = set(db.session.scalars(sa.select(StatusEvent.status)))
        assert statuses <= {"awaiting_evidence", "submitted"}


@pytest.mark.parametrize(
    "path",
    [
        "/console/cases/00000000-0000-0000-0000-000000000000",
        "/console/cases/' OR 1=1 --",
        "/console/cases/" + "x" * 500,
        "/console/media/00000000-0000-0000-0000-000000000000",
        "/console/reports/00000000-0000-0000-0000-000000000000/reveal",
    ],
)
def test_unknown_or_odd_ids_are_not_found(app: Flask, client: FlaskClient, path: str) -> None:
    build_world(app, client)
    c = session_for(app, "sup_hn")
    assert c.get(path).status_code == 404


def test_post_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client)
    c = session_for(app, "rev_a")
    url = f"/console/cases/{world.cases['A3']}/decide"
    assert c.post(url, data={"kind": "reject", "reason_code": "duplicate"}).status_code == 400
    assert (
        c.post(
            url, data={"kind": "reject", "reason_code": "duplicate", "csrf_token": "forged"}
        ).status_code
        == 400
    )
    with app.app_context():
        assert "rejected" not in set(db.session.scalars(sa.select(StatusEvent.status)))


def test_login_form_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    build_world(app, client)
    c = app.test_client()
    resp = c.post("/console/login", data={"username": "rev_a", "password": "correct horse battery"})
    assert resp.status_code == 400


def test_officer_account_cannot_open_the_console(app: Flask, client: FlaskClient) -> None:
    build_world(app, client)
    c = app.test_client()
    assert login(c, "officer1").status_code == 401
    assert c.get("/console/queue").status_code == 302
