"""Resumable (tus) uploads of evidence (migration 0002).

One row per declared media item at most (``media_id`` is unique): that is what makes
tus creation idempotent. The bytes received so far live in ``MEDIA_ROOT/uploads/<id>``;
**the size of that file is the upload's offset** (it is fsynced before any offset is
reported), so no offset is kept here that could disagree with the disk after a crash.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class Upload(db.Model):
    """A tus upload of one declared media item, owned by the device that created it."""

    __tablename__ = "uploads"

    # Opaque (uuid4 hex): the last segment of the upload URL and the partial file's name.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    media_id: Mapped[str] = mapped_column(
        sa.ForeignKey("media.id", ondelete="CASCADE"), unique=True
    )
    report_id: Mapped[str] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    # Upload-Length; always the declared size of the media item.
    length: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last PATCH that wrote bytes (None before the first one).
    last_patch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an incomplete upload expires: UPLOAD_EXPIRY_HOURS after the last PATCH (or
    # the creation); the value promised to the client in Upload-Expires.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set once the bytes were verified and stored as the media item's evidence (or the
    # media item had already been received when the upload was created).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
