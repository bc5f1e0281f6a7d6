"""Districts and police units (migration 0003).

* ``districts`` / ``provinces``: boundary polygons imported by ``flask districts import``,
  stored as GeoJSON text (portable between SQLite and PostgreSQL). While ``districts`` is
  empty the router uses the boundaries shipped in ``data/boundaries`` instead (see
  :mod:`server.services.districts`).
* ``district_imports``: one row per import; its ``token`` names the version of the
  boundary set that the in-memory routing index is cached under.
* ``police_units``: which unit handles the reports of each district (one row per
  district; a unit code may serve several districts).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow


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


# --------------------------------------------------------------------------- migration 0017
# Today's map (issue 23). A routing AREA is an entry of a boundary set: a pre-2025
# district in the historical set, a commune (xã, phường, đặc khu) in the 2025 set. The
# ``district_code`` columns of reports, cases, statistics and reviewer scopes hold the
# code of the area a report was routed to (a commune code for reports routed since
# 0017); ``legacy_district_code`` keeps the pre-2025 district of rows routed before.


class BoundarySet(db.Model):
    """A version of the routing areas: the shipped ones (``source`` ``shipped:<file>``)
    or one imported by ``flask boundaries import`` (its areas are in ``areas``).

    ``kind`` is ``current`` or ``historical``; the routing set is the ``current`` set
    imported last, else the shipped set of the ``BOUNDARY_SET`` setting.
    """

    __tablename__ = "boundary_sets"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    effective_date: Mapped[date | None] = mapped_column(sa.Date)
    source: Mapped[str] = mapped_column(sa.Text)
    area_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64), default="system")


class Area(db.Model):
    """A routing area of an imported boundary set, with its outline and old names."""

    __tablename__ = "areas"

    set_id: Mapped[str] = mapped_column(
        sa.ForeignKey("boundary_sets.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16), default="")
    province_code: Mapped[str] = mapped_column(sa.String(16))
    province_name: Mapped[str] = mapped_column(sa.String(200))
    # Old names (JSON list of strings), searched by the forward picker.
    aliases: Mapped[str] = mapped_column(sa.Text, default="[]")
    geometry: Mapped[str] = mapped_column(sa.Text)


class Unit(db.Model):
    """A police unit that handles reports: by default each commune's own police
    (``CA-<commune code>``, "Công an phường Ba Đình"), which needs no row; a row names
    a unit an operator created or imported (``flask units``), e.g. a provincial
    traffic-police team covering several areas."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    province_code: Mapped[str] = mapped_column(sa.String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(64), default="system")


class UnitArea(db.Model):
    """A unit covers an area (many to many): its reviewers see the area's cases. The
    unit that covers an area most recently (``assigned_at``, then ``seq``) is the one
    responsible: new reports of the area are routed to it."""

    __tablename__ = "unit_areas"

    unit_code: Mapped[str] = mapped_column(
        sa.ForeignKey("units.code", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(sa.String(16), primary_key=True, index=True)
    seq: Mapped[int] = mapped_column(sa.Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by: Mapped[str] = mapped_column(sa.String(64), default="system")
