"""Issue 13: the dashboard's pre-aggregated counts stay exact, whatever changes a case.

The rollups (server.services.stats_rollup) must give what the definitions in
server.services.stats give straight from the base tables, for every scope and for
whole-month and part-month periods, after each step a reviewer can take: verify,
reject with a reason, a penalty, reopen, merge by hand, split (undoing the merge),
forward to another district, a new report joining, a report expiring without evidence
(issue 17.3), and an edit made by hand in SQL (which no application hook would see).
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, Report, StatsDirty, StatsRollup
from server.services import evidence_expiry, stats
from server.services.stats import Period, percentiles, rollup_counts, rollup_store
from server.services.stats import rollup as stats_rollup
from server.services.stats.periods import split_period
from tests.test_console import BA_DINH, DONG_DA, T0, World, build_world, post, send, session_for


def _plain(summary: stats.Summary) -> dict[str, Any]:
    out = dataclasses.asdict(summary)
    times = out.pop("times")
    out["times"] = (
        times["count"],
        None if times["median_hours"] is None else round(times["median_hours"], 9),
        None if times["p90_hours"] is None else round(times["p90_hours"], 9),
    )
    return out


def periods() -> list[Period]:
    day = (T0 + stats.LOCAL_OFFSET).date()
    return [
        Period.whole_year(day.year),  # whole months only
        Period(day - timedelta(days=3), day + timedelta(days=40)),  # part-months at both ends
        Period(day, day),  # one day
        Period(date(day.year, 1, 1), day.replace(day=1) - timedelta(days=1)),  # nothing in it
    ]


SCOPES: list[set[str] | None] = [None, {"006"}, {"001"}, {"006", "001"}, set()]


def assert_exact(app: Flask) -> None:
    """Rollups and base tables agree for every scope and period."""
    with app.app_context():
        for period in periods():
            for scope in SCOPES:
                direct = _plain(stats.summary(scope, period))
                rolled = _plain(stats_rollup.summary(scope, period))
                assert rolled == direct, (scope, period)


def verdict(app: Flask, case_id: str) -> str | None:
    with app.app_context():
        return db.session.get(Case, case_id).verdict


def dirty_marks(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StatsDirty))


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    w = build_world(app, client)
    assert_exact(app)  # the first read aggregates what ingest marked
    return w


Step = Callable[[Flask, FlaskClient, World], None]


def _verify(app: Flask, client: FlaskClient, w: World) -> None:
    c = session_for(app, "rev_a")
    resp = post(
        c, f"/console/cases/{w.cases['A']}/decide", {"kind": "verify", "confirm_count": "2"}
    )
    assert resp.status_code == 302


def _reject(app: Flask, client: FlaskClient, w: World) -> None:
    c = session_for(app, "rev_a")
    data = {"kind": "reject", "reason_code": "plate_unreadable", "confirm_count": "1"}
    assert post(c, f"/console/cases/{w.cases['A3']}/decide", data).status_code == 302


def _penalty_then_reopen(app: Flask, client: FlaskClient, w: World) -> None:
    _verify(app, client, w)
    assert_exact(app)
    c = session_for(app, "rev_a")
    assert (
        post(c, f"/console/cases/{w.cases['A']}/penalty", {"penalty_no": "QĐ-1"}).status_code == 302
    )
    assert_exact(app)
    c = session_for(app, "sup_hn")
    resp = post(c, f"/console/cases/{w.cases['A']}/reopen", {"reason": "ảnh thứ hai không rõ biển"})
    assert resp.status_code == 302 and verdict(app, w.cases["A"]) is None


def _redecide(app: Flask, client: FlaskClient, w: World) -> None:
    _reject(app, client, w)
    assert_exact(app)
    c = session_for(app, "sup_hn")
    assert (
        post(
            c, f"/console/cases/{w.cases['A3']}/reopen", {"reason": "biển số đọc lại được"}
        ).status_code
        == 302
    )
    assert_exact(app)
    c = session_for(app, "rev_a")
    data = {"kind": "verify", "confirm_count": "1"}
    assert post(c, f"/console/cases/{w.cases['A3']}/decide", data).status_code == 302
    assert verdict(app, w.cases["A3"]) == "verified"


def _merge_then_split(app: Flask, client: FlaskClient, w: World) -> None:
    c = session_for(app, "rev_a")
    a, a3 = w.cases["A"], w.cases["A3"]
    assert post(c, f"/console/cases/{a}/merge", {"other": a3[:8], "note": "x"}).status_code == 302
    assert_exact(app)
    resp = post(c, f"/console/cases/{a}/split", {"report_id": w.reports["a3"], "reason": "x"})
    assert resp.status_code == 302


def _split_a_joined_report(app: Flask, client: FlaskClient, w: World) -> None:
    c = session_for(app, "rev_a")
    resp = post(
        c, f"/console/cases/{w.cases['A']}/split", {"report_id": w.reports["a1"], "reason": "x"}
    )
    assert resp.status_code == 302


def _forward(app: Flask, client: FlaskClient, w: World) -> None:
    c = session_for(app, "rev_a")
    resp = post(c, f"/console/cases/{w.cases['A3']}/forward", {"to_district": "001", "note": "x"})
    assert resp.status_code == 302


def _a_report_joins(app: Flask, client: FlaskClient, w: World) -> None:
    send(client, BA_DINH, plate="30F-777.88", minutes=4, api=w.citizen)
    send(client, DONG_DA, plate="51G-246.80", minutes=30)


def _a_report_expires(app: Flask, client: FlaskClient, w: World) -> None:
    """A report without evidence expires: it leaves its case (closed, being empty) and
    counts under its status, ``expired``."""
    rid, _ = send(client, DONG_DA, plate="29C-246.80", minutes=200, upload=False, api=w.citizen)
    assert_exact(app)
    with app.app_context():
        db.session.execute(sa.delete(StatsDirty))  # what follows must mark its own buckets
        db.session.commit()
        later = db.session.get(Report, rid).received_at + timedelta(hours=73)
        assert evidence_expiry.expire_reports(later).expired_reports == 1
        year = Period.whole_year((T0 + stats.LOCAL_OFFSET).date().year)
        assert stats.summary(None, year).reports.by_status.get("expired") == 1


def _edited_by_hand(app: Flask, client: FlaskClient, w: World) -> None:
    """SQL by hand, past every application hook: the triggers still see it."""
    with app.app_context():
        earlier = db.session.get(Report, w.reports["b1"]).captured_at - timedelta(days=40)
        db.session.execute(
            sa.update(Report)
            .where(Report.id == w.reports["b1"])
            .values(violation="RED_LIGHT", captured_at=earlier)
        )
        db.session.commit()


def _rejected_without_an_event(app: Flask, client: FlaskClient, w: World) -> None:
    """A report set to rejected by hand has no rejection event: it counts as rejected
    but under no reason, in the rollups as in the base tables (the recount's one pass
    looks its reason up per row)."""
    with app.app_context():
        db.session.execute(
            sa.update(Report).where(Report.id == w.reports["b1"]).values(status="rejected")
        )
        db.session.commit()


STEPS: dict[str, Step] = {
    "verify": _verify,
    "reject-with-reason": _reject,
    "penalty-then-reopen": _penalty_then_reopen,
    "reject-reopen-verify": _redecide,
    "merge-then-split": _merge_then_split,
    "split-a-joined-report": _split_a_joined_report,
    "forward": _forward,
    "new-reports-join-and-open": _a_report_joins,
    "a-report-expires": _a_report_expires,
    "sql-by-hand": _edited_by_hand,
    "rejected-without-an-event": _rejected_without_an_event,
}


@pytest.mark.parametrize("step", list(STEPS))
def test_rollups_equal_the_base_tables_after(
    app: Flask, client: FlaskClient, world: World, step: str
) -> None:
    STEPS[step](app, client, world)
    assert dirty_marks(app) > 0  # the change was noticed...
    assert_exact(app)  # ...and counted


def test_a_refresh_leaves_no_mark_behind_and_a_clean_read_changes_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    _verify(app, client, world)
    with app.app_context():
        assert rollup_store.refresh_all() > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatsDirty)) == 0
        before = (
            db.session.execute(sa.select(StatsRollup).order_by(*StatsRollup.__table__.primary_key))
            .scalars()
            .all()
        )
        snapshot = [(r.month, r.district_code, r.kind, r.dim, r.key, r.n) for r in before]
        assert rollup_store.refresh(None, [r[0] for r in snapshot]) == 0
        assert rollup_store.rebuild() > 0
        after = (
            db.session.execute(sa.select(StatsRollup).order_by(*StatsRollup.__table__.primary_key))
            .scalars()
            .all()
        )
        assert [(r.month, r.district_code, r.kind, r.dim, r.key, r.n) for r in after] == snapshot
    assert_exact(app)


def test_a_mark_committed_during_a_refresh_survives_it(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """A refresh deletes only the marks it read: a change that commits after the refresh
    counted keeps its mark, and the next read counts it. (On SQLite the race cannot
    happen: the refresh's transaction begins IMMEDIATE, so the other writer waits.)"""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers: a change cannot commit during a refresh")
    month = (T0 + stats.LOCAL_OFFSET).strftime("%Y-%m")
    with app.app_context():
        rollup_store.refresh_all()
        real_aggregate = rollup_counts.aggregate

        def aggregate_then_change(bucket: Any) -> Any:
            counts = real_aggregate(bucket)
            # Another request's change lands between the count and the commit.
            with db.engine.begin() as other:
                other.execute(
                    sa.update(Report.__table__)
                    .where(Report.__table__.c.id == world.reports["a3"])
                    .values(violation="RED_LIGHT")
                )
            return counts

        rollup_counts.aggregate = aggregate_then_change
        try:
            db.session.execute(sa.insert(StatsDirty).values(district_code="006", month=month))
            db.session.commit()
            assert rollup_store.refresh({"006"}, [month]) == 1
        finally:
            rollup_counts.aggregate = real_aggregate
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StatsDirty)) > 0
    assert_exact(app)


@pytest.mark.parametrize(
    ("minutes", "counted"),
    [(0, 0), (1.5, 1), (119.9, 119), (121, 120), (127, 125), (2879, 2875), (2880, 2880),
     (2909, 2908), (10_000, 9989)],
)  # fmt: skip
def test_decision_times_are_binned_finely(minutes: float, counted: int) -> None:
    t0 = T0
    assert stats.decision_bin(t0, t0 + timedelta(minutes=minutes)) == counted


@pytest.mark.parametrize(
    ("values", "q"),
    [([1, 2, 3, 4, 6, 10], 0.5), ([1, 2, 3, 4, 6, 10], 0.9), ([5], 0.5), ([2, 2, 2, 9], 0.9)],
)
def test_percentiles_of_counts_equal_those_of_the_values(values: list[int], q: float) -> None:
    from collections import Counter

    assert percentiles.percentile_of_counts(Counter(values), q) == pytest.approx(
        stats.percentile([float(v) for v in values], q)
    )


@pytest.mark.parametrize(
    ("period", "whole", "edges"),
    [
        (Period.nine_months(2026), [f"2026-{m:02d}" for m in range(1, 10)], []),
        (
            Period(date(2026, 1, 15), date(2026, 3, 10)),
            ["2026-02"],
            [
                Period(date(2026, 1, 15), date(2026, 1, 31)),
                Period(date(2026, 3, 1), date(2026, 3, 10)),
            ],
        ),
        (
            Period(date(2026, 2, 3), date(2026, 2, 20)),
            [],
            [Period(date(2026, 2, 3), date(2026, 2, 20))],
        ),
    ],
)
def test_a_period_splits_into_whole_months_and_leftover_days(
    period: Period, whole: list[str], edges: list[Period]
) -> None:
    assert split_period(period) == (whole, edges)


def test_the_refresh_command_counts_what_changed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    _verify(app, client, world)
    assert dirty_marks(app) > 0
    result = app.test_cli_runner().invoke(args=["stats", "refresh"])
    assert result.exit_code == 0, result.output
    assert "district-months counted" in result.output
    assert dirty_marks(app) == 0
    result = app.test_cli_runner().invoke(args=["stats", "refresh", "--rebuild"])
    assert result.exit_code == 0 and dirty_marks(app) == 0
    assert_exact(app)
