"""The case page made for deciding (issue 26, item 5), server side: the queue shows the
warning flags as a column and filters by them; "after a decision, open the next case"
leads to the next case of the queue with the decided one a link away; the evidence (the
first photo, the plates, the flags) is in the page's first block, beside the decision.
The world is :func:`tests.test_console.build_world` (case A: a1, a2; A3; B; C)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, Report
from tests.test_console import World, build_world, post, session_for


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _flag(app: Flask, report_id: str, flag: str) -> None:
    with app.app_context():
        report = db.session.get(Report, report_id)
        report.flags = [*report.flags, flag]
        db.session.commit()


def _rows(page: str) -> dict[str, str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [r for r in body.split("</tr>") if 'data-case="' in r]
    return {r.split('data-case="', 1)[1].split('"', 1)[0]: r for r in rows}


def test_the_queue_shows_flags_in_words_and_filters_by_one(app: Flask, world: World) -> None:
    _flag(app, world.reports["a3"], "exif_location_mismatch")
    c = session_for(app, "rev_a")
    rows = _rows(c.get("/console/queue").get_data(as_text=True))
    flags_cell = rows[world.cases["A3"]].split('class="flags"', 1)[1]
    assert "Vị trí trong ảnh cách xa nơi vi phạm" in flags_cell
    assert "exif_location_mismatch" not in rows[world.cases["A3"]]
    filtered = _rows(c.get("/console/queue?flag=exif_location_mismatch").get_data(as_text=True))
    assert list(filtered) == [world.cases["A3"]]
    # An unknown flag filters nothing (like an unknown status).
    assert set(_rows(c.get("/console/queue?flag=nope").get_data(as_text=True))) == {
        world.cases["A"], world.cases["A3"]
    }


def test_after_a_decision_the_next_case_opens_with_the_decided_one_a_link_away(
    app: Flask, world: World
) -> None:
    c = session_for(app, "rev_a")
    data = {"kind": "verify", "confirm_count": "2", "next_case": "1"}
    resp = post(c, f"/console/cases/{world.cases['A']}/decide", data)
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(
        f"/console/cases/{world.cases['A3']}?decided={world.cases['A']}"
    )
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'href="/console/cases/{world.cases["A"]}"' in page.split('id="decided-link"')[1]
    assert 'id="next-case" checked' in page  # the setting is kept
    with app.app_context():
        assert db.session.get(Case, world.cases["A"]).verdict == "verified"
    # Without the setting, the decided case stays on screen.
    data = {"kind": "verify", "confirm_count": "1", "next_case": "0"}
    resp = post(c, f"/console/cases/{world.cases['A3']}/decide", data)
    assert resp.headers["Location"].endswith(f"/console/cases/{world.cases['A3']}")


def test_the_first_block_holds_the_first_photo_plates_and_flags(app: Flask, world: World) -> None:
    _flag(app, world.reports["a1"], "no_exif_time")
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    first = page.split('id="evidence-first"', 1)[1].split('class="map-side"', 1)[0]
    with app.app_context():
        case = db.session.get(Case, world.cases["A"])
        media_id = db.session.scalars(
            sa.select(Report).where(Report.id == case.first_report_id)
        ).one().media[0].id
    assert f"/console/media/{media_id}" in first
    assert "30A-123.45" in first
    assert "Ảnh không có thời gian chụp" in first
    # The evidence comes before the decision forms in the page.
    assert page.index('id="evidence-first"') < page.index('id="verify-form"')
