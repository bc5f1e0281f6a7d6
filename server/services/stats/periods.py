"""Periods of the statistics: local calendar days (Vietnam, UTC+7), months and ISO weeks.

Pure: no database. A :class:`Period` is the days a dashboard or export is asked for; the
rollups read whole months (:func:`split_period`) and count the rest from the base tables.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

LOCAL_OFFSET = timedelta(hours=7)  # Vietnam: UTC+7 all year
MAX_DAYS = 3 * 366 + 1  # the longest period a dashboard or export is made for


class PeriodError(ValueError):
    """A period that cannot be used (end before start, too long)."""


def _shift_year(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class Period:
    """Local calendar days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError("the period ends before it starts")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise PeriodError("the period is too long")

    @classmethod
    def nine_months(cls, year: int) -> Period:
        """The nine-month review ("9 tháng đầu năm"): 1 January to 30 September."""
        return cls(date(year, 1, 1), date(year, 9, 30))

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """``[from, to)`` in UTC: local midnight of ``start`` to local midnight after ``end``."""
        start = datetime.combine(self.start, datetime.min.time(), UTC) - LOCAL_OFFSET
        end = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), UTC)
        return start, end - LOCAL_OFFSET

    def year_earlier(self) -> Period:
        return Period(_shift_year(self.start, -1), _shift_year(self.end, -1))

    def shifted_to(self, year: int) -> Period:
        """The same days of ``year`` (a period across New Year keeps its length)."""
        years = year - self.start.year
        return Period(_shift_year(self.start, years), _shift_year(self.end, years))

    def months(self) -> list[str]:
        """The months the period touches, ``YYYY-MM``, in order."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def weeks(self) -> list[str]:
        """The ISO weeks the period touches, ``YYYY-Www``, in order."""
        out: list[str] = []
        day = self.start
        while day <= self.end:
            key = iso_week(day)
            if not out or out[-1] != key:
                out.append(key)
            day += timedelta(days=1)
        return out

    def label(self) -> str:
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_period(month: str) -> Period:
    """The local days of ``YYYY-MM``."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, nxt - timedelta(days=1))


def split_period(period: Period) -> tuple[list[str], list[Period]]:
    """The whole months inside ``period``, and the stretches of days left over."""
    whole: list[str] = []
    edges: list[Period] = []
    for month in period.months():
        days = month_period(month)
        start, end = max(days.start, period.start), min(days.end, period.end)
        if (start, end) == (days.start, days.end):
            whole.append(month)
        elif edges and edges[-1].end + timedelta(days=1) == start:
            edges[-1] = Period(edges[-1].start, end)
        else:
            edges.append(Period(start, end))
    return whole, edges
