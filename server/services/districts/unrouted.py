"""The queue of reports no routing rule could place, which administrators route by hand
(:func:`server.services.cases.route_by_hand`, rule ``by_hand``)."""

from __future__ import annotations

import sqlalchemy as sa

from ...extensions import db
from ...models import Report


def unrouted_reports(limit: int = 100) -> list[Report]:
    """Reports no rule could place (oldest first): the queue administrators route by hand."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.district_code.is_(None))
            .order_by(Report.received_at, Report.id)
            .limit(limit)
        )
    )
