"""What the statistics answer: plain data classes, the same whether counted straight from
the base tables (:mod:`.direct`) or from the rollups (:mod:`.rollup`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from .periods import Period, iso_week, month_of

SOURCES = ("citizen", "officer")
REPEAT_MIN = 2  # verified cases of one plate that make a repeat offender
REPEAT_LIMIT = 50  # repeat offenders listed


@dataclass
class Breakdown:
    """Counts of one kind of thing (reports or cases) along every dimension."""

    total: int = 0
    by_violation: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    by_week: dict[str, int] = field(default_factory=dict)
    by_day: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> int:
        return self.by_status.get("verified", 0)

    @property
    def rejected(self) -> int:
        return self.by_status.get("rejected", 0)

    @property
    def awaiting(self) -> int:
        return self.total - self.verified - self.rejected - self.by_status.get("expired", 0)

    def share(self, what: str) -> float | None:
        """The share (0..1) of ``verified``, ``rejected`` or ``awaiting``; None if empty."""
        if not self.total:
            return None
        return {"verified": self.verified, "rejected": self.rejected, "awaiting": self.awaiting}[
            what
        ] / self.total

    def count_calendar(self) -> Breakdown:
        """Months, weeks and the total from the days (both ways of counting end here)."""
        months: Counter[str] = Counter()
        weeks: Counter[str] = Counter()
        for key, n in self.by_day.items():
            d = date.fromisoformat(key)
            months[month_of(d)] += n
            weeks[iso_week(d)] += n
        self.by_day = dict(sorted(self.by_day.items()))
        self.by_month = dict(sorted(months.items()))
        self.by_week = dict(sorted(weeks.items()))
        self.total = sum(self.by_day.values())
        return self


@dataclass(frozen=True)
class DecisionTimes:
    """Hours from a report's receipt to its first decision, over decided reports."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class RepeatOffender:
    plate_key: str
    plate_display: str
    cases: int
    last_at: datetime


@dataclass
class Summary:
    """Everything the dashboard shows for one period."""

    period: Period
    reports: Breakdown
    cases: Breakdown
    times: DecisionTimes
    repeat_offenders: list[RepeatOffender]


@dataclass
class Comparison:
    """A period and the same days a year earlier, side by side."""

    current: Summary
    previous: Summary

    def aligned_months(self, which: str = "reports") -> list[tuple[str, int, int]]:
        """``(month of the current period, its count, the count a year earlier)``."""
        cur = getattr(self.current, which).by_month
        prev = getattr(self.previous, which).by_month
        return [
            (m, cur.get(m, 0), prev.get(_month_year_earlier(m), 0))
            for m in self.current.period.months()
        ]

    def aligned_weeks(self, which: str = "reports") -> list[tuple[str, int, int]]:
        """``(ISO week of the current period, its count, the same week number a year
        earlier)``; week 53 compares with week 52 when last year had none."""
        cur = getattr(self.current, which).by_week
        prev = getattr(self.previous, which).by_week
        out = []
        for w in self.current.period.weeks():
            year, week = int(w[:4]), int(w[6:])
            prev_key = f"{year - 1:04d}-W{week:02d}"
            if week == 53 and prev_key not in prev:
                prev_key = f"{year - 1:04d}-W52"
            out.append((w, cur.get(w, 0), prev.get(prev_key, 0)))
        return out


def _month_year_earlier(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"
