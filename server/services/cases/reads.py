"""Reading cases: a case, its members, its history."""

from __future__ import annotations

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, CaseEvent, Report
from .errors import CaseError


def get_case(case_id: str) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case {case_id}")
    return case


def members(case_id: str) -> list[Report]:
    """The reports of a case in the order their phones say they were taken (then
    receipt). The first reporter is ``Case.first_report_id`` (see :mod:`.first`)."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.case_id == case_id)
            .order_by(Report.captured_at, Report.received_at, Report.id)
        )
    )


def history(case_id: str) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
    )
