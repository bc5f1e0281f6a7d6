"""Informant secrecy in the console: the identity appears nowhere a reviewer can reach,
and only once, on a supervisor's logged reveal.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditLog, Decision, IdentityReveal
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE
from tests.test_console import build_world, session_for

SECRETS = [s.encode() for s in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE)]
LINK_RE = re.compile(r'(?:href|src|action)="([^"]+)"')


def _leaks(data: bytes) -> list[bytes]:
    return [s for s in SECRETS if s in data]


def crawl(client: FlaskClient, start: str = "/console/queue", limit: int = 400) -> dict[str, int]:
    """GET every console page and file reachable by links from ``start``; assert no leak."""
    seen: dict[str, int] = {}
    todo = [start]
    while todo and len(seen) < limit:
        url = todo.pop()
        if url in seen:
            continue
        resp = client.get(url)
        seen[url] = resp.status_code
        assert _leaks(resp.data) == [], url
        if resp.status_code in (301, 302, 303):
            todo.append(urlsplit(resp.location).path)
        if resp.mimetype != "text/html":
            continue
        for link in LINK_RE.findall(resp.get_data(as_text=True)):
            link = urljoin(url, link.replace("&amp;", "&"))
            if link.startswith("/console/") and "/logout" not in link:
                todo.append(link)
    return seen


def test_nothing_a_reviewer_can_reach_names_the_informant(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world(app, client)
    c = session_for(app, "rev_a")
    before = crawl(c)
    assert any("/console/cases/" in u for u in before) and any(
        "/console/media/" in u for u in before
    )
    # Decisions, with and without errors; each answer and the pages after them.
    with c.session_transaction() as s:
        token = s["csrf"]
    answers = [
        # The split first: a verified case is locked against splits.
        c.post(
            f"/console/cases/{world.cases['A']}/split",
            data={"report_id": world.reports["a2"], "reason": "khác xe", "csrf_token": token},
        ),
        c.post(
            f"/console/cases/{world.cases['A']}/decide",
            data={"kind": "verify", "csrf_token": token},
        ),
        c.post(
            f"/console/cases/{world.cases['A']}/decide",
            data={
                "kind": "verify",
                "penalty_no": "QD-1",
                "confirm_count": "1",
                "csrf_token": token,
            },
        ),
        c.post(
            f"/console/cases/{world.cases['A3']}/decide",
            data={"kind": "needs_info", "reason_code": "need_video", "csrf_token": token},
        ),
        c.post(f"/console/cases/{world.cases['A3']}/decide", data={"kind": "reject"}),  # no CSRF
        c.get(f"/console/reports/{world.reports['a1']}/reveal"),  # a reviewer may not
        c.get("/console/reveals"),
        c.get(f"/console/cases/{world.cases['B']}"),
        c.post("/api/v1/officers/login", json={"username": "rev_a", "password": "x"}),
    ]
    for resp in answers:
        assert _leaks(resp.data) == [], resp.request.path
    after = crawl(c)
    assert len(after) >= len(before)
    for record in caplog.records:
        assert _leaks(record.getMessage().encode()) == []
    with app.app_context():
        stored = [
            f"{a.action} {a.detail}".encode() for a in db.session.scalars(sa.select(AuditLog))
        ] + [
            f"{d.public_note} {d.internal_note}".encode()
            for d in db.session.scalars(sa.select(Decision))
        ]
        assert all(_leaks(s) == [] for s in stored)


def test_admin_pages_and_supervisor_pages_do_not_name_the_informant(
    app: Flask, client: FlaskClient
) -> None:
    build_world(app, client)
    for username in ("sup_hn", "admin"):
        seen = crawl(session_for(app, username))
        assert any("/reveal" in u for u in seen) or username == "admin"
    admin = session_for(app, "admin")
    for path in ("/console/reveals", "/console/audit"):
        assert _leaks(admin.get(path).data) == []


def test_supervisor_reveals_with_a_written_reason_once_and_it_is_logged(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world(app, client)
    sup = session_for(app, "sup_hn")
    url = f"/console/reports/{world.reports['a1']}/reveal"
    form_page = sup.get(url)
    assert form_page.status_code == 200 and _leaks(form_page.data) == []
    with sup.session_transaction() as s:
        token = s["csrf"]
    refused = sup.post(url, data={"reason": "vì", "csrf_token": token})
    assert refused.status_code == 422 and _leaks(refused.data) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityReveal)) == 0

    reason = "Tòa án yêu cầu xác minh nhân chứng, công văn 12/2026"
    shown = sup.post(url, data={"reason": reason, "csrf_token": token})
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    assert page.count(SECRET_NAME) == 1 and page.count(SECRET_NATIONAL_ID) == 1
    assert page.count(SECRET_PHONE) == 1
    assert "no-store" in shown.headers["Cache-Control"]
    with app.app_context():
        rev = db.session.scalar(sa.select(IdentityReveal))
        assert (rev.report_id, rev.reason) == (world.reports["a1"], reason)
        audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "identity_revealed"))
        assert audit.report_id == world.reports["a1"] and audit.actor_id == rev.actor_id
        assert _leaks(f"{audit.detail}".encode()) == []
    # The case page afterwards, and the admin's reveal log, still do not name anyone.
    assert _leaks(sup.get(f"/console/cases/{world.cases['A']}").data) == []
    log_page = session_for(app, "admin").get("/console/reveals")
    text = log_page.get_data(as_text=True)
    assert reason in text and "Supervisor HN" in text and world.reports["a1"][:8] in text
    assert _leaks(log_page.data) == []
    for record in caplog.records:
        assert _leaks(record.getMessage().encode()) == []


def test_supervisor_of_another_province_cannot_reveal(app: Flask, client: FlaskClient) -> None:
    world = build_world(app, client)
    sup = session_for(app, "sup_hg")
    with sup.session_transaction() as s:
        token = s["csrf"]
    resp = sup.post(
        f"/console/reports/{world.reports['a1']}/reveal",
        data={"reason": "Tôi muốn biết người báo là ai", "csrf_token": token},
    )
    assert resp.status_code == 404 and _leaks(resp.data) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityReveal)) == 0


@pytest.mark.parametrize(
    "expression",
    [
        "config.SECRET_KEY",
        "config['SECRET_KEY']",
        "console_config('SECRET_KEY')",
        "config.IDENTITY_KEY",
    ],
)
def test_templates_cannot_reach_the_secret_key(app: Flask, expression: str) -> None:
    """No template global or context value hands out the app's config."""
    from flask import render_template_string
    from jinja2 import UndefinedError

    secret = app.config["SECRET_KEY"]
    assert secret
    with app.test_request_context("/console/queue"):
        context: dict = {}
        app.update_template_context(context)
        exposed = {**app.jinja_env.globals, **context}
        assert not any(value is app.config for value in exposed.values())
        assert "console_config" not in exposed
        try:
            shown = render_template_string("{{ " + expression + " }}")
        except UndefinedError:
            shown = ""
    assert secret not in shown


def test_the_reveal_service_refuses_anyone_but_a_supervisor_of_the_province(
    app: Flask, client: FlaskClient
) -> None:
    """The service checks by itself, whatever view calls it: nothing recorded, nothing read."""
    from server.models import Report
    from server.services import accounts
    from server.services.reveal import RevealError, reveal_identity

    world = build_world(app, client)
    reason = "Tòa án yêu cầu xác minh nhân chứng"
    with app.app_context():
        report = db.session.get(Report, world.reports["a1"])
        for username in ("rev_a", "sup_hg", "admin"):
            with pytest.raises(RevealError) as refused:
                reveal_identity(accounts.get_by_username(username), report, reason)
            assert refused.value.code == "not_allowed"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityReveal)) == 0
        shown = reveal_identity(accounts.get_by_username("sup_hn"), report, reason)
        assert shown["name"] == SECRET_NAME
