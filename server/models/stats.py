"""Pre-aggregated statistics (issue 13): counts per district and local month, and the
buckets whose counts are stale.

``stats_rollup`` holds, for each (district, month, kind, dimension, key), how many
reports (``kind = 'r'``) or cases (``'c'``) of that district and month have that key:
the local day, the violation, the status, the source, the rejection reason, the binned
time to a decision (reports), the plate of a verified case (cases). Database triggers
(migration 0016) append a row to ``stats_dirty`` in the same transaction as every
insert, update or delete that can change a count (reports, cases, status events),
however the change was made; :mod:`server.services.stats.rollup_store` recomputes a dirty
bucket from the base tables before it is read. Unrouted reports have district ``''``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial


class StatsRollup(db.Model):
    __tablename__ = "stats_rollup"

    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # local, "2026-03"
    district_code: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(1), primary_key=True)  # r(eports), c(ases)
    dim: Mapped[str] = mapped_column(sa.String(12), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer)


class StatsDirty(db.Model):
    __tablename__ = "stats_dirty"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    district_code: Mapped[str] = mapped_column(sa.String(16))
    month: Mapped[str | None] = mapped_column(sa.String(7))

    __table_args__ = (sa.Index("ix_stats_dirty_month", "month", "district_code"),)
