"""An expired report leaves its case (:func:`remove_expired`).

A report whose evidence never started arriving expires
(:mod:`server.services.evidence_expiry`): it is taken out of its case (``case_id`` NULL;
its ``join_*`` fields stay as history), the case's history records ``report_expired``,
and the case recomputes its count, first reporter and ``evidence_at``. A case left with
no report is closed (``status = 'expired'``): it is in no queue and no digest, and is
never shown empty.
"""

from __future__ import annotations

from ...models import Case, Report, utcnow
from .arrival import refresh_evidence_at
from .events import add_event
from .first import refresh_first_reporter
from .locks import lock_case

REPORT_EXPIRED = "report_expired"
EXPIRED = "expired"


def remove_expired(report: Report) -> Case | None:
    """Take the (locked) expiring ``report`` out of its case; returns the case, locked
    and updated, or None if it had none. Runs in the caller's transaction."""
    if report.case_id is None:
        return None
    case = lock_case(report.case_id)
    report.case_id = None
    report.merged_from_case_id = None
    now = utcnow()
    case.report_count = max(0, case.report_count - 1)
    case.updated_at = now
    add_event(case, REPORT_EXPIRED, report_id=report.id)
    if case.report_count == 0:
        case.status = EXPIRED
        case.evidence_at = None
    else:
        refresh_first_reporter(case)
        refresh_evidence_at(case)
    return case
