"""Web Push: subscriptions, and the durable outbox of messages to deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow


class PushSubscription(db.Model):
    """A browser's push subscription, owned by exactly one of: a device (the PWA, which
    re-sends it on every app start) or a console user (reviewer, supervisor, admin)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        sa.CheckConstraint(
            "(device_id IS NULL) <> (user_id IS NULL)", name="ck_push_subscriptions_one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200))
    auth: Mapped[str] = mapped_column(sa.String(100))
    device_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        BigSerial, sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    lang: Mapped[str] = mapped_column(sa.String(5), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[PushMessage]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )


class PushMessage(db.Model):
    """One message for one subscription, written in the same transaction as its cause.

    ``sent_at`` set: delivered (the push service accepted it). ``dead_at`` set: given
    up (a permanent error). Otherwise it is due at ``next_attempt_at``.
    """

    __tablename__ = "push_messages"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(sa.Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[PushSubscription] = relationship(back_populates="messages")


class DigestCursor(db.Model):
    """Where a console user's digest of new cases got to (migration 0006).

    Cases that arrived in the user's districts after ``watermark`` are not announced
    yet. It moves in the same transaction as the digest's messages are written, so a
    crash neither repeats nor skips a digest. ``last_sent_at``: the last digest sent,
    for the minimum interval between two (``REVIEWER_DIGEST_MINUTES``).
    """

    __tablename__ = "push_digest_cursors"

    user_id: Mapped[int] = mapped_column(
        BigSerial, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    watermark: Mapped[datetime] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
