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

from datetime import datetime

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
