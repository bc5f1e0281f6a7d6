"""Road-accident figures beside the reports (migration 0010, issue 13).

* ``accident_figures``: crashes, deaths and injuries of one district in one month, as a
  supervisor entered or imported them from the unit's own statistics. ``month`` is the
  first day of the month. One row per district and month: entering the month again
  replaces the figures (``entered_by``, ``at`` say who did it last, and when).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import BigSerial, UTCDateTime, utcnow


class AccidentFigure(db.Model):
    __tablename__ = "accident_figures"

    id: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    district_code: Mapped[str] = mapped_column(sa.String(16))
    month: Mapped[date] = mapped_column(sa.Date)
    crashes: Mapped[int] = mapped_column(sa.Integer)
    deaths: Mapped[int] = mapped_column(sa.Integer)
    injuries: Mapped[int] = mapped_column(sa.Integer)
    # The console user who entered the figures last ("user:<username>").
    entered_by: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("district_code", "month", name="uq_accident_figures_district_month"),
        sa.CheckConstraint(
            "crashes >= 0 AND deaths >= 0 AND injuries >= 0",
            name="ck_accident_figures_not_negative",
        ),
    )
