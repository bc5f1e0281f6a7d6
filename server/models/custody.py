"""Evidence custody (migration 0012): the custody trail, a hash chain, append-only,
and the devices' public keys that seal captures (:class:`DeviceKey`).

Each entry holds the hash of the entry before it and its own hash over a canonical
encoding of ``(prev_hash, seq, kind, subject, content, at)``
(:func:`server.services.custody.entry_hash`), so editing, inserting or deleting a row
breaks the chain from there on, and ``flask --app wsgi audit verify`` names the first
entry that does not match. ``content`` is canonical JSON of ids, codes and the acting
user's id: never an informant's identity.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

# Written by the application (1, 2, 3 ... under the chain lock), never by the database.
ChainSeq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class CustodyEntry(db.Model):
    __tablename__ = "custody_chain"

    seq: Mapped[int] = mapped_column(ChainSeq, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(48))
    subject: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    content: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # Migration 0019: the hash of the previous entry with the same subject (64 zeros for
    # the subject's first entry; None when ``subject`` is None): each subject's trail has
    # its own verifiable order. ``v`` 2: the entry's hash covers ``subject_prev_hash``
    # (entries written before 0019 are ``v`` 1, their links computed by the migration).
    subject_prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    v: Mapped[int] = mapped_column(sa.SmallInteger, default=2, server_default="1")

    __table_args__ = (sa.Index("ix_custody_chain_subject_seq", "subject", "seq"),)


class DeviceKey(db.Model):
    """A device's ECDSA P-256 public key; one per device, never replaced (a lost or
    rotated key is a new device registration). ``key_id`` is the SHA-256 (hex) of the
    SPKI DER bytes, ``public_key`` those bytes in base64."""

    __tablename__ = "device_keys"

    device_id: Mapped[str] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(sa.String(64))
    public_key: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
