"""The periodic review as an XLSX workbook ("Báo cáo sơ kết 9 tháng", "Báo cáo tổng kết
năm"): one sheet per table of :mod:`.review_tables`, each set up the same way here
(Vietnamese title, unit, period, the period compared, the time it was made, headings)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from ..accidents import Progress
from ..custody import Head
from .periods import LOCAL_OFFSET, Period
from .results import Comparison
from .review_tables import Table, tables
from .words import review_title

FIRST_COLUMN_WIDTH = 44
COLUMN_WIDTH = 20
SHEET_NAME_MAX = 31  # Excel's limit
NO_DATA = "Không có số liệu trong kỳ"


def _days(period: Period) -> str:
    return f"từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"


def _preamble(both: Comparison, unit: str, now: datetime) -> list[str]:
    """The lines under the title, the same on every sheet (the table's name follows)."""
    return [
        f"Đơn vị: {unit}",
        f"Kỳ báo cáo: {_days(both.current.period)}",
        f"So sánh cùng kỳ: {_days(both.previous.period)}",
        f"Lập lúc {(now + LOCAL_OFFSET):%H:%M ngày %d/%m/%Y}",
    ]


def _write_sheet(book: Any, title: str, preamble: list[str], table: Table) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    name, headings, rows = table
    sheet = book.create_sheet(title=name[:SHEET_NAME_MAX])
    sheet.column_dimensions["A"].width = FIRST_COLUMN_WIDTH
    for col in "BCDEFG":
        sheet.column_dimensions[col].width = COLUMN_WIDTH

    def bold(value: str, size: int | None = None) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True, size=size)
        return cell

    sheet.append([bold(title.upper(), 13)])
    *lines, made = preamble
    for line in lines:
        sheet.append([line])
    sheet.append([f"Bảng: {name}. {made}"])
    sheet.append([])
    sheet.append([bold(text) for text in headings])
    for row in rows:
        sheet.append(row)
    if not rows:
        sheet.append([NO_DATA])


def workbook(
    both: Comparison,
    accidents: Progress | None,
    *,
    kind: str,
    unit: str,
    now: datetime,
    custody_head: Head | None = None,
    server_key: tuple[str, str] | None = None,
) -> bytes:
    """The review as an XLSX file: one sheet per table, each naming unit and period;
    with ``custody_head``, a last sheet anchoring the custody trail (:mod:`..custody`)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    title = review_title(kind, both.current.period)
    preamble = _preamble(both, unit, now)
    for table in tables(both, accidents, custody_head, server_key):
        _write_sheet(book, title, preamble, table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
