"""The reviewers' queue: open cases of a user's districts, filtered and paged.

By default the queue holds the cases waiting for a reviewer (``state`` ``pending``): no
verdict yet, a request for information, or a decided case that a new report joined
since. ``decided`` lists the locked ones, ``all`` both, the waiting ones first. These
three hold only cases with evidence (``cases.evidence_at``: a file of one of its reports
was received); ``awaiting`` lists the open cases still waiting for their first file
("Chờ bằng chứng"), whose reports expire if none arrives
(:mod:`server.services.evidence_expiry`): a flood of reports without evidence never
reaches the reviewers' default view. Within
that, most-confirmed cases come first (the most reports), then the oldest. A filter on the
reports (status, violation, plate, capture dates) keeps a case when at least one of its
reports matches every filter given. A plate is searched by its compact form from
:func:`server.plates.normalize_plate`, the same form stored in ``reports.plate_compact``,
so ``29-MĐ1 013.53``, ``29md1.01353`` and ``mđ1 013`` all find a stored ``29-MĐ1 013.53``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, Report, User
from ..models.cases import LOCKING_VERDICTS
from ..plates import normalize_plate
from ..reasons import STATUS_TEXT
from . import report_codes
from .accounts import districts_of

PAGE_SIZE = 20
MAX_PAGE = 1_000_000  # keeps the OFFSET within a 32-bit integer
MAX_FILTER_CHARS = 64
STATES = ("pending", "decided", "all", "awaiting")


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer asked for; empty fields filter nothing."""

    state: str = "pending"  # one of STATES
    status: str = ""  # a report status of STATUS_TEXT, or ""
    violation: str = ""  # a violation code, or ""
    plate: str = ""  # as typed (shown back in the form)
    since: date | None = None  # captured on or after this day (UTC)
    until: date | None = None  # captured on or before this day (UTC)
    flag: str = ""  # a warning flag one of the case's reports carries, or ""

    @classmethod
    def from_args(
        cls, args: Mapping[str, str], flags: Collection[str] = ()
    ) -> QueueFilters:
        """Filters from a query string; unknown statuses, flags not in ``flags`` (the
        warning flags the caller has words for) and bad dates are ignored."""

        def text(name: str) -> str:
            return (args.get(name) or "").strip()[:MAX_FILTER_CHARS]

        status, state = text("status"), text("state")
        return cls(
            state=state if state in STATES else "pending",
            status=status if status in STATUS_TEXT else "",
            violation=text("violation"),
            plate=text("plate"),
            since=_parse_date(text("since")),
            until=_parse_date(text("until")),
            flag=flag if (flag := text("flag")) in flags else "",
        )

    def query_args(self) -> dict[str, str]:
        """The filters given, as query-string arguments (for the pager's links)."""
        args = {
            "state": "" if self.state == "pending" else self.state,
            "status": self.status,
            "violation": self.violation,
            "plate": self.plate,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "flag": self.flag,
        }
        return {k: v for k, v in args.items() if v}


@dataclass(frozen=True)
class QueueRow:
    """One open case with its first report, the statuses of its reports and every
    distinct plate they give (a case a reviewer merged may hold two spellings)."""

    case: Case
    first: Report | None
    statuses: tuple[str, ...]  # sorted, distinct
    plates: tuple[str, ...] = ()  # one per plate match key, as first reported; sorted
    flags: tuple[str, ...] = ()  # every warning flag of its reports, sorted, distinct


@dataclass(frozen=True)
class Page:
    """One page of the queue: ``page`` of ``pages`` (at least 1), ``total`` cases in all."""

    items: list[QueueRow]
    total: int
    page: int
    pages: int


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _report_conditions(filters: QueueFilters) -> list[sa.ColumnElement[bool]]:
    """Conditions on one report of the case, one per filter given."""
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.status:
        conditions.append(Report.status == filters.status)
    if filters.violation:
        conditions.append(Report.violation == filters.violation)
    compact = normalize_plate(filters.plate).compact if filters.plate else ""
    code = report_codes.normalize_code(filters.plate) if filters.plate else None
    if compact and code:  # 8 characters that may be a report code (issue 14) or a plate
        conditions.append(sa.or_(Report.plate_compact.contains(compact), Report.code == code))
    elif compact:  # only [0-9A-Z]: nothing for LIKE to misread
        conditions.append(Report.plate_compact.contains(compact))
    if filters.flag:  # the JSON list's text holds the code in quotes (both databases)
        conditions.append(sa.cast(Report.flags, sa.Text).contains(f'"{filters.flag}"'))
    if filters.since:
        conditions.append(Report.captured_at >= _day_start(filters.since))
    if filters.until and filters.until < date.max:  # until=9999-12-31: no upper bound
        conditions.append(Report.captured_at < _day_start(filters.until) + timedelta(days=1))
    return conditions


def _pending() -> sa.ColumnElement[bool]:
    """A case waiting for a reviewer: not locked, or a new report joined since."""
    new_report = sa.select(Report.case_id).where(
        Report.case_id == Case.id, Report.status == "submitted"
    )
    return sa.or_(
        Case.verdict.is_(None), Case.verdict.not_in(LOCKING_VERDICTS), new_report.exists()
    )


def _open_cases_query(user: User, filters: QueueFilters) -> sa.Select[Any]:
    query = sa.select(Case).where(Case.status == "open")
    if filters.state == "awaiting":
        query = query.where(Case.evidence_at.is_(None))
    else:
        query = query.where(Case.evidence_at.is_not(None))
    if filters.state == "pending":
        query = query.where(_pending())
    elif filters.state == "decided":
        query = query.where(sa.not_(_pending()))
    codes = districts_of(user)
    if codes is not None:
        query = query.where(Case.district_code.in_(sorted(codes) or [""]))
    conditions = _report_conditions(filters)
    if conditions:
        member = sa.select(Report.case_id).where(Report.case_id == Case.id, *conditions)
        query = query.where(member.exists())
    return query


def _rows(found: list[Case]) -> list[QueueRow]:
    """Each case with its first report, its reports' statuses and plates (two queries)."""
    first_ids = [c.first_report_id for c in found if c.first_report_id]
    firsts = {
        r.id: r for r in db.session.scalars(sa.select(Report).where(Report.id.in_(first_ids)))
    }
    statuses: dict[str, set[str]] = {}
    plates: dict[str, dict[str, str]] = {}  # case -> match key -> plate as shown
    members = (
        sa.select(
            Report.case_id, Report.status, Report.plate_match_key, Report.plate_display,
            Report.plate_raw, Report.flags,
        )
        .where(Report.case_id.in_([c.id for c in found]))
        .order_by(Report.received_at, Report.id)
    )  # fmt: skip
    flagged: dict[str, set[str]] = {}
    for case_id, status, key, display, raw, report_flags in db.session.execute(members):
        statuses.setdefault(case_id, set()).add(status)
        flagged.setdefault(case_id, set()).update(report_flags or ())
        if key:
            plates.setdefault(case_id, {}).setdefault(key, display or raw)
    return [
        QueueRow(
            c,
            firsts.get(c.first_report_id or ""),
            tuple(sorted(statuses.get(c.id, ()))),
            tuple(sorted(plates.get(c.id, {}).values())),
            tuple(sorted(flagged.get(c.id, ()))),
        )
        for c in found
    ]


def open_cases(user: User, filters: QueueFilters, page: int) -> Page:
    """Page ``page`` (from 1) of the open cases of the user's districts that match,
    the ones waiting for a reviewer first."""
    page = min(max(1, page), MAX_PAGE)
    query = _open_cases_query(user, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    found = list(
        db.session.scalars(
            query.order_by(
                sa.case((_pending(), 0), else_=1),
                # A reporter's answer to a request for information: back on top (issue 26).
                sa.case((Case.answered_at.is_not(None), 0), else_=1),
                Case.answered_at.desc(),
                Case.report_count.desc(),
                Case.created_at,
                Case.id,
            )
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    return Page(_rows(found), total, page, max(1, -(-total // PAGE_SIZE)))


def violation_choices() -> list[str]:
    """Every violation code reported so far, for the queue's filter."""
    return sorted(v for v in db.session.scalars(sa.select(Report.violation).distinct()) if v)
