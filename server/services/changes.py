"""The change feed: status events of a device's reports after a cursor, in order.

The cursor is the event's ``seq``. Writers of status events are serialised (see
:func:`server.services.status.lock_feed`), so events become visible in ``seq`` order
and a device that resumes from its last cursor can neither skip nor repeat one.
"""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import Device, Report, StatusEvent

# Events per page of the feed: by default, and at most.
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def changes_for(device: Device, since: int, limit: int) -> dict[str, Any]:
    rows = (
        db.session.execute(
            db.select(StatusEvent)
            .join(Report, Report.id == StatusEvent.report_id)
            .where(Report.device_id == device.id, StatusEvent.seq > since)
            .order_by(StatusEvent.seq)
            .limit(limit + 1)
        )
        .scalars()
        .all()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return {
        "changes": [
            {
                "cursor": str(e.seq),
                "report_id": e.report_id,
                "status": e.status,
                "reason_code": e.reason_code,
                "public_note": e.public_note,
                "at": e.created_at.isoformat(),
            }
            for e in rows
        ],
        "next": str(rows[-1].seq) if rows else str(since),
        "has_more": has_more,
    }
