"""Districts, police units and cases (migration 0003).

* ``districts`` / ``provinces``: boundary polygons imported by ``flask districts import``,
  stored as GeoJSON text (portable between SQLite and PostgreSQL). While ``districts`` is
  empty the router uses the boundaries shipped in ``data/boundaries`` instead (see
  :mod:`server.services.routing`).
* ``district_imports``: one row per import; its ``token`` names the version of the
  boundary set that the in-memory routing index is cached under.
* ``police_units``: which unit handles the reports of each district (one row per
  district; a unit code may serve several districts).
* ``cases`` / ``case_events``: reports of the same violation, and the history of each
  case. A report points at its case through ``reports.case_id`` (see core.Report).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .core import BigSerial, UTCDateTime, utcnow


class District(db.Model):
    """An administrative district (ADM2) and its boundary."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    province_code: Mapped[str] = mapped_column(sa.String(16), index=True)
    province_name: Mapped[str] = mapped_column(sa.String(200))
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84 lon/lat) as compact JSON text.
    geometry: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Province(db.Model):
    """A province (ADM1) outline: used only for the ``province_nearest`` routing rule."""

    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    geometry: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DistrictImport(db.Model):
    """One run of ``flask districts import``.

    ``token`` is the version of the boundary set after the import: a new uuid when the
    import changed ``districts`` or ``provinces``, else the previous token.
    """

    __tablename__ = "district_imports"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(sa.String(36))
    source: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(64))
    inserted: Mapped[int] = mapped_column(sa.Integer)
    updated: Mapped[int] = mapped_column(sa.Integer)
    unchanged: Mapped[int] = mapped_column(sa.Integer)
    removed: Mapped[int] = mapped_column(sa.Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PoliceUnit(db.Model):
    """The police unit that handles a district's reports (one row per district)."""

    __tablename__ = "police_units"

    district_code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(64), default="system")


class Case(db.Model):
    """One violation, confirmed by one or more reports.

    ``status`` is ``open``, or ``merged`` once the case has been absorbed into the case
    ``merged_into_id`` (its reports then belong to that case). ``manual`` is set on a case
    a reviewer made by splitting a report out: it is never merged automatically again.
    """

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    district_code: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    unit_code: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    # The reporter a reward goes to: earliest captured_at, ties by earliest received_at.
    first_report_id: Mapped[str] = mapped_column(sa.String(36))
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    merged_into_id: Mapped[str | None] = mapped_column(sa.ForeignKey("cases.id"))
    manual: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    report_count: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseEvent(db.Model):
    """One entry of a case's history (append-only): what changed a case after it opened.

    Opening a case and joining it at ingest write nothing here (that is on the report:
    ``reports.case_id``, ``join_reason``, ``join_match_report_id``, ``joined_at``, and
    ``cases.created_at``), which keeps ingest one INSERT shorter.

    ``kind``: ``absorbed`` (the case ``other_case_id`` merged into this one),
    ``merged`` (this case merged into ``other_case_id``), ``split`` (a report left for
    ``other_case_id``), ``opened`` (this case was made by splitting ``report_id`` out of
    ``other_case_id``; ``reason`` is ``split``), ``forwarded``, ``routed`` (an unrouted
    case got the district of a routed report that joined it), ``routed_by_hand``,
    ``unit_changed``.
    """

    __tablename__ = "case_events"

    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    report_id: Mapped[str | None] = mapped_column(sa.String(36))
    other_case_id: Mapped[str | None] = mapped_column(sa.String(36))
    reason: Mapped[str | None] = mapped_column(sa.String(24))
    from_district: Mapped[str | None] = mapped_column(sa.String(16))
    to_district: Mapped[str | None] = mapped_column(sa.String(16))
    from_unit: Mapped[str | None] = mapped_column(sa.String(32))
    to_unit: Mapped[str | None] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
