"""The dashboard's statistics from pre-aggregated counts, kept exact (issue 13).

:mod:`.direct` defines what is counted, straight from the base tables; this module
answers the same questions from ``stats_rollup`` (counts per district and local month)
so that a province-year over a million reports costs a few index range scans instead of
a dozen scans of the reports. The dirty buckets of the period are recomputed first
(:mod:`.rollup_store`); ``tests/test_stats_rollup.py`` checks the rollups against
:mod:`.direct` after each kind of change on both databases.

Periods
    Whole local months come from the rollups; the days of a custom period that cover
    only part of a month (at most two stretches) are counted from the base tables, and
    the two are added.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, Report, StatsRollup
from . import direct
from .columns import case_rows, case_status, in_scope, report_rows
from .percentiles import aware, times_of_minutes
from .periods import Period, split_period
from .results import REPEAT_LIMIT, REPEAT_MIN, Breakdown, Comparison, RepeatOffender, Summary
from .rollup_counts import BREAKDOWN_DIMS, CASES, DAY, DECIDED_MIN, PLATE, REPORTS
from .rollup_store import refresh


def _where(districts: list[str] | None, months: list[str], kind: str) -> list[Any]:
    scope = sa.true() if districts is None else StatsRollup.district_code.in_(districts)
    return [StatsRollup.month.in_(months), StatsRollup.kind == kind, scope]


def _rolled(districts: list[str] | None, months: list[str], kind: str) -> Breakdown:
    where = _where(districts, months, kind)
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


def _rolled_keys(
    districts: list[str] | None, months: list[str], kind: str, dim: str, least: int = 1
) -> dict[str, int]:
    """``key -> n`` of one dimension, summed over districts and months."""
    total = sa.func.sum(StatsRollup.n)
    query = (
        sa.select(StatsRollup.key, total)
        .where(*_where(districts, months, kind), StatsRollup.dim == dim)
        .group_by(StatsRollup.key)
        .having(total >= least)
    )
    return {key: int(n) for key, n in db.session.execute(query)}


def _merge(into: Breakdown, other: Breakdown) -> None:
    for attr in ("by_district", "by_day", *BREAKDOWN_DIMS.values()):
        mine: dict[str, int] = getattr(into, attr)
        for key, n in getattr(other, attr).items():
            mine[key] = mine.get(key, 0) + n


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
            case_status() == "verified",
            in_scope(Case.district_code, districts),
        )
        .group_by(Report.plate_match_key)
        .with_hint(Report, "INDEXED BY ix_reports_plate_violation_time", "sqlite")
    )
    found = {key: (display, last) for key, display, last in db.session.execute(query)}
    return [
        RepeatOffender(key, found[key][0] or key, -neg, aware(found[key][1]))
        for neg, key in top
        if key in found
    ]


def summary(districts: Iterable[str] | None, period: Period) -> Summary:
    """:func:`.direct.summary`, from the rollups (refreshed first) and the base tables
    for the part-months at the ends of a custom period."""
    scope = None if districts is None else sorted(districts)
    whole, edges = split_period(period)
    reports, cases = Breakdown(), Breakdown()
    minutes: Counter[int] = Counter()
    plates: Counter[str] = Counter()
    if whole and scope != []:
        refresh(scope, whole)
        reports = _rolled(scope, whole, REPORTS)
        cases = _rolled(scope, whole, CASES)
        rolled_minutes = _rolled_keys(scope, whole, REPORTS, DECIDED_MIN)
        minutes = Counter({int(key): n for key, n in rolled_minutes.items()})
        plates = Counter(_rolled_keys(scope, whole, CASES, PLATE, 1 if edges else REPEAT_MIN))
    for edge in edges:
        _merge(reports, direct.breakdown(report_rows(scope, edge)))
        _merge(cases, direct.breakdown(case_rows(scope, edge)))
        minutes.update(direct.decision_minute_counts(scope, edge))
        plates.update(direct.verified_plate_counts(scope, edge))
    return Summary(
        period=period,
        reports=reports.count_calendar(),
        cases=cases.count_calendar(),
        times=times_of_minutes(minutes),
        repeat_offenders=_repeat_offenders(scope, period, plates),
    )


def compare(districts: Iterable[str] | None, period: Period) -> Comparison:
    """:func:`.direct.compare` from the rollups."""
    scope = None if districts is None else sorted(districts)
    return Comparison(summary(scope, period), summary(scope, period.year_earlier()))
