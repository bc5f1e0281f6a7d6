"""Status changes of reports, recorded as an append-only event log (the change feed)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Report, StatusEvent, utcnow
from . import custody

# A report whose evidence never started arriving (server.services.evidence_expiry).
EXPIRED = "expired"

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
) -> StatusEvent:
    """Change a report's status and append the event (and its custody-trail entry,
    :mod:`.custody`); the caller commits soon after.

    A report's first event, at ingest, is :func:`record_new_report`.
    """
    lock_feed()
    now = utcnow()
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
    custody.status_event(report.id, status, reason_code, actor, locked=True)
    from .push import enqueue_status  # the push outbox: same transaction as the change

    enqueue_status(report, event)
    return event


_EVENTS = StatusEvent.__table__
_INSERT_EVENT = sa.insert(_EVENTS)
# PostgreSQL: the feed lock and the insert in one round trip. The CTE (materialized: it
# calls a volatile function) is the insert's row source, so the lock is held before the
# row, and its seq, are produced.
_FEED_LOCKED = sa.select(sa.func.pg_advisory_xact_lock(_FEED_LOCK)).cte("feed_lock")
_INSERT_EVENT_LOCKED = _EVENTS.insert().from_select(
    ["report_id", "status", "actor", "created_at"],
    sa.select(
        sa.bindparam("report_id", type_=_EVENTS.c.report_id.type),
        sa.bindparam("status", type_=_EVENTS.c.status.type),
        sa.bindparam("actor", type_=_EVENTS.c.actor.type),
        sa.bindparam("created_at", type_=_EVENTS.c.created_at.type),
    ).select_from(_FEED_LOCKED),
)


def record_new_report(report_id: str, status: str, at: datetime) -> None:
    """The first event of a report inserted with ``status`` in this transaction, under
    the feed lock (:func:`lock_feed`).

    The ingest path: Core statements only (no ORM object, no flush), one round trip on
    PostgreSQL, plus the custody-trail entry (:mod:`.custody`, two more: read the head,
    insert). ``status`` must be one the push outbox does not announce (see
    :data:`.push.ANNOUNCED`); any other status goes through :func:`set_status`.
    """
    from .push import ANNOUNCED

    if status in ANNOUNCED:
        raise ValueError(f"status {status!r} is announced: use set_status")
    event = {"report_id": report_id, "status": status, "actor": "system", "created_at": at}
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_INSERT_EVENT_LOCKED, event)
    else:
        conn.execute(_INSERT_EVENT, event)  # SQLite: every writer is serialised already
    custody.status_event(report_id, status, None, "system", locked=True)
