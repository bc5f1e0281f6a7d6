"""The dashboard's statistics from pre-aggregated counts, kept exact (issue 13).

:mod:`server.services.stats` defines what is counted, straight from the base tables;
this module answers the same questions from ``stats_rollup`` (counts per district and
local month, :mod:`server.models.stats`) so that a province-year over a million reports
costs a few index range scans instead of a dozen scans of the reports.

Exactness
    Database triggers (migration 0016) append the (district, month) buckets that every
    insert, update or delete of a report, a case or a status event touches to
    ``stats_dirty``, in that change's own transaction and whatever code made it: ingest's
    Core inserts, a merge's bulk ``UPDATE``, a split, a forward, a re-decision, an edit
    by hand. Before reading, :func:`refresh` recomputes the dirty buckets of the period
    and area from the base tables (with :mod:`.stats`'s own row definitions) and deletes
    the marks it read, under row locks (PostgreSQL: ``FOR UPDATE`` on the marks, an
    advisory lock per bucket), so a change committed during a refresh keeps its mark and
    is counted by the next one. ``tests/test_stats_rollup.py`` checks the rollups against
    :mod:`.stats` after each kind of change on both databases.

Periods
    Whole local months come from the rollups; the days of a custom period that cover
    only part of a month (at most two stretches) are counted from the base tables, and
    the two are added.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm

from ..extensions import db
from ..models import Case, Report, StatsDirty, StatsRollup, StatusEvent
from . import stats
from .stats import (
    DECIDED,
    REPEAT_LIMIT,
    REPEAT_MIN,
    Breakdown,
    Comparison,
    DecisionTimes,
    Period,
    RepeatOffender,
    Summary,
)

REPORTS, CASES = "r", "c"
# Dimensions of a rollup row; ``by_district`` is the sum of a district's ``day`` rows.
DAY, VIOLATION, STATUS, SOURCE, REASON, DECIDED_MIN, PLATE = (
    "day",
    "violation",
    "status",
    "source",
    "reason",
    "decided_min",
    "plate",
)
BREAKDOWN_DIMS = {
    VIOLATION: "by_violation",
    STATUS: "by_status",
    SOURCE: "by_source",
    REASON: "rejected_by_reason",
}

Key = tuple[str, str, str, str, str]  # (district, month, kind, dim, key)


# ---------------------------------------------------------------------------- buckets


def month_period(month: str) -> Period:
    """The local days of ``YYYY-MM``."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, nxt - timedelta(days=1))


def split_period(period: Period) -> tuple[list[str], list[Period]]:
    """The whole months inside ``period``, and the stretches of days left over."""
    whole: list[str] = []
    edges: list[Period] = []
    for month in period.months():
        days = month_period(month)
        start, end = max(days.start, period.start), min(days.end, period.end)
        if (start, end) == (days.start, days.end):
            whole.append(month)
        elif edges and edges[-1].end + timedelta(days=1) == start:
            edges[-1] = Period(edges[-1].start, end)
        else:
            edges.append(Period(start, end))
    return whole, edges


def _district_is(column: Any, district: str) -> Any:
    """A bucket's district: ``''`` is the unrouted (NULL) one."""
    return column.is_(None) if district == "" else column == district


def _bucket_where(
    district_column: Any, time_column: Any, bucket: tuple[str, str] | None
) -> list[Any]:
    if bucket is None:
        return []
    start, end = month_period(bucket[1]).utc_bounds()
    return [
        _district_is(district_column, bucket[0]),
        time_column >= start,
        time_column < end,
    ]


def _month(column: Any) -> Any:
    """The local month (``YYYY-MM``) of a UTC timestamp column, as the triggers compute it."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.stats_month(column)
    return sa.func.strftime("%Y-%m", column, "+7 hours")


def _blank(column: Any) -> Any:
    return sa.func.coalesce(column, "")


# ---------------------------------------------------------------------------- aggregation


def aggregate(bucket: tuple[str, str] | None) -> Counter[Key]:
    """The rollup rows of one (district, month) bucket, or of everything for None,
    computed from the base tables with :mod:`.stats`'s definitions."""
    out: Counter[Key] = Counter()
    _count_reports(out, bucket)
    _count_cases(out, bucket)
    return out


def _count_reports(out: Counter[Key], bucket: tuple[str, str] | None) -> None:
    """One pass over the bucket's reports (one range of ix_reports_district_captured):
    each row brings its latest rejection reason and first decision by correlated index
    lookups, and is counted here."""
    where = _bucket_where(Report.district_code, Report.captured_at, bucket)
    rows = db.session.execute(
        sa.select(
            _blank(Report.district_code),
            stats._local_day(Report.captured_at),
            Report.violation,
            stats._report_status(Report.status),
            stats._source(Report.reporter_kind),
            sa.case((Report.status == "rejected", _latest_rejection_reason()), else_=None),
            Report.received_at,
            _first_decision(),
        ).where(*where)
    )
    groups: Counter[tuple[Any, ...]] = Counter()
    for district, day, violation, status, source, reason, received, decided in rows:
        day_key = str(day)[:10]
        groups[(district, day_key, violation, status, source)] += 1
        month = day_key[:7]
        if reason is not None:
            out[(district, month, REPORTS, REASON, reason)] += 1
        if decided is not None:
            minutes = decision_minutes(stats._aware(received), stats._aware(decided))
            out[(district, month, REPORTS, DECIDED_MIN, str(minutes))] += 1
    _add_rows(out, REPORTS, ((*key, n) for key, n in groups.items()))


def _count_cases(out: Counter[Key], bucket: tuple[str, str] | None) -> None:
    """One pass over the bucket's cases (one range of ix_cases_district_month) and
    their first reports."""
    where = [Case.status != "merged"]
    if bucket is not None:
        # cases.stats_month is the first report's local month, kept by the triggers:
        # the bucket's cases are one range of ix_cases_district_month.
        where += [_district_is(Case.district_code, bucket[0]), Case.stats_month == bucket[1]]
    status = stats._case_status()
    rows = db.session.execute(
        sa.select(
            _blank(Case.district_code),
            stats._local_day(Report.captured_at),
            Report.violation,
            status,
            stats._source(Report.reporter_kind),
            sa.case((status == "rejected", _latest_rejection_reason()), else_=None),
            Report.plate_match_key,
        )
        .select_from(Case)
        .join(Report, Report.id == Case.first_report_id)
        .where(*where)
    )
    groups: Counter[tuple[Any, ...]] = Counter()
    for district, day, violation, state, source, reason, plate in rows:
        day_key = str(day)[:10]
        groups[(district, day_key, violation, state, source)] += 1
        month = day_key[:7]
        if reason is not None:
            out[(district, month, CASES, REASON, reason)] += 1
        if state == "verified" and plate:
            out[(district, month, CASES, PLATE, plate)] += 1
    _add_rows(out, CASES, ((*key, n) for key, n in groups.items()))


def _add_rows(out: Counter[Key], kind: str, rows: Iterable[Any]) -> None:
    for district, day, violation, status, source, n in rows:
        day_key = str(day)[:10]
        month = day_key[:7]
        out[(district, month, kind, DAY, day_key)] += n
        out[(district, month, kind, VIOLATION, violation)] += n
        out[(district, month, kind, STATUS, "" if status is None else status)] += n
        out[(district, month, kind, SOURCE, source)] += n


def _latest_rejection_reason() -> Any:
    """The reason of the report's latest ``rejected`` event, ``''`` for none given, NULL
    when it has no such event (correlated: an index lookup per report of the bucket)."""
    later = sa.orm.aliased(StatusEvent)
    return (
        sa.select(sa.func.coalesce(later.reason_code, ""))
        .where(later.report_id == Report.id, later.status == "rejected")
        .order_by(later.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def _first_decision() -> Any:
    """When the report was first verified or rejected (correlated), or NULL."""
    first = sa.orm.aliased(StatusEvent)
    return (
        sa.select(sa.func.min(first.created_at))
        .where(first.report_id == Report.id, first.status.in_(DECIDED))
        .scalar_subquery()
    )


def decision_minutes(received: datetime, decided: datetime) -> int:
    """The time to a decision as it is counted: whole minutes up to 2 hours, 5 minutes
    up to 48 hours, then steps of 1 % (each value is the lower edge of its step)."""
    return stats.decision_bin(received, decided)


# ---------------------------------------------------------------------------- refresh


def _store(bucket: tuple[str, str], counts: Counter[Key]) -> None:
    db.session.execute(
        sa.delete(StatsRollup).where(
            StatsRollup.district_code == bucket[0], StatsRollup.month == bucket[1]
        )
    )
    rows = [
        {"district_code": d, "month": m, "kind": k, "dim": dim, "key": key, "n": n}
        for (d, m, k, dim, key), n in counts.items()
        if (d, m) == bucket and n
    ]
    if rows:
        db.session.execute(sa.insert(StatsRollup), rows)


def _lock_bucket(bucket: tuple[str, str]) -> None:
    """PostgreSQL: one refresher at a time per bucket (until the transaction ends)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"stats:{bucket[0]}:{bucket[1]}"))
            )
        )


def refresh(districts: Iterable[str] | None, months: Iterable[str]) -> int:
    """Recompute the dirty buckets of these districts (None: all) and months; commits.
    Returns how many buckets were recomputed."""
    months = sorted(set(months))
    query = (
        sa.select(StatsDirty.id, StatsDirty.district_code, StatsDirty.month)
        .where(StatsDirty.month.in_(months))
        .order_by(StatsDirty.id)
        .with_for_update()
    )
    if districts is not None:
        query = query.where(StatsDirty.district_code.in_(sorted(districts)))
    marks = db.session.execute(query).all()
    if not marks:
        db.session.commit()
        return 0
    buckets = sorted({(d, m) for _, d, m in marks})
    for bucket in buckets:
        _lock_bucket(bucket)
        _store(bucket, aggregate(bucket))
    ids = [i for i, _, _ in marks]
    for lo in range(0, len(ids), 500):
        db.session.execute(sa.delete(StatsDirty).where(StatsDirty.id.in_(ids[lo : lo + 500])))
    db.session.commit()
    return len(buckets)


def refresh_all() -> int:
    """Recompute every dirty bucket (``flask --app wsgi stats refresh``); commits.
    A first refresh of a large database aggregates it in one pass."""
    pending = db.session.execute(sa.select(sa.func.count()).select_from(StatsDirty)).scalar_one()
    buckets = db.session.execute(
        sa.select(StatsDirty.district_code, StatsDirty.month).distinct()
    ).all()
    if len(buckets) < 200:
        months = sorted({m for _, m in buckets if m})
        n = refresh(None, months)
        db.session.execute(sa.delete(StatsDirty).where(StatsDirty.month.is_(None)))
        db.session.commit()
        return n
    return rebuild() if pending else 0


def rebuild() -> int:
    """Recompute every bucket from the base tables in one pass; commits.

    PostgreSQL: one REPEATABLE READ snapshot for the whole count, so the marks deleted
    are exactly those of the changes it saw (a change that commits meanwhile keeps its
    mark); other refreshers wait on the rollup table's lock. SQLite: writers are
    serialised anyway.
    """
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        db.session.execute(sa.text("LOCK TABLE stats_rollup IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(sa.delete(StatsDirty))
    counts = aggregate(None)
    db.session.execute(sa.delete(StatsRollup))
    rows = [
        {"district_code": d, "month": m, "kind": k, "dim": dim, "key": key, "n": n}
        for (d, m, k, dim, key), n in counts.items()
        if n
    ]
    for lo in range(0, len(rows), 5000):
        db.session.execute(sa.insert(StatsRollup), rows[lo : lo + 5000])
    db.session.commit()
    return len({(d, m) for d, m, *_ in counts})


# ---------------------------------------------------------------------------- reading


def _scope(column: Any, districts: list[str] | None) -> Any:
    return sa.true() if districts is None else column.in_(districts)


def _rolled(districts: list[str] | None, months: list[str], kind: str) -> Breakdown:
    where = [
        StatsRollup.month.in_(months),
        StatsRollup.kind == kind,
        _scope(StatsRollup.district_code, districts),
    ]
    total = sa.func.sum(StatsRollup.n)
    by_dim: dict[str, dict[str, int]] = defaultdict(dict)
    for dim, key, n in db.session.execute(
        sa.select(StatsRollup.dim, StatsRollup.key, total)
        .where(*where, StatsRollup.dim.in_((DAY, *BREAKDOWN_DIMS)))
        .group_by(StatsRollup.dim, StatsRollup.key)
    ):
        by_dim[dim][key] = int(n)
    by_district = {
        d: int(n)
        for d, n in db.session.execute(
            sa.select(StatsRollup.district_code, total)
            .where(*where, StatsRollup.dim == DAY)
            .group_by(StatsRollup.district_code)
        )
    }
    out = Breakdown(by_district=by_district, by_day=by_dim[DAY])
    for dim, attr in BREAKDOWN_DIMS.items():
        setattr(out, attr, by_dim[dim])
    return out


def _rolled_minutes(districts: list[str] | None, months: list[str]) -> Counter[int]:
    return Counter(
        {
            int(key): int(n)
            for key, n in db.session.execute(
                sa.select(StatsRollup.key, sa.func.sum(StatsRollup.n))
                .where(
                    StatsRollup.month.in_(months),
                    StatsRollup.kind == REPORTS,
                    StatsRollup.dim == DECIDED_MIN,
                    _scope(StatsRollup.district_code, districts),
                )
                .group_by(StatsRollup.key)
            )
        }
    )


def _rolled_plates(districts: list[str] | None, months: list[str], least: int) -> Counter[str]:
    total = sa.func.sum(StatsRollup.n)
    return Counter(
        {
            key: int(n)
            for key, n in db.session.execute(
                sa.select(StatsRollup.key, total)
                .where(
                    StatsRollup.month.in_(months),
                    StatsRollup.kind == CASES,
                    StatsRollup.dim == PLATE,
                    _scope(StatsRollup.district_code, districts),
                )
                .group_by(StatsRollup.key)
                .having(total >= least)
            )
        }
    )


def _merge(into: Breakdown, other: Breakdown) -> None:
    for attr in ("by_district", "by_day", *BREAKDOWN_DIMS.values()):
        mine: dict[str, int] = getattr(into, attr)
        for key, n in getattr(other, attr).items():
            mine[key] = mine.get(key, 0) + n


def _finish(b: Breakdown) -> Breakdown:
    """Months, weeks and the total from the days, as :func:`stats.breakdown` does."""
    months: Counter[str] = Counter()
    weeks: Counter[str] = Counter()
    for key, n in b.by_day.items():
        d = date.fromisoformat(key)
        months[stats.month_of(d)] += n
        weeks[stats.iso_week(d)] += n
    b.by_day = dict(sorted(b.by_day.items()))
    b.by_month = dict(sorted(months.items()))
    b.by_week = dict(sorted(weeks.items()))
    b.total = sum(b.by_day.values())
    return b


def percentile_of_counts(counts: Counter[int], q: float) -> float | None:
    """:func:`stats.percentile` of the values ``counts`` holds (value -> how many)."""
    n = sum(counts.values())
    if not n:
        return None
    values = sorted(counts)
    ends = []
    running = 0
    for v in values:
        running += counts[v]
        ends.append(running)  # ranks < ends[i] hold values[i]

    def at(rank: int) -> int:
        return values[bisect.bisect_right(ends, rank)]

    pos = (n - 1) * q
    low = int(pos)
    high = min(low + 1, n - 1)
    return at(low) + (at(high) - at(low)) * (pos - low)


def _times(minutes: Counter[int]) -> DecisionTimes:
    median = percentile_of_counts(minutes, 0.5)
    p90 = percentile_of_counts(minutes, 0.9)
    return DecisionTimes(
        sum(minutes.values()),
        None if median is None else median / 60,
        None if p90 is None else p90 / 60,
    )


def _repeat_offenders(
    districts: list[str] | None, period: Period, plates: Counter[str]
) -> list[RepeatOffender]:
    top = sorted(((-n, key) for key, n in plates.items() if n >= REPEAT_MIN))[:REPEAT_LIMIT]
    if not top:
        return []
    keys = [key for _, key in top]
    start, end = period.utc_bounds()
    # From the plates' index to their reports, then each report's own case row (by its
    # primary key): a few hundred rows, whatever the size of the period.
    query = (
        sa.select(
            Report.plate_match_key,
            sa.func.max(Report.plate_display),
            sa.func.max(Report.captured_at),
        )
        .select_from(Report)
        .join(Case, sa.and_(Case.id == Report.case_id, Case.first_report_id == Report.id))
        .where(
            Report.plate_match_key.in_(keys),
            Report.captured_at >= start,
            Report.captured_at < end,
            Case.status != "merged",
            stats._case_status() == "verified",
            stats._in_scope(Case.district_code, districts),
        )
        .group_by(Report.plate_match_key)
        .with_hint(Report, "INDEXED BY ix_reports_plate_violation_time", "sqlite")
    )
    found = {key: (display, last) for key, display, last in db.session.execute(query)}
    return [
        RepeatOffender(key, found[key][0] or key, -neg, stats._aware(found[key][1]))
        for neg, key in top
        if key in found
    ]


def summary(districts: Iterable[str] | None, period: Period) -> Summary:
    """:func:`stats.summary`, from the rollups (refreshed first) and the base tables for
    the part-months at the ends of a custom period."""
    scope = None if districts is None else sorted(districts)
    whole, edges = split_period(period)
    reports, cases = Breakdown(), Breakdown()
    minutes: Counter[int] = Counter()
    plates: Counter[str] = Counter()
    if whole and scope != []:
        refresh(scope, whole)
        reports = _rolled(scope, whole, REPORTS)
        cases = _rolled(scope, whole, CASES)
        minutes = _rolled_minutes(scope, whole)
        plates = _rolled_plates(scope, whole, 1 if edges else REPEAT_MIN)
    for edge in edges:
        _merge(reports, stats.breakdown(stats.report_rows(scope, edge)))
        _merge(cases, stats.breakdown(stats.case_rows(scope, edge)))
        minutes.update(stats.decision_minute_counts(scope, edge))
        plates.update(stats.verified_plate_counts(scope, edge))
    return Summary(
        period=period,
        reports=_finish(reports),
        cases=_finish(cases),
        times=_times(minutes),
        repeat_offenders=_repeat_offenders(scope, period, plates),
    )


def compare(districts: Iterable[str] | None, period: Period) -> Comparison:
    """:func:`stats.compare` from the rollups."""
    scope = None if districts is None else sorted(districts)
    return Comparison(summary(scope, period), summary(scope, period.year_earlier()))
