"""The decision flow a district unit follows (issue 12).

Verify without a penalty number, the penalty decision later (both steps reach the
reporter), a decided case locked until an audited reopen with a reason, the queue
showing the cases that wait for a reviewer first, and rejecting several cases at once
with nothing half-done. The world (cases A: 2 reports, A3, B, C) is
:func:`tests.test_console.build_world`.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditLog, Case, Decision
from tests.test_console import (
    DONG_DA,
    World,
    _events,
    build_world,
    post,
    send,
    session_for,
)


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _case(app: Flask, case_id: str) -> Case:
    with app.app_context():
        found = db.session.get(Case, case_id)
        db.session.expunge(found)
        return found


def _statuses(app: Flask, world: World, *names: str) -> list[str]:
    return [_events(app, world.reports[n])[-1].status for n in names]


def _verify(c: FlaskClient, case_id: str, count: int, **extra: str):
    data = {"kind": "verify", "confirm_count": str(count), **extra}
    return post(c, f"/console/cases/{case_id}/decide", data)


def _flash_page(c: FlaskClient, resp) -> str:
    assert resp.status_code == 302, resp.status_code
    return c.get(resp.headers["Location"]).get_data(as_text=True)


# ------------------------------------------------------------------ verify, then penalty


def test_verifying_needs_no_penalty_number_and_the_penalty_follows_as_a_second_step(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    assert _verify(c, world.cases["A"], 2).status_code == 302
    assert _statuses(app, world, "a1", "a2") == ["verified", "verified"]
    case = _case(app, world.cases["A"])
    assert (case.verdict, case.locked) == ("verified", True)

    resp = post(c, f"/console/cases/{world.cases['A']}/penalty", {"penalty_no": "QĐ-12/2026"})
    assert resp.status_code == 302
    for name in ("a1", "a2"):
        steps = [e.status for e in _events(app, world.reports[name])][-2:]
        assert steps == ["verified", "penalty_issued"]
    with app.app_context():
        penalty = db.session.scalar(sa.select(Decision).where(Decision.kind == "penalty"))
        assert (penalty.case_id, penalty.penalty_no) == (world.cases["A"], "QĐ-12/2026")
        audit = db.session.scalar(
            sa.select(AuditLog).where(AuditLog.action == "case_penalty_issued")
        )
        assert (audit.case_id, audit.detail) == (world.cases["A"], "QĐ-12/2026")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert "Kết luận: Đã ra quyết định xử phạt" in page
    assert "Số quyết định xử phạt: QĐ-12/2026" in page


def test_the_reporter_reads_both_steps_in_the_change_feed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A3"], 1)
    post(c, f"/console/cases/{world.cases['A3']}/penalty", {"penalty_no": "QĐ-77"})
    feed = client.get("/api/v1/changes", headers=world.citizen.auth).get_json()
    mine = [ch["status"] for ch in feed["changes"] if ch["report_id"] == world.reports["a3"]]
    assert mine[-2:] == ["verified", "penalty_issued"]
    assert "QĐ-77" not in str(feed)  # the number stays with the police


@pytest.mark.parametrize(
    "setup, penalty_no",
    [
        pytest.param(None, "QĐ-1", id="pending case"),
        pytest.param({"kind": "reject", "reason_code": "duplicate"}, "QĐ-1", id="rejected case"),
        pytest.param({"kind": "verify"}, "   ", id="blank number"),
    ],
)
def test_a_penalty_is_refused_unless_the_case_is_verified_and_a_number_given(
    app: Flask, world: World, setup: dict | None, penalty_no: str
) -> None:
    c = session_for(app, "rev_a")
    case_id = world.cases["A3"]
    if setup:
        assert post(c, f"/console/cases/{case_id}/decide", setup).status_code == 302
    before = _events(app, world.reports["a3"])
    resp = post(c, f"/console/cases/{case_id}/penalty", {"penalty_no": penalty_no})
    assert 'class="flash error"' in _flash_page(c, resp)
    assert len(_events(app, world.reports["a3"])) == len(before)
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(Decision).where(Decision.kind == "penalty")
        ) == 0


# ------------------------------------------------------------------ locked, reopened


@pytest.mark.parametrize(
    "path, data",
    [
        ("decide", {"kind": "reject", "reason_code": "duplicate", "confirm_count": "1"}),
        ("decide", {"kind": "needs_info", "reason_code": "need_video", "confirm_count": "1"}),
        ("forward", {"to_district": "001"}),
        ("merge", {"other": "A"}),
    ],
    ids=["reject", "needs_info", "forward", "merge"],
)
def test_a_decided_case_is_locked_against_every_other_act(
    app: Flask, world: World, path: str, data: dict[str, str]
) -> None:
    c = session_for(app, "rev_a")
    case_id = world.cases["A3"]
    _verify(c, case_id, 1)
    data = {**data, "other": world.cases["A"][:8]} if path == "merge" else data
    before = _events(app, world.reports["a3"])
    resp = post(c, f"/console/cases/{case_id}/{path}", data)
    page = _flash_page(c, resp)
    assert "Vụ việc đã có kết luận: hãy mở lại vụ việc trước." in page
    assert len(_events(app, world.reports["a3"])) == len(before)
    case = _case(app, case_id)
    assert (case.verdict, case.district_code, case.status) == ("verified", "006", "open")


def test_a_locked_case_page_offers_reopen_and_penalty_but_no_decision_forms(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A"], 2)
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert page.index('id="verdict"') < page.index('id="map"')  # the verdict comes first
    assert "Kết luận: Đã xác minh vi phạm, chờ quyết định xử phạt" in page
    assert "Reviewer A" in page.split('id="verdict"')[1].split("</div>")[0]
    for form in ("verify-form", "reject-form", "info-form", "forward-form", "merge-form"):
        assert f'id="{form}"' not in page
    assert 'class="split-form"' not in page
    assert 'id="reopen-form"' in page and 'id="penalty-form"' in page
    english = c.get(f"/console/cases/{world.cases['A']}?lang=en").get_data(as_text=True)
    assert "Verdict: Violation verified, penalty decision to follow" in english


@pytest.mark.parametrize("reason", ["", "   ", "vì sao"], ids=["empty", "blank", "too short"])
def test_reopening_needs_a_written_reason(app: Flask, world: World, reason: str) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A3"], 1)
    resp = post(c, f"/console/cases/{world.cases['A3']}/reopen", {"reason": reason})
    assert "Hãy ghi rõ lý do mở lại" in _flash_page(c, resp)
    assert _case(app, world.cases["A3"]).verdict == "verified"


def test_reopen_is_audited_tells_every_reporter_and_the_next_decision_tells_them_again(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    case_id = world.cases["A"]
    _verify(c, case_id, 2)
    resp = post(c, f"/console/cases/{case_id}/reopen", {"reason": "ảnh thứ hai không rõ biển"})
    assert resp.status_code == 302
    assert _case(app, case_id).verdict is None
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "case_reopened"))
        assert (entry.case_id, entry.detail) == (case_id, "verified")
        reopen = db.session.scalar(sa.select(Decision).where(Decision.kind == "reopen"))
        assert reopen.internal_note == "ảnh thứ hai không rõ biển"
    # Every reporter learns the case is under review again (issue 26) ...
    assert _statuses(app, world, "a1", "a2") == ["reopened", "reopened"]
    # ... and the same verdict again tells them again.
    _verify(c, case_id, 2)
    assert _statuses(app, world, "a1", "a2") == ["verified", "verified"]
    post(c, f"/console/cases/{case_id}/reopen", {"reason": "xem lại theo đề nghị"})
    data = {"kind": "reject", "reason_code": "plate_unreadable", "confirm_count": "2"}
    post(c, f"/console/cases/{case_id}/decide", data)
    assert _statuses(app, world, "a1", "a2") == ["rejected", "rejected"]
    assert _case(app, case_id).verdict == "rejected"


# ------------------------------------------------------------------ the queue


def _queue_ids(c: FlaskClient, query: str = "") -> list[str]:
    page = c.get(f"/console/queue{query}").get_data(as_text=True)
    return [chunk.split('"')[0] for chunk in page.split('href="/console/cases/')[1:]]


def test_the_queue_shows_waiting_cases_by_default_and_decided_ones_a_filter_away(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A"], 2)
    assert _queue_ids(c) == [world.cases["A3"]]
    assert _queue_ids(c, "?state=decided") == [world.cases["A"]]
    assert _queue_ids(c, "?state=all") == [world.cases["A3"], world.cases["A"]]  # waiting first
    assert _queue_ids(c, "?state=bogus") == [world.cases["A3"]]


def test_a_report_joining_a_decided_case_brings_it_back_to_the_queue(
    app: Flask, client: FlaskClient, world: World
) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A"], 2)
    assert world.cases["A"] not in _queue_ids(c)
    late, _ = send(client, DONG_DA, plate="30A-123.45", minutes=6)
    assert world.case_of_report(late) == world.cases["A"]
    assert world.cases["A"] in _queue_ids(c)
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert 'id="new-reports"' in page and 'id="reopen-form"' in page


# ------------------------------------------------------------------ several at once


def _bulk(c: FlaskClient, values: list[str], reason: str = "duplicate"):
    with c.session_transaction() as s:
        token = s.get("csrf", "")
    return c.post(
        "/console/queue/reject",
        data={"case": values, "reason_code": reason, "csrf_token": token},
    )


def test_bulk_reject_tells_every_reporter_of_every_chosen_case(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    resp = _bulk(c, [f"{world.cases['A']}:2", f"{world.cases['A3']}:1"], "plate_unreadable")
    assert "Đã từ chối 2 vụ việc." in _flash_page(c, resp)
    for name in ("a1", "a2", "a3"):
        last = _events(app, world.reports[name])[-1]
        assert (last.status, last.reason_code) == ("rejected", "plate_unreadable")
    assert {_case(app, world.cases[k]).verdict for k in ("A", "A3")} == {"rejected"}
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "case_reject"))
        assert sorted(r.case_id for r in rows) == sorted([world.cases["A"], world.cases["A3"]])


@pytest.mark.parametrize(
    "values, reason, message",
    [
        (["{A}:1", "{A3}:1"], "duplicate", "Vụ việc đã thay đổi"),  # A has 2 reports, not 1
        (["{A}", "{A3}:1"], "duplicate", "Vụ việc đã thay đổi"),  # no count at all
        (["{A}:2", "{A3}:1"], "edited_media", "Hãy chọn lý do từ chối"),  # not a bulk reason
        ([], "duplicate", "Hãy chọn ít nhất một vụ việc"),
        (["{A}:2", "{LOCKED}:1"], "duplicate", "Vụ việc đã có kết luận"),
    ],
    ids=["stale count", "missing count", "reason not offered", "nothing chosen", "locked"],
)
def test_bulk_reject_refuses_as_a_whole_and_writes_nothing(
    app: Flask, world: World, values: list[str], reason: str, message: str
) -> None:
    c = session_for(app, "rev_a")
    _verify(c, world.cases["A3"], 1)  # A3 is locked
    names = {"A": world.cases["A"], "A3": world.cases["A3"], "LOCKED": world.cases["A3"]}
    before = {n: len(_events(app, world.reports[n])) for n in ("a1", "a2", "a3")}
    resp = _bulk(c, [v.format(**names) for v in values], reason)
    assert message in _flash_page(c, resp)
    assert {n: len(_events(app, world.reports[n])) for n in ("a1", "a2", "a3")} == before
    assert _case(app, world.cases["A"]).verdict is None


def test_bulk_reject_cannot_reach_a_case_of_another_district(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    resp = _bulk(c, [f"{world.cases['A']}:2", f"{world.cases['B']}:1"])
    assert resp.status_code == 404
    assert _case(app, world.cases["A"]).verdict is None
    assert _case(app, world.cases["B"]).verdict is None
