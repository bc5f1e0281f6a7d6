"""What a reviewer reads about one case: its reports, who sent them, its decisions and
history. Reads only; the caller has already checked that the user may see the case
(:func:`server.console.access.case_for`). No informant identity is read here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, CaseEvent, Decision, OfficerDevice, Report, User
from . import cases

# The decisions that set a verdict (split, merge, forward and reopen do not).
VERDICT_KINDS = ("verify", "reject", "needs_info", "penalty")


@dataclass(frozen=True)
class DecisionEntry:
    """A decision and the display name of the user who took it (None if gone)."""

    decision: Decision
    actor: str | None


@dataclass(frozen=True)
class Dossier:
    """A case as its page shows it."""

    case: Case
    reports: list[Report]  # first reporter first
    officers: dict[str, str]  # report id -> officer's display name, for officers' reports
    decisions: list[DecisionEntry]  # oldest first
    history: list[CaseEvent]  # oldest first

    @property
    def verdict_entry(self) -> DecisionEntry | None:
        """The decision behind the case's current verdict (who, when), or None."""
        if self.case.verdict is None:
            return None
        for entry in reversed(self.decisions):
            if entry.decision.kind in VERDICT_KINDS:
                return entry
        return None

    @property
    def has_new_reports(self) -> bool:
        """A decided case that a report joined since the verdict (it waits for a reviewer)."""
        return self.case.locked and any(r.status == "submitted" for r in self.reports)

    @property
    def penalty_no(self) -> str | None:
        """The latest penalty decision number recorded for the case, or None."""
        if self.case.verdict != "penalty_issued":
            return None
        numbers = [e.decision.penalty_no for e in self.decisions if e.decision.penalty_no]
        return numbers[-1] if numbers else None


def decisions_with_actors(case_id: str) -> list[DecisionEntry]:
    """The decisions taken on a case, oldest first, with who took them (one query)."""
    rows = db.session.execute(
        sa.select(Decision, User.display_name)
        .outerjoin(User, User.id == Decision.actor_id)
        .where(Decision.case_id == case_id)
        .order_by(Decision.id)
    )
    return [DecisionEntry(decision, actor) for decision, actor in rows]


def officer_names(reports: list[Report]) -> dict[str, str]:
    """Display names of the officers whose signed-in phones sent these reports."""
    rows = db.session.execute(
        sa.select(Report.id, User.display_name)
        .join(OfficerDevice, OfficerDevice.device_id == Report.device_id)
        .join(User, User.id == OfficerDevice.user_id)
        .where(Report.id.in_([r.id for r in reports]))
    )
    return {report_id: name for report_id, name in rows}


def dossier(case: Case) -> Dossier:
    """Everything the case page shows about ``case``."""
    reports = cases.members(case.id)
    return Dossier(
        case=case,
        reports=reports,
        officers=officer_names(reports),
        decisions=decisions_with_actors(case.id),
        history=cases.history(case.id),
    )
