"""What is counted, as SQL: the period's reports and cases, one row each, and the column
expressions both ways of counting share (a status as counted, a source, a local day).

A **report** counts in the period of its violation time (``captured_at``, local time) and
in the district where it was made. A **case** counts in the period of its first report's
violation time and in the district whose police handle it; absorbed cases (``status =
'merged'``) are not counted. A case's violation, source, plate and decision are those of
its first report, unless the case has its own verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, Report, StatusEvent
from .periods import Period

DECIDED = ("verified", "penalty_issued", "rejected")


def in_scope(column: Any, districts: Iterable[str] | None) -> Any:
    """``column IN (districts)``; everything for None; nothing for an empty scope."""
    if districts is None:
        return sa.true()
    codes = sorted(districts)
    if not codes:
        return sa.false()
    return column.in_(codes)


def source_of(kind_column: Any) -> Any:
    """``officer`` for a report from an officer's token, ``citizen`` otherwise."""
    return sa.case((kind_column == "officer", "officer"), else_="citizen")


def report_status(status: Any) -> Any:
    """A report's status as the statistics count it: a penalty issued is verified."""
    return sa.case((status == "penalty_issued", "verified"), else_=status)


def case_status() -> Any:
    """A case's status: its verdict (server.services.review) when it has one, else its
    first report's status."""
    return sa.case(
        (Case.verdict.in_(("verified", "penalty_issued")), "verified"),
        (Case.verdict.in_(("rejected", "needs_info")), Case.verdict),
        else_=report_status(Report.status),
    )


def local_day(column: Any) -> Any:
    """The local (UTC+7) calendar day of a UTC timestamp column, on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        local = sa.func.timezone("UTC", column) + sa.literal_column("interval '7 hours'")
        return sa.cast(local, sa.Date)
    return sa.func.date(column, "+7 hours")


def first_decisions() -> sa.Subquery:
    """Each report's first ``verified``/``rejected`` time: ``(report_id, at)``."""
    return (
        sa.select(StatusEvent.report_id, sa.func.min(StatusEvent.created_at).label("at"))
        .where(StatusEvent.status.in_(DECIDED))
        .group_by(StatusEvent.report_id)
        .subquery("first_decision")
    )


def _facts(district: Any, status: Any) -> list[Any]:
    """The columns a report row and a case row share: the (first) report's facts, the
    district that counts and the status as counted."""
    return [
        Report.violation.label("violation"),
        district.label("district_code"),
        Report.captured_at.label("captured_at"),
        Report.received_at.label("received_at"),
        status.label("status"),
        source_of(Report.reporter_kind).label("source"),
        Report.plate_match_key.label("plate_key"),
        Report.plate_display.label("plate_display"),
    ]


def _in_period(period: Period) -> list[Any]:
    start, end = period.utc_bounds()
    return [Report.captured_at >= start, Report.captured_at < end]


def report_rows(districts: Iterable[str] | None, period: Period) -> sa.Subquery:
    """The reports of the period and area, one row each."""
    return (
        sa.select(
            Report.id.label("report_id"),
            *_facts(Report.district_code, report_status(Report.status)),
        )
        .where(*_in_period(period), in_scope(Report.district_code, districts))
        .subquery("period_reports")
    )


def case_rows(districts: Iterable[str] | None, period: Period) -> sa.Subquery:
    """The cases of the period and area, one row each, with their first report's facts."""
    return (
        sa.select(
            Report.id.label("report_id"),
            Case.id.label("case_id"),
            *_facts(Case.district_code, case_status()),
            Case.report_count.label("report_count"),
        )
        .select_from(Case)
        .join(Report, Report.id == Case.first_report_id)
        .where(
            Case.status != "merged",
            *_in_period(period),
            in_scope(Case.district_code, districts),
        )
        .subquery("period_cases")
    )
