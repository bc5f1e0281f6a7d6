"""Verdicts that stay in step (issue 26, item 2): every path of the decision graph.

Each path is a sequence of a reviewer's acts (verify, the penalty number, reopen, ask
for information, the reporter's answer, reject, merge, split) on the cases of the world
of :func:`tests.test_console.build_world` (case A: a1 and a2; case A3: a3; all from one
phone, all in Đống Đa). After every step, for every open case: each reporter's status
agrees with the case's verdict (:func:`server.services.review.agrees`: the phone says
what the console says), and the phone's change feed ends, for each report, on the
report's status; a step that gives reporters a public note puts it on their feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, Report
from server.services import review
from tests.test_console import World, build_world, post, session_for


class Walk:
    """A path being walked: the world, a reviewer's console session, the notes given."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app, self.world = app, world
        self.c = session_for(app, "rev_a")
        self.note: str | None = None  # the public note the last step gave, if any

    def case_of(self, name: str) -> Case:
        with self.app.app_context():
            rid = self.world.reports[name]
            case = db.session.get(Case, db.session.get(Report, rid).case_id)
            db.session.expunge(case)
            return case

    def members(self, case_id: str) -> list[Report]:
        with self.app.app_context():
            found = list(db.session.scalars(sa.select(Report).where(Report.case_id == case_id)))
            db.session.expunge_all()
            return found

    def act(self, path: str, data: dict[str, str], case: Case | None = None) -> None:
        case = case or self.case_of("a1")
        data.setdefault("confirm_count", str(len(self.members(case.id))))
        resp = post(self.c, f"/console/cases/{case.id}/{path}", data)
        assert resp.status_code == 302
        flashed = self.c.get(resp.headers["Location"]).get_data(as_text=True)
        assert 'class="flash error"' not in flashed, flashed[:2000]

    def feed(self) -> dict[str, dict]:
        """The phone's change feed, read from the start: the last change per report."""
        api, last, since = self.world.citizen, {}, ""
        while True:
            url = "/api/v1/changes?limit=500" + (f"&since={since}" if since else "")
            body = api.client.get(url, headers=api.auth).get_json()
            for change in body["changes"]:
                last[change["report_id"]] = change
            since = body["next"]
            if not body["has_more"]:
                return last


def _decide(kind: str, **extra: str) -> Callable[[Walk], None]:
    def step(w: Walk) -> None:
        w.note = extra.get("public_note")
        w.act("decide", {"kind": kind, **extra})

    return step


def _penalty(w: Walk) -> None:
    w.note = None
    w.act("penalty", {"penalty_no": "QĐ-77/2026"})


def _reopen(w: Walk) -> None:
    w.note = None
    w.act("reopen", {"reason": "xem lại theo đề nghị của người báo"})


def _answer(w: Walk) -> None:
    """The first reporter asked answers on the phone (text only)."""
    w.note = None
    api = w.world.citizen
    asked = [
        n for n in ("a1", "a2", "a3")
        if w.members(w.case_of(n).id) and _status(w, n) == "needs_info"
    ]  # fmt: skip
    assert asked, "nobody was asked"
    rid = w.world.reports[asked[0]]
    resp = api.client.put(
        f"/api/v1/reports/{rid}/answers/{uuid.uuid4()}",
        json={"text": "Tôi bổ sung: xe đỗ từ 8 giờ"},
        headers=api.auth,
    )
    assert resp.status_code == 201, resp.get_json()


def _merge(w: Walk) -> None:
    """Case A3 merged into a1's case (by its id, as a reviewer types it)."""
    w.note = None
    w.act("merge", {"other": w.case_of("a3").id[:8]})


def _split(w: Walk) -> None:
    """a3 split out of a1's case when it is there (undoing the merge), else a2."""
    w.note = None
    case = w.case_of("a1")
    ids = {r.id for r in w.members(case.id)}
    name = "a3" if w.world.reports["a3"] in ids else "a2"
    w.act("split", {"report_id": w.world.reports[name], "reason": "khác xe"}, case)


def _status(w: Walk, name: str) -> str:
    with w.app.app_context():
        return db.session.get(Report, w.world.reports[name]).status


STEPS: dict[str, Callable[[Walk], None]] = {
    "verify": _decide("verify", public_note="Cảm ơn, vi phạm đã được xác minh"),
    "verify_penalty": _decide("verify", penalty_no="QĐ-12/2026"),
    "penalty": _penalty,
    "reopen": _reopen,
    "needs_info": _decide("needs_info", reason_code="need_video", public_note="Cần video"),
    "needs_info_note": _decide(
        "needs_info", reason_code="need_video", public_note="Video quay rõ đèn tín hiệu"
    ),
    "reject": _decide("reject", reason_code="plate_unreadable", public_note="Biển mờ"),
    "answer": _answer,
    "merge": _merge,
    "split": _split,
}

PATHS = [
    ("verify", "penalty", "reopen", "verify"),
    ("verify_penalty", "reopen", "verify", "penalty"),
    ("needs_info", "answer", "verify"),
    ("needs_info", "needs_info_note", "answer", "reject"),
    ("reject", "reopen", "needs_info", "answer", "verify_penalty"),
    ("merge", "verify", "reopen", "split", "verify"),
    ("needs_info", "merge", "verify"),
    ("merge", "needs_info", "split", "answer", "verify"),
    ("split", "verify", "reopen", "reject"),
    ("needs_info", "split", "verify"),
    # The walk: verify, penalty, reopen, merge, split, verify again.
    ("verify", "penalty", "reopen", "merge", "split", "verify", "penalty"),
]


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


@pytest.mark.parametrize("path", PATHS, ids=["-".join(p) for p in PATHS])
def test_every_reporter_agrees_with_the_case_after_each_step(
    app: Flask, world: World, path: tuple[str, ...]
) -> None:
    w = Walk(app, world)
    names = ("a1", "a2", "a3")
    for i, step in enumerate(path):
        STEPS[step](w)
        feed = w.feed()
        where = f"after {' → '.join(path[: i + 1])}"
        for case in {w.case_of(n).id: w.case_of(n) for n in names}.values():
            for report in w.members(case.id):
                assert review.agrees(case, report.status), (where, case.verdict, report.status)
                told = feed[report.id]
                assert told["status"] == report.status, (where, told, report.status)
            if w.note and case.id == w.case_of("a1").id:
                # A decision's public note reaches every reporter it decided for.
                notes = {feed[r.id]["public_note"] for r in w.members(case.id)}
                assert notes == {w.note}, (where, notes)


def test_a_split_off_case_says_split_not_reopened(app: Flask, world: World) -> None:
    w = Walk(app, world)
    _merge(w)
    _split(w)
    page = w.c.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True)
    history = page.split('class="history"', 1)[1]
    assert "Tách trở lại thành vụ việc riêng" in history
    assert "Mở lại" not in history
