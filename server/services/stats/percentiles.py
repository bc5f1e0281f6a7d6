"""Times to a decision as they are counted, and their percentiles (pure arithmetic).

Median and 90th percentile are computed in Python (linear interpolation, as PostgreSQL's
``percentile_cont``), the same on both databases, from a list of values
(:func:`percentile`) or from counts of binned values (:func:`percentile_of_counts`).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from datetime import UTC, datetime

from .results import DecisionTimes


def aware(value: datetime | str) -> datetime:
    """Subquery columns lose the UTCDateTime decorator on SQLite: make them aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks
    (PostgreSQL's ``percentile_cont``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def percentile_of_counts(counts: Counter[int], q: float) -> float | None:
    """:func:`percentile` of the values ``counts`` holds (value -> how many)."""
    n = sum(counts.values())
    if not n:
        return None
    values = sorted(counts)
    ends = []
    running = 0
    for v in values:
        running += counts[v]
        ends.append(running)  # ranks < ends[i] hold values[i]

    def at(rank: int) -> int:
        return values[bisect.bisect_right(ends, rank)]

    pos = (n - 1) * q
    low = int(pos)
    high = min(low + 1, n - 1)
    return at(low) + (at(high) - at(low)) * (pos - low)


def decision_bin(received: datetime, decided: datetime) -> int:
    """The minutes from receipt to a decision, as they are counted: whole minutes up to
    2 hours, 5 minutes up to 48 hours, then steps 1 % wide (each value is the lower
    edge of its step), so that a period's times fit a few hundred rollup rows."""
    minutes = max(0, int((aware(decided) - aware(received)).total_seconds() // 60))
    if minutes < 120:
        return minutes
    if minutes < 2880:
        return minutes - minutes % 5
    step = int(math.log(minutes / 2880) / math.log(1.01))
    edge = int(2880 * 1.01**step)
    return edge if edge <= minutes else int(2880 * 1.01 ** (step - 1))


def times_of_minutes(minutes: Counter[int]) -> DecisionTimes:
    """Median and 90th percentile, in hours, of binned minutes (value -> how many)."""
    median = percentile_of_counts(minutes, 0.5)
    p90 = percentile_of_counts(minutes, 0.9)
    return DecisionTimes(
        sum(minutes.values()),
        None if median is None else median / 60,
        None if p90 is None else p90 / 60,
    )
