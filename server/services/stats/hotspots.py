"""Where violations cluster: the period's reports counted per square grid cell."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from ...models import Report
from .columns import in_scope
from .periods import Period

# Cell sizes offered, in degrees of latitude and longitude (at 21°N, 0.005° is about
# 555 m north-south and 520 m east-west).
CELL_SIZES = {"250": 0.0025, "500": 0.005, "1000": 0.01, "2000": 0.02}
HOTSPOT_LIMIT = 500  # cells drawn; the busiest first


@dataclass(frozen=True)
class HotspotCell:
    """A square cell of the grid and the reports made in it."""

    row: int
    col: int
    size: float
    count: int
    district_code: str | None  # a district its reports were made in (the highest code)

    @property
    def south(self) -> float:
        return self.row * self.size - 90

    @property
    def west(self) -> float:
        return self.col * self.size - 180

    @property
    def centre(self) -> tuple[float, float]:
        return (self.south + self.size / 2, self.west + self.size / 2)


def cell_index(column: Any, offset: float, size: float) -> Any:
    """``floor((column + offset) / size)`` on either database (the value is positive)."""
    scaled = (column + offset) / size
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(scaled), sa.BigInteger)
    return sa.cast(scaled, sa.Integer)  # SQLite truncates, which is floor for x >= 0


def hotspots(
    districts: Iterable[str] | None,
    period: Period,
    *,
    violation: str | None = None,
    size: float = CELL_SIZES["500"],
    limit: int = HOTSPOT_LIMIT,
) -> list[HotspotCell]:
    """Reports of the period and area counted per grid cell, busiest first."""
    start, end = period.utc_bounds()
    row_ix = cell_index(Report.lat, 90.0, size).label("row")
    col_ix = cell_index(Report.lon, 180.0, size).label("col")
    query = (
        sa.select(row_ix, col_ix, sa.func.count().label("n"), sa.func.max(Report.district_code))
        .where(
            Report.captured_at >= start,
            Report.captured_at < end,
            in_scope(Report.district_code, None if districts is None else sorted(districts)),
        )
        .group_by(row_ix, col_ix)
        .order_by(sa.desc("n"), row_ix, col_ix)
        .limit(limit)
    )
    if violation:
        query = query.where(Report.violation == violation)
    return [
        HotspotCell(int(r), int(c), size, n, code)
        for r, c, n, code in db.session.execute(query).all()
    ]


def busiest_districts(cells: Iterable[HotspotCell], limit: int) -> list[str]:
    """The districts with the most reports in ``cells``, most first (at most ``limit``)."""
    counts: Counter[str] = Counter()
    for c in cells:
        if c.district_code:
            counts[c.district_code] += c.count
    return sorted(counts, key=lambda k: -counts[k])[:limit]


def map_cells(cells: Iterable[HotspotCell]) -> list[dict[str, float]]:
    """The cells as the hotspot map draws them."""
    return [{"s": c.south, "w": c.west, "size": c.size, "n": c.count} for c in cells]
