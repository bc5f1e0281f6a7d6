"""Statistics of reports and cases for a period and an area (issue 13).

One job a module:

* :mod:`.periods`: local days, months, ISO weeks (pure);
* :mod:`.results`: the answers as data classes (pure);
* :mod:`.percentiles`: times to a decision and their percentiles (pure);
* :mod:`.columns`: what is counted, as SQL rows and columns;
* :mod:`.direct`: every count straight from the base tables (the definition);
* :mod:`.rollup_counts`, :mod:`.rollup_store`, :mod:`.rollup`: the same counts kept in
  ``stats_rollup`` (counted, stored and refreshed, read): what the dashboard shows;
* :mod:`.hotspots`: reports per grid cell;
* :mod:`.dashboard`, :mod:`.charts`: what the pages are asked for, the charts' data;
* :mod:`.words`, :mod:`.review_tables`, :mod:`.workbook`, :mod:`.cases_csv`: the exports.

Every query takes the district scope of the user (``None`` for all districts, as
:func:`server.services.accounts.districts_of` gives it) and a :class:`Period`, and
returns plain data. Nothing here handles an informant's identity.

Sources
    ``officer`` when the report came from an officer's token (``reporter_kind``, set by
    ingest from the token whatever the body claimed), ``citizen`` otherwise.

Decisions
    ``verified`` and ``rejected`` are decided; ``expired`` (no evidence arrived, issue
    17.3) is counted under its status and is neither; every other status
    (``awaiting_evidence``, ``submitted``, ``needs_info``, ``info_added``, ``reopened``)
    is awaiting. The time to a
    decision is from the server's receipt of the report (``received_at``) to its first
    ``verified`` or ``rejected`` status event.

This package's namespace holds the definitions (:mod:`.direct`) and the types, as the
module ``server.services.stats`` did before it was split.
"""

from .cases_csv import case_export_rows
from .columns import DECIDED, case_rows, report_rows
from .direct import (
    breakdown,
    compare,
    decision_minute_counts,
    decision_times,
    repeat_offenders,
    summary,
    verified_plate_counts,
)
from .hotspots import CELL_SIZES, HOTSPOT_LIMIT, HotspotCell, cell_index, hotspots
from .percentiles import decision_bin, percentile
from .periods import LOCAL_OFFSET, MAX_DAYS, Period, PeriodError, iso_week, month_of
from .results import (
    REPEAT_LIMIT,
    REPEAT_MIN,
    SOURCES,
    Breakdown,
    Comparison,
    DecisionTimes,
    RepeatOffender,
    Summary,
)

__all__ = [
    "CELL_SIZES",
    "DECIDED",
    "HOTSPOT_LIMIT",
    "LOCAL_OFFSET",
    "MAX_DAYS",
    "REPEAT_LIMIT",
    "REPEAT_MIN",
    "SOURCES",
    "Breakdown",
    "Comparison",
    "DecisionTimes",
    "HotspotCell",
    "Period",
    "PeriodError",
    "RepeatOffender",
    "Summary",
    "breakdown",
    "case_export_rows",
    "case_rows",
    "cell_index",
    "compare",
    "decision_bin",
    "decision_minute_counts",
    "decision_times",
    "hotspots",
    "iso_week",
    "month_of",
    "percentile",
    "repeat_offenders",
    "report_rows",
    "summary",
    "verified_plate_counts",
]
