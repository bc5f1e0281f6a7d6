"""Statistics (server.services.stats): counts equal a hand-computed fixture, per scope.

The fixture is written straight into the database (no ingest), so every time, status and
district is the one the table below says. Every database test runs on SQLite and on
PostgreSQL.

Reports (local time UTC+7; "+h" = hours from receipt to the first verified/rejected event):

====  ========  ==========  ===================  =======  ===========================  =====
name  district  violation   captured (local)     source   status                       case
====  ========  ==========  ===================  =======  ===========================  =====
r1    006       PARK        2026-01-05 10:00     citizen  verified +2                  C1
r2    006       PARK        2026-01-05 10:05     citizen  verified +3                  C1
r3    006       RED_LIGHT   2026-02-10 09:00     officer  verified +10                 C2
r4    006       RED_LIGHT   2026-03-01 00:30     citizen  rejected plate_unreadable +4 C3
r5    001       PARK        2026-03-15 12:00     citizen  needs_info, rejected +6      C4
r6    001       PARK        2026-09-30 23:30     citizen  submitted                    C5 (to 006)
r7    001       PARK        2026-10-01 00:10     citizen  submitted                    C6 (later)
r8    024       PARK        2026-04-01 08:00     citizen  verified +1                  C7
r9    006       PARK        2025-01-05 08:00     citizen  verified +5                  C8
r10   006       PARK        2025-06-01 08:00     citizen  submitted                    C9
r11   006       PARK        2026-05-05 08:00     citizen  needs_info                   C1 (via C10)
====  ========  ==========  ===================  =======  ===========================  =====

C1, C2 and C7 are verified cases of one plate (30A-111.11): a repeat offender. C5 was
forwarded to 006; C6 is after the period; r11 came into C1 with C10, merged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from server.extensions import db
from server.models import Case, Device, Report, StatusEvent
from server.services import accounts, stats
from server.services.stats import Period, PeriodError
from server.services.stats import rollup as stats_rollup

LOCAL = timedelta(hours=7)
NINE_MONTHS = Period.nine_months(2026)
PLATE = ("30A11111", "30A-111.11")


@dataclass(frozen=True)
class Row:
    name: str
    district: str
    violation: str
    local: str
    source: str
    status: str
    decided: tuple[tuple[str, float, str | None], ...]  # (status, hours after receipt, reason)
    case: str
    plate: tuple[str, str] | None = None


ROWS = (
    Row("r1", "006", "PARK", "2026-01-05 10:00", "citizen", "verified",
        (("verified", 2, None),), "C1", PLATE),
    Row("r2", "006", "PARK", "2026-01-05 10:05", "citizen", "verified",
        (("verified", 3, None),), "C1", PLATE),
    Row("r3", "006", "RED_LIGHT", "2026-02-10 09:00", "officer", "verified",
        (("verified", 10, None),), "C2", PLATE),
    Row("r4", "006", "RED_LIGHT", "2026-03-01 00:30", "citizen", "rejected",
        (("rejected", 4, "plate_unreadable"),), "C3", ("29B22222", "29B-222.22")),
    Row("r5", "001", "PARK", "2026-03-15 12:00", "citizen", "rejected",
        (("needs_info", 1, "need_video"), ("rejected", 6, "not_a_violation")), "C4"),
    Row("r6", "001", "PARK", "2026-09-30 23:30", "citizen", "submitted", (), "C5"),
    Row("r7", "001", "PARK", "2026-10-01 00:10", "citizen", "submitted", (), "C6"),
    Row("r8", "024", "PARK", "2026-04-01 08:00", "citizen", "verified",
        (("verified", 1, None),), "C7", PLATE),
    Row("r9", "006", "PARK", "2025-01-05 08:00", "citizen", "verified",
        (("verified", 5, None),), "C8"),
    Row("r10", "006", "PARK", "2025-06-01 08:00", "citizen", "submitted", (), "C9"),
    Row("r11", "006", "PARK", "2026-05-05 08:00", "citizen", "needs_info",
        (("needs_info", 2, "need_video"),), "C1"),
)  # fmt: skip
VIOLATIONS = {"PARK": "PARK_SIDEWALK_ROADWAY", "RED_LIGHT": "RED_LIGHT"}
CASE_DISTRICT = {"C5": "006"}  # forwarded
FIRST = {"C1": "r1", "C2": "r3", "C3": "r4", "C4": "r5", "C5": "r6", "C6": "r7", "C7": "r8",
         "C8": "r9", "C9": "r10", "C10": "r11"}  # fmt: skip


def _utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - LOCAL


def build_fixture(app: Flask) -> dict[str, str]:
    """The table above in the database; returns name -> id (reports and cases)."""
    ids = {name: str(uuid.uuid4()) for name in [r.name for r in ROWS] + list(FIRST)}
    with app.app_context():
        device = Device(id=str(uuid.uuid4()), token_hash=uuid.uuid4().hex * 2)
        db.session.add(device)
        by_name = {r.name: r for r in ROWS}
        for case, first in FIRST.items():
            db.session.add(
                Case(
                    id=ids[case],
                    district_code=CASE_DISTRICT.get(case, by_name[first].district),
                    first_report_id=ids[first],
                    status="merged" if case == "C10" else "open",
                    merged_into_id=None,
                    report_count=1,
                )
            )
        db.session.flush()
        db.session.get(Case, ids["C10"]).merged_into_id = ids["C1"]
        for r in ROWS:
            captured = _utc(r.local)
            received = captured + timedelta(hours=1)
            db.session.add(
                Report(
                    id=ids[r.name],
                    device_id=device.id,
                    body_digest="0" * 64,
                    violation=VIOLATIONS[r.violation],
                    vehicle_class="car",
                    plate_raw=r.plate[1] if r.plate else "",
                    plate_kind="civilian" if r.plate else "none",
                    plate_compact=r.plate[0] if r.plate else "",
                    plate_display=r.plate[1] if r.plate else None,
                    plate_match_key=f"car:{r.plate[0]}" if r.plate else None,
                    captured_at=captured,
                    lat=21.0,
                    lon=105.8,
                    location_source="gps",
                    reporter_kind=r.source,
                    status=r.status,
                    flags=[],
                    received_at=received,
                    updated_at=received,
                    district_code=r.district,
                    case_id=ids[r.case],
                )
            )
            db.session.flush()
            db.session.add(
                StatusEvent(report_id=ids[r.name], status="submitted", created_at=received)
            )
            for status, hours, reason in r.decided:
                db.session.add(
                    StatusEvent(
                        report_id=ids[r.name],
                        status=status,
                        reason_code=reason,
                        actor="user:rev",
                        created_at=received + timedelta(hours=hours),
                    )
                )
        db.session.commit()
        mk = accounts.create_user
        mk("rev_006", "correct horse battery", "reviewer", districts=["006"])
        mk("rev_001", "correct horse battery", "reviewer", districts=["001"])
        mk("sup_01", "correct horse battery", "supervisor", province="01")
        mk("sup_02", "correct horse battery", "supervisor", province="02")
        mk("root", "correct horse battery", "admin")
    return ids


# Every count is asked of the definitions in server.services.stats (straight from the
# base tables) and of the rollups the dashboard reads (server.services.stats_rollup).
@pytest.fixture(params=["direct", "rollup"])
def counted(request: pytest.FixtureRequest):
    return stats if request.param == "direct" else stats_rollup


def scope_of(username: str) -> set[str] | None:
    return accounts.districts_of(accounts.get_by_username(username))


# ---------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("period", "start_utc", "end_utc"),
    [
        (Period(date(2026, 1, 1), date(2026, 1, 1)), "2025-12-31T17:00", "2026-01-01T17:00"),
        (NINE_MONTHS, "2025-12-31T17:00", "2026-09-30T17:00"),
        (Period.whole_year(2024), "2023-12-31T17:00", "2024-12-31T17:00"),
    ],
)
def test_a_period_is_local_days_in_utc(period: Period, start_utc: str, end_utc: str) -> None:
    start, end = period.utc_bounds()
    assert start == datetime.fromisoformat(start_utc).replace(tzinfo=UTC)
    assert end == datetime.fromisoformat(end_utc).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "earlier"),
    [
        (NINE_MONTHS, Period(date(2025, 1, 1), date(2025, 9, 30))),
        (
            Period(date(2024, 2, 29), date(2024, 3, 31)),
            Period(date(2023, 2, 28), date(2023, 3, 31)),
        ),
        (
            Period(date(2025, 12, 15), date(2026, 12, 14)),
            Period(date(2024, 12, 15), date(2025, 12, 14)),
        ),
    ],
)
def test_the_same_period_a_year_earlier(period: Period, earlier: Period) -> None:
    assert period.year_earlier() == earlier


def test_months_and_iso_weeks_of_a_period() -> None:
    assert NINE_MONTHS.months() == [f"2026-{m:02d}" for m in range(1, 10)]
    weeks = Period(date(2026, 12, 28), date(2027, 1, 4)).weeks()
    assert weeks == ["2026-W53", "2027-W01"]


@pytest.mark.parametrize(
    ("start", "end"), [(date(2026, 2, 1), date(2026, 1, 31)), (date(2020, 1, 1), date(2026, 1, 1))]
)
def test_a_backwards_or_too_long_period_is_refused(start: date, end: date) -> None:
    with pytest.raises(PeriodError):
        Period(start, end)


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([5.0], 5.0, 5.0),
        ([1, 2, 3, 4, 6, 10], 3.5, 8.0),
        ([10, 1, 2, 3], 2.5, 7.9),
    ],
)
def test_percentiles_interpolate_like_percentile_cont(values, median, p90) -> None:
    assert stats.percentile(values, 0.5) == pytest.approx(median)
    assert stats.percentile(values, 0.9) == pytest.approx(p90)


# ---------------------------------------------------------------------------- counts

# scope -> (reports, cases, reports by district, cases by district)
SCOPES = {
    "root": (8, 6, {"006": 5, "001": 2, "024": 1}, {"006": 4, "001": 1, "024": 1}),
    "sup_01": (7, 5, {"006": 5, "001": 2}, {"006": 4, "001": 1}),
    "sup_02": (1, 1, {"024": 1}, {"024": 1}),
    "rev_006": (5, 4, {"006": 5}, {"006": 4}),
    "rev_001": (2, 1, {"001": 2}, {"001": 1}),
}


@pytest.mark.parametrize("username", list(SCOPES))
def test_counts_per_scope_equal_the_hand_computed_table(app: Flask, counted, username: str) -> None:
    build_fixture(app)
    reports, cases, rep_by_district, case_by_district = SCOPES[username]
    with app.app_context():
        s = counted.summary(scope_of(username), NINE_MONTHS)
    assert (s.reports.total, s.cases.total) == (reports, cases)
    assert s.reports.by_district == rep_by_district
    assert s.cases.by_district == case_by_district


def test_every_dimension_for_all_districts(app: Flask, counted) -> None:
    build_fixture(app)
    with app.app_context():
        s = counted.summary(None, NINE_MONTHS)
    r, c = s.reports, s.cases
    assert r.by_violation == {"PARK_SIDEWALK_ROADWAY": 6, "RED_LIGHT": 2}
    # r4 at 00:30 local on 1 March is 28 February in UTC: it counts in March.
    assert r.by_month == {"2026-01": 2, "2026-02": 1, "2026-03": 2, "2026-04": 1,
                          "2026-05": 1, "2026-09": 1}  # fmt: skip
    assert r.by_week["2026-W02"] == 2 and r.by_week["2026-W09"] == 1
    assert sum(r.by_week.values()) == 8
    assert r.by_status == {"verified": 4, "rejected": 2, "submitted": 1, "needs_info": 1}
    assert r.by_source == {"citizen": 7, "officer": 1}
    assert r.rejected_by_reason == {"plate_unreadable": 1, "not_a_violation": 1}
    assert (r.verified, r.rejected, r.awaiting) == (4, 2, 2)
    assert r.share("verified") == pytest.approx(0.5)
    assert c.by_status == {"verified": 3, "rejected": 2, "submitted": 1}
    assert c.by_source == {"citizen": 5, "officer": 1}
    assert c.by_violation == {"PARK_SIDEWALK_ROADWAY": 4, "RED_LIGHT": 2}
    # receipt to first verified/rejected: 1, 2, 3, 4, 6 (r5's needs_info does not count), 10
    assert s.times.count == 6
    assert s.times.median_hours == pytest.approx(3.5)
    assert s.times.p90_hours == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("username", "cases"),
    [("root", 3), ("sup_01", 2), ("rev_006", 2), ("rev_001", None), ("sup_02", None)],
)
def test_repeat_offenders_are_plates_with_two_verified_cases(
    app: Flask, username: str, cases: int | None
) -> None:
    build_fixture(app)
    with app.app_context():
        found = stats.repeat_offenders(scope_of(username), NINE_MONTHS)
    if cases is None:
        assert found == []
    else:
        assert [(o.plate_display, o.cases) for o in found] == [("30A-111.11", cases)]


def test_the_same_period_a_year_earlier_side_by_side(app: Flask, counted) -> None:
    build_fixture(app)
    with app.app_context():
        both = counted.compare(scope_of("rev_006"), NINE_MONTHS)
    assert both.previous.period == Period(date(2025, 1, 1), date(2025, 9, 30))
    assert (both.previous.reports.total, both.previous.cases.total) == (2, 2)
    months = both.aligned_months()
    assert months[0] == ("2026-01", 2, 1) and months[5] == ("2026-06", 0, 1)
    assert len(months) == 9
    assert both.previous.times.count == 1 and both.previous.times.median_hours == 5


def test_an_empty_scope_counts_nothing(app: Flask, counted) -> None:
    build_fixture(app)
    with app.app_context():
        s = counted.summary(set(), NINE_MONTHS)
    assert (s.reports.total, s.cases.total, s.times.count) == (0, 0, 0)
    assert s.reports.share("verified") is None and s.repeat_offenders == []


def test_case_rows_for_the_csv_name_no_one(app: Flask) -> None:
    ids = build_fixture(app)
    with app.app_context():
        rows = list(stats.case_export_rows(scope_of("rev_001"), NINE_MONTHS))
    assert [r["case_id"] for r in rows] == [ids["C4"]]
    assert rows[0]["decided_at"] - rows[0]["received_at"] == timedelta(hours=6)
    assert "reporter_kind" not in rows[0] and "identity_ciphertext" not in rows[0]


def test_a_penalty_issued_counts_as_verified_and_a_cases_verdict_wins(app: Flask, counted) -> None:
    """The review's later steps (server.services.review): reports whose penalty was issued
    count as verified, and a case counts by its verdict, not its first report's status."""
    ids = build_fixture(app)
    with app.app_context():
        r1 = db.session.get(Report, ids["r1"])
        r1.status = "penalty_issued"  # C1: verified, then the penalty decision
        db.session.add(StatusEvent(report_id=r1.id, status="penalty_issued", actor="user:rev"))
        db.session.get(Case, ids["C1"]).verdict = "penalty_issued"
        db.session.get(Case, ids["C5"]).verdict = "rejected"  # r6 is still "submitted"
        db.session.commit()
        s = counted.summary(None, NINE_MONTHS)
        offenders = stats.repeat_offenders(None, NINE_MONTHS)
    assert s.reports.by_status == {"verified": 4, "rejected": 2, "submitted": 1, "needs_info": 1}
    assert s.cases.by_status == {"verified": 3, "rejected": 3}
    assert [(o.plate_display, o.cases) for o in offenders] == [("30A-111.11", 3)]
    assert s.times.count == 6  # the penalty is not a second first decision
