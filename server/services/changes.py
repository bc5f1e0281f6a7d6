"""The change feed: status events of a device's reports after a cursor, in order.

The cursor is the event's ``seq``. Writers of status events are serialised (see
:func:`server.services.status.lock_feed`), so events become visible in ``seq`` order
and a device that resumes from its last cursor can neither skip nor repeat one.
"""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import Device, Report, StatusEvent
from ..problems import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def parse_cursor(raw: str | None) -> int:
    if raw in (None, ""):
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError("invalid_cursor")
    return int(raw)


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(
            "validation_failed", errors={"limit": [f"Must be between 1 and {MAX_LIMIT}."]}
        )
    return int(raw)


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
