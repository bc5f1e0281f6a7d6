"""The rollups' rows of one (district, month) bucket, counted from the base tables.

A rollup row is ``(district, month, kind, dim, key) -> n`` (:mod:`server.models.stats`);
each bucket's reports and cases are read in one pass (one index range each), with the
same column definitions as :mod:`.columns`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm

from ...extensions import db
from ...models import Case, Report, StatusEvent
from .columns import DECIDED, case_status, local_day, report_status, source_of
from .percentiles import aware, decision_bin
from .periods import month_period

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
Bucket = tuple[str, str]  # (district, month); district '' is the unrouted one


def district_is(column: Any, district: str) -> Any:
    """A bucket's district: ``''`` is the unrouted (NULL) one."""
    return column.is_(None) if district == "" else column == district


def _bucket_where(district_column: Any, time_column: Any, bucket: Bucket | None) -> list[Any]:
    if bucket is None:
        return []
    start, end = month_period(bucket[1]).utc_bounds()
    return [district_is(district_column, bucket[0]), time_column >= start, time_column < end]


def _blank(column: Any) -> Any:
    return sa.func.coalesce(column, "")


def aggregate(bucket: Bucket | None) -> Counter[Key]:
    """The rollup rows of one (district, month) bucket, or of everything for None."""
    out: Counter[Key] = Counter()
    _count_reports(out, bucket)
    _count_cases(out, bucket)
    return out


def _count_reports(out: Counter[Key], bucket: Bucket | None) -> None:
    """One pass over the bucket's reports (one range of ix_reports_district_captured):
    each row brings its latest rejection reason and first decision by correlated index
    lookups, and is counted here."""
    where = _bucket_where(Report.district_code, Report.captured_at, bucket)
    rows = db.session.execute(
        sa.select(
            _blank(Report.district_code),
            local_day(Report.captured_at),
            Report.violation,
            report_status(Report.status),
            source_of(Report.reporter_kind),
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
            minutes = decision_bin(aware(received), aware(decided))
            out[(district, month, REPORTS, DECIDED_MIN, str(minutes))] += 1
    _add_rows(out, REPORTS, groups)


def _count_cases(out: Counter[Key], bucket: Bucket | None) -> None:
    """One pass over the bucket's cases (one range of ix_cases_district_month) and
    their first reports."""
    where = [Case.status != "merged"]
    if bucket is not None:
        # cases.stats_month is the first report's local month, kept by the triggers:
        # the bucket's cases are one range of ix_cases_district_month.
        where += [district_is(Case.district_code, bucket[0]), Case.stats_month == bucket[1]]
    status = case_status()
    rows = db.session.execute(
        sa.select(
            _blank(Case.district_code),
            local_day(Report.captured_at),
            Report.violation,
            status,
            source_of(Report.reporter_kind),
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
    _add_rows(out, CASES, groups)


def _add_rows(out: Counter[Key], kind: str, groups: Counter[tuple[Any, ...]]) -> None:
    """The day, violation, status and source rows of ``groups`` (one key a combination)."""
    rows: Iterable[Any] = ((*key, n) for key, n in groups.items())
    for district, day_key, violation, status, source, n in rows:
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
