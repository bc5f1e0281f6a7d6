"""The dashboard's charts as data for ``stats.js`` (the same figures are in its tables).

The words come from the caller (``t``, the console's translation, and
``violation_name``), so that this stays free of the console.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..accidents import Progress
from .results import Comparison
from .words import month_vi

TOP_VIOLATIONS = 10
LABEL_MAX = 48


def _short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chart(t: Callable[..., str], title: str, labels: list[str], *series: tuple) -> dict:
    return {
        "labels": labels,
        "series": [{"label": label, "data": data} for label, data in series],
        "title": t(title),
    }


def chart_data(
    both: Comparison,
    progress: Progress | None,
    t: Callable[..., str],
    violation_name: Callable[[str], str],
) -> dict[str, Any]:
    """Months, violations, case decisions and (when entered) accidents, each with this
    period beside the one it is compared with."""
    cur, prev = both.current, both.previous
    months = both.aligned_months()
    top = sorted(cur.reports.by_violation.items(), key=lambda kv: -kv[1])[:TOP_VIOLATIONS]
    now, before = t("stats.this_period"), t("stats.year_earlier")
    data: dict[str, Any] = {
        "months": _chart(
            t,
            "stats.chart_months",
            [month_vi(m) for m, _, _ in months],
            (now, [n for _, n, _ in months]),
            (before, [p for _, _, p in months]),
        ),
        "violations": _chart(
            t,
            "stats.chart_violations",
            [_short(violation_name(k)) for k, _ in top],
            (now, [n for _, n in top]),
            (before, [prev.reports.by_violation.get(k, 0) for k, _ in top]),
        ),
        "status": _chart(
            t,
            "stats.chart_status",
            [t("stats.verified"), t("stats.rejected"), t("stats.awaiting")],
            (t("stats.cases"), [cur.cases.verified, cur.cases.rejected, cur.cases.awaiting]),
        ),
    }
    if progress is not None and (progress.entered or progress.entered_base):
        data["accidents"] = _chart(
            t,
            "stats.chart_accidents",
            [month_vi(m) for m, _, _ in progress.months],
            (now, [c["crashes"] for _, c, _ in progress.months]),
            (
                t("stats.base_year", year=progress.base_period.start.year),
                [b["crashes"] for _, _, b in progress.months],
            ),
        )
    return data
