"""Reports and what comes with them: the sending device, evidence files, status history.

* ``devices``: a phone (or the sync client); its token is stored hashed.
* ``reports``: one violation report, immutable once stored; routing and case membership
  columns (migration 0003) point at :mod:`server.models.districts` and
  :mod:`server.models.cases`.
* ``media``: the declared evidence files of a report.
* ``report_answers``: a reporter's answers to requests for information.
* ``status_events``: each change of a report's status (the change feed).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .cases import Case


class Device(db.Model):
    """A phone (or the sync client) that sends reports. Its token is stored hashed."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _new_report_code() -> str:
    from ..services.report_codes import new_code  # a leaf module, imported when first used

    return new_code()


class Report(db.Model):
    """A violation report, created once from the phone's id, immutable once stored."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    # The short code a person quotes (migration 0013, server.services.report_codes); the
    # ingest draws it (and draws again on a collision), the default serves other inserts.
    code: Mapped[str] = mapped_column(sa.String(8), default=_new_report_code)
    device_id: Mapped[str] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    # HMAC of the canonical request body: tells an identical retry from a conflict.
    body_digest: Mapped[str] = mapped_column(sa.String(64))
    violation: Mapped[str] = mapped_column(sa.String(64))
    vehicle_class: Mapped[str] = mapped_column(sa.String(16))
    plate_raw: Mapped[str] = mapped_column(sa.String(64), default="")
    plate_kind: Mapped[str] = mapped_column(sa.String(16))
    plate_compact: Mapped[str] = mapped_column(sa.String(64), default="")
    plate_display: Mapped[str | None] = mapped_column(sa.String(64))
    # Indexed only as the first column of ix_reports_plate_violation_time (migration 0007).
    plate_match_key: Mapped[str | None] = mapped_column(sa.String(80))
    vehicle_description: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The offset the phone gave, in minutes east of UTC, to show local time back.
    captured_offset_min: Mapped[int] = mapped_column(sa.Integer, default=0)
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    location_source: Mapped[str] = mapped_column(sa.String(8))
    reporter_kind: Mapped[str] = mapped_column(sa.String(8))
    # Fernet token of {"name", "national_id", "phone"}; the key is not in the database.
    identity_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    status: Mapped[str] = mapped_column(sa.String(24), index=True)
    flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Routing (migration 0003): the district whose police handle the report, the rule of
    # server.district_index that placed it (or "by_hand"), and which location was routed.
    # The area routed to: a commune of today's map (a pre-2025 district for the
    # historical set). ``legacy_district_code``: the pre-2025 district of a report routed
    # before migration 0017 (history; its area was routed again from its location).
    district_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    legacy_district_code: Mapped[str | None] = mapped_column(sa.String(16))
    route_rule: Mapped[str | None] = mapped_column(sa.String(24))
    route_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    route_location_source: Mapped[str | None] = mapped_column(sa.String(8))
    # Case membership (migration 0003): why the report joined its case (None: it opened
    # the case) and the report of that case it matched.
    case_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("cases.id", name="fk_reports_case_id_cases"), index=True
    )
    join_reason: Mapped[str | None] = mapped_column(sa.String(24))
    join_match_report_id: Mapped[str | None] = mapped_column(sa.String(36))
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The case the report was in before a reviewer merged that case into this one
    # (migration 0008): splitting the report out takes that whole group back there.
    merged_from_case_id: Mapped[str | None] = mapped_column(sa.String(36))
    # The capture's seal (migration 0012, server.services.signing): valid, unsigned or
    # invalid (NULL: stored before), the signed manifest, its signature, the device key.
    signature_status: Mapped[str | None] = mapped_column(sa.String(16))
    capture_manifest: Mapped[str | None] = mapped_column(sa.Text)
    capture_signature: Mapped[str | None] = mapped_column(sa.String(128))
    signing_key_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Lets a new case be inserted before the report that points at it, in one flush.
    case: Mapped[Case | None] = relationship(foreign_keys=[case_id])

    __table_args__ = (
        # Candidates of a same-plate join: key, violation, then a captured_at range.
        sa.Index("ix_reports_plate_violation_time", "plate_match_key", "violation", "captured_at"),
        sa.Index("uq_reports_code", "code", unique=True),
        # A district-month of reports (statistics, migration 0016).
        sa.Index("ix_reports_district_captured", "district_code", "captured_at"),
        # The hotspot map: a period's points read from the index alone (migration 0016).
        sa.Index(
            "ix_reports_hotspot", "captured_at", "lat", "lon", "violation", "district_code"
        ),
    )

    media: Mapped[list[Media]] = relationship(
        back_populates="report", order_by="Media.position", cascade="all, delete-orphan"
    )

    @property
    def has_identity(self) -> bool:
        return self.identity_ciphertext is not None


class Media(db.Model):
    """A declared evidence file of a report; ``received_at`` is set once its bytes are verified."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exif: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # 64-bit perceptual hash (16 hex digits) of a received image (migration 0003).
    phash: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    # The report's captured_at, copied here so that the similar-photo lookup of a time
    # window reads one covering index (ix_media_captured_phash) instead of a million
    # scattered report rows (migration 0003).
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # C2PA Content Credentials of the received file (migration 0015, server.provenance):
    # none, signed, edited or invalid (NULL: not checked), and what the manifest says.
    provenance: Mapped[str | None] = mapped_column(sa.String(16))  # 0019: "untrusted"
    provenance_detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    # The reporter's answer to a request for information this file came with (migration
    # 0020, server.services.answers); None: a file of the report itself.
    answer_id: Mapped[str | None] = mapped_column(sa.String(36))

    __table_args__ = (sa.Index("ix_media_captured_phash", "captured_at", "phash", "report_id"),)

    report: Mapped[Report] = relationship(back_populates="media")

    @property
    def received(self) -> bool:
        return self.received_at is not None


class ReportAnswer(db.Model):
    """A reporter's answer to a request for information (migration 0020): a short text
    and/or files (media rows with ``answer_id``), idempotent by the phone's id."""

    __tablename__ = "report_answers"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(sa.ForeignKey("reports.id"))
    # The report's case when the answer arrived.
    case_id: Mapped[str | None] = mapped_column(sa.String(36))
    # HMAC of the canonical body: tells an identical retry from a conflict.
    body_digest: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_report_answers_report", "report_id"),
        sa.Index("ix_report_answers_case", "case_id"),
    )


class StatusEvent(db.Model):
    """One change of a report's status. ``seq`` orders the change feed."""

    __tablename__ = "status_events"

    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(sa.ForeignKey("reports.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(24))
    reason_code: Mapped[str | None] = mapped_column(sa.String(48))
    public_note: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
