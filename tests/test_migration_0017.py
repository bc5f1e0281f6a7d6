"""Migration 0017 on a database routed by the pre-2025 districts: every report and case is
kept, keeps its old district as history and gains today's commune and its police from its
own location; what today's map cannot place is listed, never dropped; supervisors' old
province codes become today's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from server.district_index import DistrictIndex
from server.extensions import db
from server.models import Case, CaseEvent, Report, User
from server.services import accounts, cases
from tests.test_districts import send

DONG_DA = (21.028511, 105.804817)  # district 006 before, a ward of Hà Nội now
BA_DINH = (21.0368, 105.8345)  # district 001 before
HA_LONG = (20.9511, 107.0800)  # Quảng Ninh: missing from the old data, unrouted then
OFF_SHORE = (18.0, 109.0)  # far at sea: no area, then or now


@pytest.fixture
def old_world(app: Flask, client) -> dict[str, str]:
    """Reports routed by the pre-2025 districts (the test default), one placed by hand."""
    ids = {
        name: send(client, *at, plate=f"30A-{i}11.11")["report_id"]
        for i, (name, at) in enumerate(
            {"dong_da": DONG_DA, "ba_dinh": BA_DINH, "ha_long": HA_LONG, "sea": OFF_SHORE}.items()
        )
    }
    with app.app_context():
        cases.route_by_hand(db.session.get(Report, ids["sea"]), "006", "admin", "by phone")
        accounts.create_user("gs-hagiang", "correct horse", "supervisor", province="02")
    return ids


def _rows(app: Flask) -> tuple[dict, dict, dict]:
    with app.app_context():
        reports = {
            r.id: (r.district_code, r.legacy_district_code, r.route_rule, r.case_id)
            for r in db.session.scalars(sa.select(Report))
        }
        case_rows = {
            c.id: (c.district_code, c.legacy_district_code, c.unit_code)
            for c in db.session.scalars(sa.select(Case))
        }
        events = {
            e.case_id: (e.from_district, e.to_district, e.to_unit, e.actor)
            for e in db.session.scalars(sa.select(CaseEvent).where(CaseEvent.kind == "rerouted"))
        }
        return reports, case_rows, events


def test_migration_0017_reroutes_every_report_keeping_its_old_district(
    app: Flask, runner, old_world: dict[str, str]
) -> None:
    from flask_migrate import downgrade, upgrade

    before, _, _ = _rows(app)
    assert before[old_world["dong_da"]][0] == "006" and before[old_world["ha_long"]][0] is None
    with app.app_context():
        db.session.remove()
        downgrade(revision="0016")
        upgrade(revision="head")
        db.session.remove()
    reports, case_rows, events = _rows(app)
    assert set(reports) == set(before)  # nothing dropped
    today = DistrictIndex.load_2025()
    expected = {
        "dong_da": (today.route(*DONG_DA).district_code, "006", "01"),
        "ba_dinh": (today.route(*BA_DINH).district_code, "001", "01"),
        "ha_long": (today.route(*HA_LONG).district_code, None, "22"),
    }
    for name, (code, legacy, province) in expected.items():
        district, old, rule, case_id = reports[old_world[name]]
        assert (district, old) == (code, legacy), name
        assert today.district(district).province_code == province, name
        assert rule in ("inside", "border")
        assert case_rows[case_id] == (code, legacy, f"CA-{code}")
        assert events[case_id] == (legacy, code, f"CA-{code}", "migration 0017")
    # The report placed by hand far at sea: kept, unrouted, listed.
    district, old, rule, case_id = reports[old_world["sea"]]
    assert (district, old, rule) == (None, "006", "unrouted")
    assert case_rows[case_id] == (None, "006", None)
    listed = runner.invoke(args=["boundaries", "unmapped"])
    assert f"{old_world['sea']}\t006\t18.000000\t109.000000" in listed.output
    assert "1 unmapped reports" in listed.output
    with app.app_context():
        supervisor = db.session.scalar(sa.select(User).where(User.username == "gs-hagiang"))
        assert supervisor.province_code == "08"  # Hà Giang is in Tuyên Quang now
