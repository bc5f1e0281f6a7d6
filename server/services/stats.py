"""Statistics of reports and cases for a period and an area (issue 13).

Pure queries: every function takes the district scope of the user (``districts``, as
:func:`server.services.accounts.districts_of` gives it: ``None`` for all districts) and a
:class:`Period`, and returns plain data. Nothing here handles an informant's identity.

What is counted where
    A **report** counts in the period of its violation time (``captured_at``, in
    Vietnam's local time, UTC+7) and in the district where it was made
    (``reports.district_code``). A **case** counts in the period of its first report's
    violation time and in the district whose police handle it (``cases.district_code``;
    a forwarded case counts where it went); absorbed cases (``status = 'merged'``) are
    not counted, their reports count with the case that took them. A case's violation,
    source, plate and decision are those of its first report (a decision reaches every
    report of a case alike).

Sources
    ``officer`` when the report came from an officer's token (``reporter_kind``, set by
    ingest from the token whatever the body claimed), ``citizen`` otherwise.

Decisions
    ``verified`` and ``rejected`` are decided; ``expired`` (no evidence arrived, issue
    17.3) is counted under its status and is neither; every other status
    (``awaiting_evidence``, ``submitted``, ``needs_info``, ``info_added``) is awaiting.
    The time to a
    decision is from the server's receipt of the report (``received_at``) to its first
    ``verified`` or ``rejected`` status event; median and 90th percentile are computed in
    Python (linear interpolation, as PostgreSQL's ``percentile_cont``), the same on both
    databases.

Weeks and months
    Counts are grouped by local day in SQL (portable between SQLite and PostgreSQL) and
    rolled up to months (``2026-03``) and ISO weeks (``2026-W09``) here.
"""

from __future__ import annotations

import calendar
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, Report, StatusEvent

LOCAL_OFFSET = timedelta(hours=7)  # Vietnam: UTC+7 all year
DECIDED = ("verified", "penalty_issued", "rejected")
SOURCES = ("citizen", "officer")
MAX_DAYS = 3 * 366 + 1  # the longest period a dashboard or export is made for
REPEAT_MIN = 2  # verified cases of one plate that make a repeat offender
REPEAT_LIMIT = 50  # repeat offenders listed


class PeriodError(ValueError):
    """A period that cannot be used (end before start, too long)."""


# ---------------------------------------------------------------------------- periods


def _shift_year(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class Period:
    """Local calendar days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("the period ends before it starts")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise PeriodError("the period is too long")

    @classmethod
    def nine_months(cls, year: int) -> Period:
        """The nine-month review ("9 tháng đầu năm"): 1 January to 30 September."""
        return cls(date(year, 1, 1), date(year, 9, 30))

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``[from, to)`` in UTC: local midnight of ``start`` to local midnight after ``end``."""
        start = datetime.combine(self.start, datetime.min.time(), UTC) - LOCAL_OFFSET
        end = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), UTC)
        return start, end - LOCAL_OFFSET

    def year_earlier(self) -> Period:
        return Period(_shift_year(self.start, -1), _shift_year(self.end, -1))

    def shifted_to(self, year: int) -> Period:
        """The same days of ``year`` (a period across New Year keeps its length)."""
        years = year - self.start.year
        return Period(_shift_year(self.start, years), _shift_year(self.end, years))

    def months(self) -> list[str]:
        """The months the period touches, ``YYYY-MM``, in order."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def weeks(self) -> list[str]:
        """The ISO weeks the period touches, ``YYYY-Www``, in order."""
        out: list[str] = []
        day = self.start
        while day <= self.end:
            key = iso_week(day)
            if not out or out[-1] != key:
                out.append(key)
            day += timedelta(days=1)
        return out

    def label(self) -> str:
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------------------- results


@dataclass
class Breakdown:
    """Counts of one kind of thing (reports or cases) along every dimension."""

    total: int = 0
    by_violation: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    by_week: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> int:
        return self.by_status.get("verified", 0)

    @property
    def rejected(self) -> int:
        return self.by_status.get("rejected", 0)

    @property
    def awaiting(self) -> int:
        return self.total - self.verified - self.rejected - self.by_status.get("expired", 0)

    def share(self, what: str) -> float | None:
        """The share (0..1) of ``verified``, ``rejected`` or ``awaiting``; None if empty."""
        if not self.total:
            return None
        return {"verified": self.verified, "rejected": self.rejected, "awaiting": self.awaiting}[
            what
        ] / self.total


@dataclass(frozen=True)
class DecisionTimes:
    """Hours from a report's receipt to its first decision, over decided reports."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class RepeatOffender:
    plate_key: str
    plate_display: str
    cases: int
    last_at: datetime


@dataclass
class Summary:
    """Everything the dashboard shows for one period."""

    period: Period
    reports: Breakdown
    cases: Breakdown
    times: DecisionTimes
    repeat_offenders: list[RepeatOffender]


@dataclass
class Comparison:
    """A period and the same days a year earlier, side by side."""

    current: Summary
    previous: Summary

    def aligned_months(self, which: str = "reports") -> list[tuple[str, int, int]]:
        """``(month of the current period, its count, the count a year earlier)``."""
        cur = getattr(self.current, which).by_month
        prev = getattr(self.previous, which).by_month
        return [
            (m, cur.get(m, 0), prev.get(_month_year_earlier(m), 0))
            for m in self.current.period.months()
        ]

    def aligned_weeks(self, which: str = "reports") -> list[tuple[str, int, int]]:
        """``(ISO week of the current period, its count, the same week number a year
        earlier)``; week 53 compares with week 52 when last year had none."""
        cur = getattr(self.current, which).by_week
        prev = getattr(self.previous, which).by_week
        out = []
        for w in self.current.period.weeks():
            year, week = int(w[:4]), int(w[6:])
            prev_key = f"{year - 1:04d}-W{week:02d}"
            if week == 53 and prev_key not in prev:
                prev_key = f"{year - 1:04d}-W52"
            out.append((w, cur.get(w, 0), prev.get(prev_key, 0)))
        return out


def _month_year_earlier(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


# ---------------------------------------------------------------------------- queries


def _in_scope(column: Any, districts: Iterable[str] | None) -> Any:
    """``column IN (districts)``; everything for None; nothing for an empty scope."""
    if districts is None:
        return sa.true()
    codes = sorted(districts)
    if not codes:
        return sa.false()
    return column.in_(codes)


def _source(kind_column: Any) -> Any:
    return sa.case((kind_column == "officer", "officer"), else_="citizen")


def report_rows(districts: Iterable[str] | None, period: Period) -> sa.Subquery:
    """The reports of the period and area, one row each (columns of :func:`_dimensions`)."""
    start, end = period.utc_bounds()
    return (
        sa.select(
            Report.id.label("report_id"),
            Report.violation.label("violation"),
            Report.district_code.label("district_code"),
            Report.captured_at.label("captured_at"),
            Report.received_at.label("received_at"),
            _report_status(Report.status).label("status"),
            _source(Report.reporter_kind).label("source"),
            Report.plate_match_key.label("plate_key"),
            Report.plate_display.label("plate_display"),
        )
        .where(
            Report.captured_at >= start,
            Report.captured_at < end,
            _in_scope(Report.district_code, districts),
        )
        .subquery("period_reports")
    )


def _report_status(status: Any) -> Any:
    """A report's status as the statistics count it: a penalty issued is verified."""
    return sa.case((status == "penalty_issued", "verified"), else_=status)


def _case_status() -> Any:
    """A case's status: its verdict (server.services.review) when it has one, else its
    first report's status."""
    return sa.case(
        (Case.verdict.in_(("verified", "penalty_issued")), "verified"),
        (Case.verdict.in_(("rejected", "needs_info")), Case.verdict),
        else_=_report_status(Report.status),
    )


def case_rows(districts: Iterable[str] | None, period: Period) -> sa.Subquery:
    """The cases of the period and area, one row each, with their first report's facts."""
    start, end = period.utc_bounds()
    return (
        sa.select(
            Report.id.label("report_id"),
            Case.id.label("case_id"),
            Report.violation.label("violation"),
            Case.district_code.label("district_code"),
            Report.captured_at.label("captured_at"),
            Report.received_at.label("received_at"),
            _case_status().label("status"),
            _source(Report.reporter_kind).label("source"),
            Report.plate_match_key.label("plate_key"),
            Report.plate_display.label("plate_display"),
            Case.report_count.label("report_count"),
        )
        .select_from(Case)
        .join(Report, Report.id == Case.first_report_id)
        .where(
            Case.status != "merged",
            Report.captured_at >= start,
            Report.captured_at < end,
            _in_scope(Case.district_code, districts),
        )
        .subquery("period_cases")
    )


def _local_day(column: Any) -> Any:
    """The local (UTC+7) calendar day of a UTC timestamp column, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        local = sa.func.timezone("UTC", column) + sa.literal_column("interval '7 hours'")
        return sa.cast(local, sa.Date)
    return sa.func.date(column, "+7 hours")


def _group(rows: sa.Subquery, column: Any) -> dict[str, int]:
    found = db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all()
    return {("" if key is None else str(key)): n for key, n in found}


def _rejected_reasons(rows: sa.Subquery) -> dict[str, int]:
    """Rejected rows by the reason of their report's latest ``rejected`` event."""
    latest = (
        sa.select(StatusEvent.report_id, sa.func.max(StatusEvent.seq).label("seq"))
        .where(StatusEvent.status == "rejected")
        .group_by(StatusEvent.report_id)
        .subquery("latest_rejection")
    )
    reason = sa.func.coalesce(StatusEvent.reason_code, "")
    found = db.session.execute(
        sa.select(reason, sa.func.count())
        .select_from(rows)
        .join(latest, latest.c.report_id == rows.c.report_id)
        .join(StatusEvent, StatusEvent.seq == latest.c.seq)
        .where(rows.c.status == "rejected")
        .group_by(reason)
    ).all()
    return {code: n for code, n in found}


def breakdown(rows: sa.Subquery) -> Breakdown:
    """Counts of ``rows`` (:func:`report_rows` or :func:`case_rows`) along every dimension."""
    day = _local_day(rows.c.captured_at)
    by_day_raw = db.session.execute(
        sa.select(day, sa.func.count()).select_from(rows).group_by(day)
    ).all()
    by_day = {str(d)[:10]: n for d, n in by_day_raw if d is not None}
    by_month: Counter[str] = Counter()
    by_week: Counter[str] = Counter()
    for key, n in by_day.items():
        d = date.fromisoformat(key)
        by_month[month_of(d)] += n
        by_week[iso_week(d)] += n
    return Breakdown(
        total=sum(by_day.values()),
        by_violation=_group(rows, rows.c.violation),
        by_district=_group(rows, rows.c.district_code),
        by_month=dict(sorted(by_month.items())),
        by_week=dict(sorted(by_week.items())),
        by_day=dict(sorted(by_day.items())),
        by_status=_group(rows, rows.c.status),
        by_source=_group(rows, rows.c.source),
        rejected_by_reason=_rejected_reasons(rows),
    )


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks
    (PostgreSQL's ``percentile_cont``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def decision_bin(received: datetime, decided: datetime) -> int:
    """The minutes from receipt to a decision, as they are counted: whole minutes up to
    2 hours, 5 minutes up to 48 hours, then steps 1 % wide (each value is the lower
    edge of its step), so that a period's times fit a few hundred rollup rows."""
    minutes = max(0, int((_aware(decided) - _aware(received)).total_seconds() // 60))
    if minutes < 120:
        return minutes
    if minutes < 2880:
        return minutes - minutes % 5
    step = int(math.log(minutes / 2880) / math.log(1.01))
    edge = int(2880 * 1.01**step)
    return edge if edge <= minutes else int(2880 * 1.01 ** (step - 1))


def _first_decisions(districts: Iterable[str] | None, period: Period) -> list[Any]:
    rows = report_rows(districts, period)
    first = (
        sa.select(StatusEvent.report_id, sa.func.min(StatusEvent.created_at).label("at"))
        .where(StatusEvent.status.in_(DECIDED))
        .group_by(StatusEvent.report_id)
        .subquery("first_decision")
    )
    return list(
        db.session.execute(
            sa.select(rows.c.received_at, first.c.at)
            .select_from(rows)
            .join(first, first.c.report_id == rows.c.report_id)
        )
    )


def decision_minute_counts(districts: Iterable[str] | None, period: Period) -> Counter[int]:
    """How many decided reports took each :func:`decision_bin` of minutes."""
    return Counter(
        decision_bin(received, at) for received, at in _first_decisions(districts, period)
    )


def decision_times(districts: Iterable[str] | None, period: Period) -> DecisionTimes:
    """Median and 90th percentile of the hours from receipt to first decision (each time
    counted as :func:`decision_bin` says)."""
    hours = [
        decision_bin(received, at) / 60 for received, at in _first_decisions(districts, period)
    ]
    return DecisionTimes(len(hours), percentile(hours, 0.5), percentile(hours, 0.9))


def _aware(value: datetime) -> datetime:
    """Subquery columns lose the UTCDateTime decorator on SQLite: make them aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def repeat_offenders(
    districts: Iterable[str] | None, period: Period, *, minimum: int = REPEAT_MIN
) -> list[RepeatOffender]:
    """Plates (by their match key) with at least ``minimum`` verified cases, most first."""
    rows = case_rows(districts, period)
    n = sa.func.count().label("n")
    found = db.session.execute(
        sa.select(
            rows.c.plate_key,
            sa.func.max(rows.c.plate_display),
            n,
            sa.func.max(rows.c.captured_at),
        )
        .where(rows.c.status == "verified", rows.c.plate_key.is_not(None), rows.c.plate_key != "")
        .group_by(rows.c.plate_key)
        .having(sa.func.count() >= minimum)
        .order_by(n.desc(), rows.c.plate_key)
        .limit(REPEAT_LIMIT)
    ).all()
    return [
        RepeatOffender(key, display or key, count, _aware(last))
        for key, display, count, last in found
    ]


def verified_plate_counts(districts: Iterable[str] | None, period: Period) -> Counter[str]:
    """Verified cases of the period per plate (match key), every plate."""
    rows = case_rows(districts, period)
    return Counter(
        {
            key: n
            for key, n in db.session.execute(
                sa.select(rows.c.plate_key, sa.func.count())
                .where(
                    rows.c.status == "verified",
                    rows.c.plate_key.is_not(None),
                    rows.c.plate_key != "",
                )
                .group_by(rows.c.plate_key)
            )
        }
    )


def summary(districts: Iterable[str] | None, period: Period) -> Summary:
    scope = None if districts is None else sorted(districts)
    return Summary(
        period=period,
        reports=breakdown(report_rows(scope, period)),
        cases=breakdown(case_rows(scope, period)),
        times=decision_times(scope, period),
        repeat_offenders=repeat_offenders(scope, period),
    )


def compare(districts: Iterable[str] | None, period: Period) -> Comparison:
    """The period's summary and that of the same days a year earlier."""
    scope = None if districts is None else sorted(districts)
    return Comparison(summary(scope, period), summary(scope, period.year_earlier()))


def case_export_rows(
    districts: Iterable[str] | None, period: Period, limit: int | None = None
) -> Iterable[Mapping[str, Any]]:
    """The cases of the period and area for the analysts' CSV, oldest first.

    Only what the console shows of a case: ids, district, violation, status, counts,
    times and the plate; never a reporter, never an officer.
    """
    rows = case_rows(districts, period)
    first = (
        sa.select(StatusEvent.report_id, sa.func.min(StatusEvent.created_at).label("at"))
        .where(StatusEvent.status.in_(DECIDED))
        .group_by(StatusEvent.report_id)
        .subquery("first_decision")
    )
    query = (
        sa.select(rows, first.c.at.label("decided_at"))
        .select_from(rows)
        .outerjoin(first, first.c.report_id == rows.c.report_id)
        .order_by(rows.c.captured_at, rows.c.case_id)
    )
    if limit is not None:
        query = query.limit(limit)
    for row in db.session.execute(query).mappings():
        out = dict(row)
        for key in ("captured_at", "received_at", "decided_at"):
            if out[key] is not None:
                out[key] = _aware(out[key])
        yield out


# ---------------------------------------------------------------------------- hotspots

# Cell sizes offered, in degrees of latitude and longitude (at 21°N, 0.005° is about
# 555 m north-south and 520 m east-west).
CELL_SIZES = {"250": 0.0025, "500": 0.005, "1000": 0.01, "2000": 0.02}
HOTSPOT_LIMIT = 500  # cells drawn; the busiest first


@dataclass(frozen=True)
class HotspotCell:
    """A square cell of the grid and the reports made in it."""

    row: int
    col: int
    size: float
    count: int
    district_code: str | None  # a district its reports were made in (the highest code)

    @property
    def south(self) -> float:
        return self.row * self.size - 90

    @property
    def west(self) -> float:
        return self.col * self.size - 180

    @property
    def centre(self) -> tuple[float, float]:
        return (self.south + self.size / 2, self.west + self.size / 2)


def _cell_index(column: Any, offset: float, size: float) -> Any:
    """``floor((column + offset) / size)`` on either database (the value is positive)."""
    scaled = (column + offset) / size
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(scaled), sa.BigInteger)
    return sa.cast(scaled, sa.Integer)  # SQLite truncates, which is floor for x >= 0


def hotspots(
    districts: Iterable[str] | None,
    period: Period,
    *,
    violation: str | None = None,
    size: float = CELL_SIZES["500"],
    limit: int = HOTSPOT_LIMIT,
) -> list[HotspotCell]:
    """Reports of the period and area counted per grid cell, busiest first."""
    start, end = period.utc_bounds()
    row_ix = _cell_index(Report.lat, 90.0, size).label("row")
    col_ix = _cell_index(Report.lon, 180.0, size).label("col")
    query = (
        sa.select(row_ix, col_ix, sa.func.count().label("n"), sa.func.max(Report.district_code))
        .where(
            Report.captured_at >= start,
            Report.captured_at < end,
            _in_scope(Report.district_code, None if districts is None else sorted(districts)),
        )
        .group_by(row_ix, col_ix)
        .order_by(sa.desc("n"), row_ix, col_ix)
        .limit(limit)
    )
    if violation:
        query = query.where(Report.violation == violation)
    return [
        HotspotCell(int(r), int(c), size, n, code)
        for r, c, n, code in db.session.execute(query).all()
    ]
