"""When a case's evidence arrived (``cases.evidence_at``): the case's entry into the queue.

A report is stored before its files (``awaiting_evidence``); its case opens at once, but
only a case holding evidence is shown to reviewers (:mod:`server.services.queue`) and
announced in their digests (:mod:`server.services.digests`). ``evidence_at`` is the
earliest ``media.received_at`` of the case's reports: set when a member's first file is
received (:func:`note_evidence`, in ``mark_received``), and recomputed from the members
whenever reports move between cases (merges, splits, an expired report leaving:
:func:`refresh_evidence_at`). A merge keeps the earlier of the two cases'.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, Media, Report


def earliest_evidence(case_id: str) -> datetime | None:
    """The first receipt of an evidence file of any report of the case, or None."""
    return db.session.scalar(
        sa.select(sa.func.min(Media.received_at))
        .join(Report, Report.id == Media.report_id)
        .where(Report.case_id == case_id, Media.received_at.is_not(None))
    )


def note_evidence(case: Case, at: datetime) -> None:
    """A file of a member of the (locked) case was received at ``at``."""
    if case.evidence_at is None or at < case.evidence_at:
        case.evidence_at = at


def refresh_evidence_at(case: Case) -> datetime | None:
    """Recompute ``case.evidence_at`` from its members (the case is locked; the session
    is flushed first, so moved reports are seen). Returns it."""
    db.session.flush()
    case.evidence_at = earliest_evidence(case.id)
    return case.evidence_at
