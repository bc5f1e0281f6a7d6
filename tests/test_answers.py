"""A reporter answers a request for information on the same report (issue 26, item 1).

The reviewer asks (``needs_info``); the phone answers with a short text and/or files
(``PUT /api/v1/reports/{id}/answers/{answer_id}``, then the files as any evidence); the
case goes back to the top of the reviewers' queue marked "đã bổ sung", the reviewer sees
what was added and when, and the answer is in the custody trail and the evidence
package. The world (cases A: 2 reports, A3, B, C) is :func:`tests.test_console.build_world`.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, CustodyEntry, Media, Report, ReportAnswer
from server.services import custody
from tests.factories import Api, MediaFile, photo
from tests.test_console import World, _events, build_world, post, session_for


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _ask(app: Flask, world: World, case: str = "A3", reason: str = "need_video") -> FlaskClient:
    c = session_for(app, "rev_a")
    resp = post(
        c,
        f"/console/cases/{world.cases[case]}/decide",
        {"kind": "needs_info", "reason_code": reason, "public_note": "Gửi thêm video nhé"},
    )
    assert resp.status_code == 302
    return c


def _answer(api: Api, report_id: str, answer_id: str, body: dict):
    return api.client.put(
        f"/api/v1/reports/{report_id}/answers/{answer_id}", json=body, headers=api.auth
    )


def _video() -> MediaFile:
    # The smallest MP4 the server's sniffing takes: an ftyp box.
    data = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2000
    return MediaFile(data, content_type="video/mp4")


def test_an_answer_with_text_and_a_file_sends_the_case_back_to_the_reviewers(
    app: Flask, world: World
) -> None:
    _ask(app, world)
    rid, api = world.reports["a3"], world.citizen
    extra = photo(taken_at="2026-11-20T09:05:00")
    aid = str(uuid.uuid4())
    body = {"text": "Đây là ảnh biển số rõ hơn", "media": [extra.decl]}
    resp = _answer(api, rid, aid, body)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["media_ids"] == [extra.media_id]
    assert resp.headers["Location"].endswith(f"/api/v1/reports/{rid}")
    assert _events(app, rid)[-1].status == "info_added"
    with app.app_context():
        case = db.session.get(Case, world.cases["A3"])
        assert case.verdict is None and case.answered_at is not None
    # The file goes up as any evidence of the report.
    assert api.put_media(rid, extra).status_code == 201
    view = api.get_report(rid).get_json()
    assert view["status"] == "info_added"
    added = [e for e in view["evidence"] if e["answer_id"] == aid]
    assert [(e["media_id"], e["received"]) for e in added] == [(extra.media_id, True)]
    assert [a["text"] for a in view["answers"]] == ["Đây là ảnh biển số rõ hơn"]


def test_an_answer_is_stored_once_and_a_retry_is_answered_the_same(
    app: Flask, world: World
) -> None:
    _ask(app, world)
    rid, api, aid = world.reports["a3"], world.citizen, str(uuid.uuid4())
    body = {"text": "Xe đỗ từ 8 giờ đến 9 giờ"}
    assert _answer(api, rid, aid, body).status_code == 201
    again = _answer(api, rid, aid, {"text": "  Xe đỗ từ 8 giờ đến 9 giờ  "})
    assert again.status_code == 200
    assert again.get_json()["answer_id"] == aid
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportAnswer)) == 1
    assert [e.status for e in _events(app, rid)].count("info_added") == 1


@pytest.mark.parametrize(
    ("case", "body", "status", "code"),
    [
        ("other_body", {"text": "khác"}, 409, "answer_conflict"),
        ("not_asked", {"text": "trả lời"}, 409, "no_information_requested"),
        ("empty", {"text": "   "}, 422, "validation_failed"),
        ("too_long", {"text": "x" * 1001}, 422, "validation_failed"),
        ("bad_media", {"media": [{"media_id": "x"}]}, 422, "validation_failed"),
        ("others_report", {"text": "trả lời"}, 404, "report_not_found"),
        ("media_taken", {"text": "trả lời"}, 409, "media_id_conflict"),
    ],
)
def test_an_answer_that_cannot_be_taken_is_refused_with_nothing_written(
    app: Flask, world: World, client: FlaskClient, case: str, body: dict, status: int, code: str
) -> None:
    rid, api, aid = world.reports["a3"], world.citizen, str(uuid.uuid4())
    if case != "not_asked":
        _ask(app, world)
    if case == "other_body":
        assert _answer(api, rid, aid, {"text": "trả lời"}).status_code == 201
    if case == "others_report":
        api = Api.register(client)
    if case == "media_taken":  # a file id of another report
        body = {**body, "media": [{**photo().decl, "media_id": world.media["b1"]}]}
    before = len(_events(app, rid))
    resp = _answer(api, rid, aid, body)
    assert (resp.status_code, resp.get_json()["code"]) == (status, code)
    assert resp.mimetype == "application/problem+json"
    assert len(_events(app, rid)) == before
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(ReportAnswer))
        assert count == (1 if case == "other_body" else 0)


def test_an_answered_case_heads_the_queue_marked_and_the_next_decision_clears_it(
    app: Flask, world: World
) -> None:
    c = _ask(app, world)
    page = c.get("/console/queue").get_data(as_text=True)
    assert 'class="badge answered"' not in page
    assert _answer(world.citizen, world.reports["a3"], str(uuid.uuid4()), {"text": "Có video"})
    page = c.get("/console/queue").get_data(as_text=True)
    first_row = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert world.cases["A3"] in first_row and "Đã bổ sung" in first_row
    case_page = c.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True)
    assert "Có video" in case_page and "Người báo đã bổ sung" in case_page
    resp = post(
        c, f"/console/cases/{world.cases['A3']}/decide", {"kind": "verify", "confirm_count": "1"}
    )
    assert resp.status_code == 302
    with app.app_context():
        case = db.session.get(Case, world.cases["A3"])
        assert (case.verdict, case.answered_at) == ("verified", None)


def test_the_answer_is_in_the_custody_trail_and_the_evidence_package(
    app: Flask, world: World
) -> None:
    c = _ask(app, world)
    rid, api, aid = world.reports["a3"], world.citizen, str(uuid.uuid4())
    extra = _video()
    assert _answer(api, rid, aid, {"text": "Video đây", "media": [extra.decl]}).status_code == 201
    assert api.put_media(rid, extra).status_code == 201
    with app.app_context():
        kinds = {
            e.kind: json.loads(e.content)
            for e in db.session.scalars(sa.select(CustodyEntry).order_by(CustodyEntry.seq))
        }
        assert kinds["answer_received"]["answer_id"] == aid
        assert kinds["answer_received"]["media"][0]["media_id"] == extra.media_id
        assert custody.verify().ok
    resp = post(c, f"/console/cases/{world.cases['A3']}/evidence-package")
    assert resp.status_code == 200
    with zipfile.ZipFile(io.BytesIO(resp.data)) as zf:
        names = zf.namelist()
        assert f"reports/{rid}/media/{extra.media_id}.mp4" in names
        answers = json.loads(zf.read("answers.json"))
        assert [(a["answer_id"], a["text"], a["media_ids"]) for a in answers] == [
            (aid, "Video đây", [extra.media_id])
        ]
        entries = zf.read("custody/entries.jsonl").decode()
        assert '"answer_received"' in entries
        assert "Video đây" in zf.read("summary.html").decode()


def test_an_answers_late_file_does_not_flag_the_capture_as_received_late(
    app: Flask, world: World
) -> None:
    _ask(app, world)
    rid, api = world.reports["a3"], world.citizen
    with app.app_context():
        before = list(db.session.get(Report, rid).flags)
        # The answer's file arrives a month after the capture.
        extra = photo(taken_at="2026-12-20T09:05:00")
    assert _answer(api, rid, str(uuid.uuid4()), {"media": [extra.decl]}).status_code == 201
    assert api.put_media(rid, extra).status_code == 201
    with app.app_context():
        flags = db.session.get(Report, rid).flags
        assert "captured_long_before_receipt" not in set(flags) - set(before)
        assert db.session.get(Media, extra.media_id).answer_id is not None


def test_a_request_unanswered_for_the_configured_days_is_shown_as_such(
    app: Flask, world: World
) -> None:
    c = _ask(app, world)
    assert "Quá hạn bổ sung" not in c.get("/console/queue").get_data(as_text=True)
    with app.app_context():
        case = db.session.get(Case, world.cases["A3"])
        case.verdict_at = case.verdict_at - timedelta(days=8)
        db.session.commit()
    queue = c.get("/console/queue").get_data(as_text=True)
    row = queue.split(world.cases["A3"], 1)[1].split("</tr>", 1)[0]
    assert "Quá hạn bổ sung" in row
    page = c.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True)
    assert "Quá hạn bổ sung" in page
