"""What was done and seen in the review console (migration 0005).

* ``audit_log``: who did what, when, to which object: never the informant's identity.
* ``identity_reveals``: every reveal of an informant's identity, with its written reason.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(BigSerial, sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32))
    case_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    report_id: Mapped[str | None] = mapped_column(sa.String(36))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityReveal(db.Model):
    __tablename__ = "identity_reveals"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    actor_id: Mapped[int] = mapped_column(BigSerial, sa.ForeignKey("users.id"))
    report_id: Mapped[str] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case's district when the reveal was made: the reveal stays in that province's
    # log after the case is forwarded (migration 0018).
    district_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
