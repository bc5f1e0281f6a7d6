"""Road-accident figures per district and month, and progress against the target (issue 13).

The province's plans ask each unit to cut road accidents by 5-10 % on all three counts
(crashes, deaths, injuries) against a base year. Supervisors enter a district's month by
hand (:func:`record`) or import a sheet (:func:`import_sheet`, CSV or XLSX); the
dashboard compares a period with the same months of the base year (:func:`progress`).

An import is all or nothing: every row is checked first, and any bad row rejects the
whole sheet with the line numbers and what is wrong (:class:`SheetRejected`); only a
clean sheet is written, in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import AccidentFigure, User, utcnow
from . import districts as district_index
from .accounts import audit, districts_of
from .stats import Period

MEASURES = ("crashes", "deaths", "injuries")
TARGET_LOW, TARGET_HIGH = 5.0, 10.0  # per cent fewer than the base year
MAX_ROWS = 5000
MAX_VALUE = 1_000_000
MAX_BYTES = 2 * 1024 * 1024

# Accepted column headings (lower case, spaces collapsed), Vietnamese or English.
HEADINGS: dict[str, tuple[str, ...]] = {
    "district": ("district", "district_code", "mã địa bàn", "ma_dia_ban", "mã quận huyện"),
    "month": ("month", "tháng", "thang"),
    "crashes": ("crashes", "số vụ", "so_vu", "vụ"),
    "deaths": ("deaths", "số người chết", "so_nguoi_chet", "người chết", "chết"),
    "injuries": (
        "injuries",
        "số người bị thương",
        "so_nguoi_bi_thuong",
        "người bị thương",
        "bị thương",
    ),
}


class AccidentError(ValueError):
    """Figures that cannot be recorded as asked; ``str(exc)`` is a code of
    :data:`server.console.i18n_text.LABELS` ``["accident_error"]``."""


class SheetRejected(ValueError):
    """A sheet with bad rows: ``errors`` is ``[(line, code)]``, line 1 being the headings."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


@dataclass(frozen=True)
class Figures:
    district_code: str
    month: date
    crashes: int
    deaths: int
    injuries: int


def actor_of(user: User) -> str:
    return f"user:{user.username}"[:64]


def may_enter(user: User, district_code: str) -> bool:
    """Supervisors enter their province's districts, admins any district."""
    if user.role not in ("supervisor", "admin"):
        return False
    if district_index.district_info(district_code) is None:
        return False
    scope = districts_of(user)
    return scope is None or district_code in scope


def parse_month(value: Any) -> date | None:
    """``2026-03``, ``03/2026``, ``3/2026``, ``2026-03-01`` or a spreadsheet date: the
    month's first day; None for anything else."""
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    text = str(value or "").strip()
    year = month = None
    for sep in ("-", "/", "."):
        parts = text.split(sep)
        if len(parts) in (2, 3) and all(p.strip().isdigit() for p in parts):
            nums = [int(p) for p in parts]
            if len(parts[0].strip()) == 4:  # 2026-03 or 2026-03-01
                year, month = nums[0], nums[1]
            elif len(parts) == 2:  # 03/2026
                month, year = nums[0], nums[1]
            elif len(parts[2].strip()) == 4:  # 01/03/2026 (day first)
                month, year = nums[1], nums[2]
            break
    if year is None or month is None or not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return date(year, month, 1)


def parse_count(value: Any) -> int | None:
    """A non-negative whole number (``12``, ``12.0`` from a spreadsheet); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    else:
        text = str(value if value is not None else "").strip()
        if not text.isdigit():
            return None
        n = int(text)
    return n if 0 <= n <= MAX_VALUE else None


def _check(user: User, district: Any, month: Any, counts: dict[str, Any]) -> Figures | str:
    """The row's figures, or the code of the first thing wrong with it."""
    code = str(district if district is not None else "").strip()
    if isinstance(district, int | float) and not isinstance(district, bool):
        code = f"{int(district):03d}"  # a spreadsheet turned "006" into 6
    if not code or district_index.district_info(code) is None:
        return "district_unknown"
    if not may_enter(user, code):
        return "district_outside"
    first = parse_month(month)
    if first is None:
        return "month"
    values = {k: parse_count(counts.get(k)) for k in MEASURES}
    if any(v is None for v in values.values()):
        return "number"
    return Figures(code, first, **values)  # type: ignore[arg-type]


def _upsert(user: User, figures: Iterable[Figures]) -> int:
    now, actor, n = utcnow(), actor_of(user), 0
    for f in figures:
        row = db.session.scalar(
            sa.select(AccidentFigure).where(
                AccidentFigure.district_code == f.district_code, AccidentFigure.month == f.month
            )
        )
        if row is None:
            row = AccidentFigure(district_code=f.district_code, month=f.month)
            db.session.add(row)
        row.crashes, row.deaths, row.injuries = f.crashes, f.deaths, f.injuries
        row.entered_by, row.at = actor, now
        n += 1
    return n


def record(
    user: User, district: str, month: str, crashes: str, deaths: str, injuries: str
) -> Figures:
    """Enter (or correct) one district's month. Commits."""
    checked = _check(
        user, district, month, {"crashes": crashes, "deaths": deaths, "injuries": injuries}
    )
    if isinstance(checked, str):
        raise AccidentError(checked)
    _upsert(user, [checked])
    audit(user, "accidents_entered", detail=f"{checked.district_code} {checked.month:%Y-%m}")
    db.session.commit()
    return checked


# ---------------------------------------------------------------------------- sheets


def _norm(heading: Any) -> str:
    return " ".join(str(heading or "").strip().lower().split())


def _columns(headings: list[Any]) -> dict[str, int] | None:
    """Which column holds each field, from the heading row; None if one is missing."""
    found: dict[str, int] = {}
    for i, h in enumerate(headings):
        name = _norm(h)
        for field, aliases in HEADINGS.items():
            if name in aliases and field not in found:
                found[field] = i
    return found if len(found) == len(HEADINGS) else None


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetRejected([(1, "encoding")]) from exc
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any malformed workbook: openpyxl raises many kinds
        raise SheetRejected([(1, "format")]) from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def read_sheet(filename: str, data: bytes) -> list[list[Any]]:
    """The rows of a CSV or XLSX file (XLSX: its first sheet), headings first."""
    if len(data) > MAX_BYTES:
        raise SheetRejected([(1, "too_big")])
    is_xlsx = data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm"))
    rows: list[list[Any]] = []
    try:
        for row in _xlsx_rows(data) if is_xlsx else _csv_rows(data):
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise SheetRejected([(MAX_ROWS + 2, "too_many")])
    except SheetRejected:
        raise
    except Exception as exc:  # a broken file is the sender's input, never a 500
        raise SheetRejected([(1, "format")]) from exc
    return rows


def check_sheet(user: User, rows: list[list[Any]]) -> list[Figures]:
    """Every row checked; raises :class:`SheetRejected` listing every bad row."""
    if not rows:
        raise SheetRejected([(1, "empty")])
    columns = _columns(rows[0])
    if columns is None:
        raise SheetRejected([(1, "header")])
    errors: list[tuple[int, str]] = []
    good: list[Figures] = []
    seen: dict[tuple[str, date], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row):
            continue  # blank lines are skipped, not errors

        def cell(field: str, row: list[Any] = row) -> Any:
            i = columns[field]
            return row[i] if i < len(row) else None

        checked = _check(user, cell("district"), cell("month"), {k: cell(k) for k in MEASURES})
        if isinstance(checked, str):
            errors.append((line, checked))
            continue
        key = (checked.district_code, checked.month)
        if key in seen:
            errors.append((line, "duplicate"))
            continue
        seen[key] = line
        good.append(checked)
    if errors:
        raise SheetRejected(errors)
    if not good:
        raise SheetRejected([(1, "empty")])
    return good


def import_sheet(user: User, filename: str, data: bytes) -> int:
    """Check the whole sheet, then write it in one transaction. Returns the rows written.
    Raises :class:`SheetRejected` (nothing written) when any row is bad."""
    figures = check_sheet(user, read_sheet(filename, data))
    try:
        n = _upsert(user, figures)
        audit(user, "accidents_imported", detail=f"{n} rows")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return n


# ---------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Measure:
    """One of the three counts: this period, the base year's same months, the change."""

    name: str
    current: int
    base: int

    @property
    def change_pct(self) -> float | None:
        """Per cent change from the base (negative: fewer); None without a base."""
        if not self.base:
            return None
        return (self.current - self.base) / self.base * 100

    @property
    def target(self) -> str:
        """``high`` (10 % or more fewer), ``low`` (5 % or more), ``missed``, ``unknown``."""
        pct = self.change_pct
        if pct is None:
            return "unknown"
        if pct <= -TARGET_HIGH:
            return "high"
        if pct <= -TARGET_LOW:
            return "low"
        return "missed"


@dataclass(frozen=True)
class Progress:
    period: Period
    base_period: Period
    measures: list[Measure]
    months: list[tuple[str, dict[str, int], dict[str, int]]]  # month, current, base
    entered: int  # district-months entered in the period
    entered_base: int


def _sums(districts: Iterable[str] | None, period: Period) -> dict[str, dict[str, int]]:
    """Per month (``YYYY-MM``), the sums of the three measures over the area."""
    first = date(period.start.year, period.start.month, 1)
    query = sa.select(
        AccidentFigure.month,
        sa.func.sum(AccidentFigure.crashes),
        sa.func.sum(AccidentFigure.deaths),
        sa.func.sum(AccidentFigure.injuries),
        sa.func.count(),
    ).where(AccidentFigure.month >= first, AccidentFigure.month <= period.end)
    if districts is not None:
        codes = sorted(districts)
        query = query.where(AccidentFigure.district_code.in_(codes) if codes else sa.false())
    out: dict[str, dict[str, int]] = {}
    for month, crashes, deaths, injuries, n in db.session.execute(
        query.group_by(AccidentFigure.month)
    ):
        day = month if isinstance(month, date) else date.fromisoformat(str(month)[:10])
        out[f"{day:%Y-%m}"] = {
            "crashes": int(crashes or 0),
            "deaths": int(deaths or 0),
            "injuries": int(injuries or 0),
            "rows": int(n),
        }
    return out


def progress(districts: Iterable[str] | None, period: Period, base_year: int) -> Progress:
    """The period's accident counts against the same months of ``base_year``."""
    base_period = period.shifted_to(base_year)
    cur, base = _sums(districts, period), _sums(districts, base_period)
    months = []
    for m, bm in zip(period.months(), base_period.months(), strict=False):
        months.append(
            (
                m,
                {k: cur.get(m, {}).get(k, 0) for k in MEASURES},
                {k: base.get(bm, {}).get(k, 0) for k in MEASURES},
            )
        )
    measures = [
        Measure(k, sum(v.get(k, 0) for v in cur.values()), sum(v.get(k, 0) for v in base.values()))
        for k in MEASURES
    ]
    return Progress(
        period=period,
        base_period=base_period,
        measures=measures,
        months=months,
        entered=sum(v["rows"] for v in cur.values()),
        entered_base=sum(v["rows"] for v in base.values()),
    )


def recent_figures(districts: Iterable[str] | None, limit: int = 60) -> list[AccidentFigure]:
    """The latest months entered in the area, newest month first."""
    query = sa.select(AccidentFigure).order_by(
        AccidentFigure.month.desc(), AccidentFigure.district_code
    )
    if districts is not None:
        codes = sorted(districts)
        query = query.where(AccidentFigure.district_code.in_(codes) if codes else sa.false())
    return list(db.session.scalars(query.limit(limit)))
