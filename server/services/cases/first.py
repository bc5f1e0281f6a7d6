"""Who reported a case first: by the server's receipt of each report's evidence.

The rule is :func:`server.dedup.first_reporter` (pure); this module reads what it needs
(:class:`server.dedup.Receipt`: the claimed capture time, the report's receipt, and the
time its last evidence file was verified, if all were) and keeps
``cases.first_report_id`` up to date: on every join, merge and split, and when a
member's evidence completes (:func:`refresh_first_reporter`). A reward rule pays only
that report.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa

from ...dedup import Receipt, first_reporter
from ...extensions import db
from ...models import Case, Media, Report
from ...settings import current_settings

_RECEIPT_COLUMNS = (
    Report.id,
    Report.captured_at,
    Report.received_at,
    sa.func.count(Media.id).label("files"),
    sa.func.count(Media.received_at).label("received"),
    sa.func.max(Media.received_at).label("last_received"),
)


def _receipts(where: sa.ColumnElement[bool]) -> list[Receipt]:
    rows = db.session.connection().execute(
        sa.select(*_RECEIPT_COLUMNS)
        .outerjoin(Media, Media.report_id == Report.id)
        .where(where)
        .group_by(Report.id, Report.captured_at, Report.received_at)
    )
    return [
        Receipt(
            report_id=r.id,
            captured_at=r.captured_at,
            received_at=r.received_at,
            evidence_at=r.last_received if r.files and r.received == r.files else None,
        )
        for r in rows
    ]


def case_receipts(case_id: str) -> list[Receipt]:
    """The receipts of the members of a case (one grouped query)."""
    return _receipts(Report.case_id == case_id)


def settle() -> timedelta:
    return timedelta(minutes=current_settings().first_reporter_settle_minutes)


def choose_first(case_id: str, extra: Iterable[Receipt] = ()) -> str | None:
    """The first reporter of a case's members (and of ``extra``, reports joining it that
    are not stored yet)."""
    return first_reporter([*case_receipts(case_id), *extra], settle())


def refresh_first_reporter(case: Case) -> str:
    """Recompute ``case.first_report_id`` from its members (the case is locked; the
    session is flushed here: the receipts are read through Core). Returns it."""
    db.session.flush()
    case.first_report_id = choose_first(case.id) or case.first_report_id
    return case.first_report_id


def earlier_case(a: Case, b: Case) -> Case:
    """Of two cases, the one whose first reporter reported first (a merge keeps it)."""
    first = first_reporter(
        _receipts(Report.id.in_([a.first_report_id, b.first_report_id])), settle()
    )
    return b if first == b.first_report_id and first != a.first_report_id else a
