"""Reading the audit log (entries are written by :func:`server.services.accounts.audit`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditLog, User

LOG_LIMIT = 500


def recent_entries(limit: int = LOG_LIMIT) -> list[sa.Row[Any]]:
    """The latest audit entries, newest first, as (entry, username or None) rows."""
    return list(
        db.session.execute(
            sa.select(AuditLog, User.username)
            .outerjoin(User, User.id == AuditLog.actor_id)
            .order_by(AuditLog.id.desc())
            .limit(limit)
        ).all()
    )
