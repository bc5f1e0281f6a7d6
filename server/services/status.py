"""Status changes of reports, recorded as an append-only event log (the change feed)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Report, StatusEvent, utcnow

# Any fixed number: the advisory lock that serialises status-event writers on PostgreSQL.
_FEED_LOCK = 0x52574346  # "RWCF"


def lock_feed() -> None:
    """Serialise writers of status events until the end of this transaction.

    A sequence value is allocated at insert, not at commit: without this, seq 7 could
    commit before seq 6 and a device polling in between would skip 6 for ever. Under
    the lock, events commit in seq order. SQLite already serialises every writer
    (BEGIN IMMEDIATE), so only PostgreSQL needs it.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FEED_LOCK})


def set_status(
    report: Report,
    status: str,
    *,
    reason_code: str | None = None,
    public_note: str | None = None,
    actor: str = "system",
    at: datetime | None = None,
) -> StatusEvent:
    """Change a report's status and append the event; the caller commits soon after.

    ``at`` is the time of the change (default now); a report inserted in this
    transaction passes its own ``updated_at``, so that the change costs no UPDATE.
    """
    lock_feed()
    now = at or utcnow()
    report.status = status
    report.updated_at = now
    event = StatusEvent(
        report_id=report.id,
        status=status,
        reason_code=reason_code,
        public_note=public_note,
        actor=actor,
        created_at=now,
    )
    db.session.add(event)
    from .push import enqueue_status  # the push outbox: same transaction as the change

    enqueue_status(report, event)
    return event
