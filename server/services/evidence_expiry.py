"""Reports whose evidence never arrives expire (issue 17.3).

A report is stored before its files (``awaiting_evidence``); its case waits outside the
reviewers' queue until a file arrives (``cases.evidence_at``, :mod:`.cases.arrival`).
The rule: a report still ``awaiting_evidence`` whose evidence has **not started
arriving** ``REPORT_EVIDENCE_EXPIRY_HOURS`` (default 72) after the server received it
becomes ``expired``. "Started arriving" means a file of it was received, or a
resumable upload of one holds bytes and has not expired itself. An expired report:

* gets the status event ``expired`` (the phone sees it on ``GET /api/v1/changes``) and
  a custody-trail entry (:func:`.status.set_status`);
* leaves its case (:func:`.cases.expiry.remove_expired`); a case left empty is closed;
* takes no file any more: a later upload answers ``410 report_expired`` and stores
  nothing (:func:`.evidence.declared_media`, :mod:`.uploads`, ``mark_received``).

Run by ``flask --app wsgi reports expire`` and by ``flask --app wsgi uploads expire``
(the hourly cron job). Idempotent: a second run finds nothing more to do. Each report
is expired in its own short transaction, under the same locks as the receipt of a
file (similar-photo lock, then the report, then its case), so a file arriving at that
moment either wins (the report is not expired) or is refused with 410.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Media, Report, utcnow
from ..models.uploads import Upload
from ..settings import current_settings
from . import cases
from .cases.expiry import remove_expired
from .status import EXPIRED, set_status

AWAITING = "awaiting_evidence"
BATCH = 500


@dataclass
class ExpiryResult:
    expired_reports: int = 0
    closed_cases: int = 0


def expiry_period() -> timedelta:
    return timedelta(hours=current_settings().report_evidence_expiry_hours)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    """A report that must expire at ``now``."""
    received = sa.select(Media.id).where(
        Media.report_id == Report.id, Media.received_at.is_not(None)
    )
    uploading = sa.select(Upload.id).where(
        Upload.report_id == Report.id,
        Upload.last_patch_at.is_not(None),
        Upload.expires_at > now,
    )
    return sa.and_(
        Report.status == AWAITING,
        Report.received_at <= now - expiry_period(),
        ~received.exists(),
        ~uploading.exists(),
    )


def expire_reports(now: datetime | None = None) -> ExpiryResult:
    """Expire every report that is due (see the module's rule). Commits each one."""
    now = now or utcnow()
    result = ExpiryResult()
    if expiry_period() <= timedelta(0):
        return result  # 0: reports never expire
    done: set[str] = set()
    while True:
        ids = [
            i
            for i in db.session.scalars(
                sa.select(Report.id)
                .where(_due(now))
                .order_by(Report.received_at, Report.id)
                .limit(BATCH)
            )
            if i not in done
        ]
        db.session.commit()
        if not ids:
            return result
        for report_id in ids:
            done.add(report_id)
            closed = _expire_one(report_id, now)
            if closed is not None:
                result.expired_reports += 1
                result.closed_cases += closed


def _expire_one(report_id: str, now: datetime) -> int | None:
    """Expire one report if it is still due: 1 if its case closed, 0 if not, None if
    the report was not expired (a file arrived meanwhile). Commits."""
    cases.lock_similar_media()  # the order of mark_received: before the report lock
    report = db.session.execute(
        sa.select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    # Checked again under the lock, by a new statement: it sees a file committed by a
    # receipt that held the lock before us.
    still_due = db.session.scalar(sa.select(Report.id).where(Report.id == report_id, _due(now)))
    if report is None or still_due is None:
        db.session.rollback()
        return None
    case = remove_expired(report)
    set_status(report, EXPIRED)
    db.session.commit()
    return 1 if case is not None and case.status == EXPIRED else 0
