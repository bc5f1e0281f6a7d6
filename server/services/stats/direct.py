"""The statistics straight from the base tables: the definition of every count.

The dashboard reads the same answers from the rollups (:mod:`.rollup`), which use these
functions for the days of a custom period that do not fill a month; the tests check the
two against each other on both databases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import StatusEvent
from .columns import case_rows, first_decisions, local_day, report_rows
from .percentiles import aware, decision_bin, percentile
from .periods import Period
from .results import (
    REPEAT_LIMIT,
    REPEAT_MIN,
    Breakdown,
    Comparison,
    DecisionTimes,
    RepeatOffender,
    Summary,
)


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
    """Counts of ``rows`` (:func:`report_rows` or :func:`case_rows`) along every dimension;
    grouped by local day in SQL, rolled up to months and ISO weeks in Python."""
    day = local_day(rows.c.captured_at)
    by_day_raw = db.session.execute(
        sa.select(day, sa.func.count()).select_from(rows).group_by(day)
    ).all()
    out = Breakdown(
        by_day={str(d)[:10]: n for d, n in by_day_raw if d is not None},
        by_violation=_group(rows, rows.c.violation),
        by_district=_group(rows, rows.c.district_code),
        by_status=_group(rows, rows.c.status),
        by_source=_group(rows, rows.c.source),
        rejected_by_reason=_rejected_reasons(rows),
    )
    return out.count_calendar()


def _first_decisions(districts: Iterable[str] | None, period: Period) -> list[Any]:
    rows = report_rows(districts, period)
    first = first_decisions()
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


def _verified_plates(rows: sa.Subquery) -> list[Any]:
    return [
        rows.c.status == "verified",
        rows.c.plate_key.is_not(None),
        rows.c.plate_key != "",
    ]


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
        .where(*_verified_plates(rows))
        .group_by(rows.c.plate_key)
        .having(sa.func.count() >= minimum)
        .order_by(n.desc(), rows.c.plate_key)
        .limit(REPEAT_LIMIT)
    ).all()
    return [
        RepeatOffender(key, display or key, count, aware(last))
        for key, display, count, last in found
    ]


def verified_plate_counts(districts: Iterable[str] | None, period: Period) -> Counter[str]:
    """Verified cases of the period per plate (match key), every plate."""
    rows = case_rows(districts, period)
    query = (
        sa.select(rows.c.plate_key, sa.func.count())
        .where(*_verified_plates(rows))
        .group_by(rows.c.plate_key)
    )
    return Counter({key: n for key, n in db.session.execute(query)})


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
