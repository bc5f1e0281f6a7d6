"""The analysts' CSV: one line per case of the period (issue 13).

UTF-8 with a BOM so that spreadsheet programs read the Vietnamese names; stable
snake_case column names. Only what the console shows of a case: ids, district,
violation, status, counts, times and the plate; never a reporter, never an officer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ...extensions import db
from .columns import case_rows, first_decisions
from .percentiles import aware
from .periods import Period
from .words import district_vi, local_time, status_vi, violation_vi

CSV_COLUMNS = (
    "case_id",
    "district_code",
    "district_name",
    "province_name",
    "violation_code",
    "violation_name",
    "captured_at_local",
    "received_at_local",
    "decided_at_local",
    "hours_to_decision",
    "status",
    "status_name",
    "source",
    "report_count",
    "plate",
)
TIMES = ("captured_at", "received_at", "decided_at")


def case_export_rows(
    districts: Iterable[str] | None, period: Period, limit: int | None = None
) -> Iterable[Mapping[str, Any]]:
    """The cases of the period and area, oldest first, with their first decision's time."""
    rows = case_rows(districts, period)
    first = first_decisions()
    query = (
        sa.select(rows, first.c.at.label("decided_at"))
        .select_from(rows)
        .outerjoin(first, first.c.report_id == rows.c.report_id)
        .order_by(rows.c.captured_at, rows.c.case_id)
    )
    if limit is not None:
        query = query.limit(limit)
    for row in db.session.execute(query).mappings():
        out = dict(row)
        for key in TIMES:
            if out[key] is not None:
                out[key] = aware(out[key])
        yield out


def _safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _line(row: Mapping[str, Any], name_of: Callable[[str | None], tuple[str, str]]) -> list:
    decided, received = row["decided_at"], row["received_at"]
    hours = None
    if decided is not None and received is not None:
        hours = round(max(timedelta(0), decided - received).total_seconds() / 3600, 2)
    return [
        row["case_id"],
        row["district_code"] or "",
        *name_of(row["district_code"]),
        row["violation"],
        violation_vi(row["violation"]),
        local_time(row["captured_at"]),
        local_time(received),
        local_time(decided),
        "" if hours is None else hours,
        row["status"],
        status_vi(row["status"]),
        row["source"],
        row["report_count"],
        row["plate_display"] or "",
    ]


def cases_csv(
    rows: Iterable[Mapping[str, Any]],
    name_of: Callable[[str | None], tuple[str, str]] = district_vi,
) -> Iterator[str]:
    """The CSV, streamed line by line (first a BOM and the headings)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(values: Iterable[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_safe(v) for v in values])
        return buf.getvalue()

    yield "\ufeff" + line(CSV_COLUMNS)
    for row in rows:
        yield line(_line(row, name_of))
