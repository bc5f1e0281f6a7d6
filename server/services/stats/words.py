"""Vietnamese words and cell values of the exports (workbook and CSV).

The exports are for Vietnamese units: names, not codes (a code stands beside its name
where an analyst needs it). Nothing here names a person.
"""

from __future__ import annotations

from datetime import datetime

from ... import catalogue
from ...reasons import REJECT_REASONS, STATUS_TEXT
from .. import districts
from .periods import LOCAL_OFFSET, Period

SOURCE_VI = {"citizen": "Người dân", "officer": "Cán bộ"}
MEASURE_VI = {
    "crashes": "Số vụ tai nạn",
    "deaths": "Số người chết",
    "injuries": "Số người bị thương",
}
TARGET_VI = {
    "high": "Đạt mức giảm 10%",
    "low": "Đạt mức giảm 5%",
    "missed": "Chưa đạt",
    "unknown": "Chưa có số liệu năm cơ sở",
}


def violation_vi(code: str) -> str:
    found = catalogue.by_code().get(code)
    return found["name_vi"] if found else "Hành vi vi phạm chưa rõ"


def district_vi(code: str | None) -> tuple[str, str]:
    """``(district name, province name)``; empty names for an unknown or missing code."""
    info = districts.area_info(code) if code else None
    return (info.name, info.province_name) if info else ("Chưa xác định địa bàn", "")


def status_vi(code: str) -> str:
    return STATUS_TEXT.get(code, ("Trạng thái chưa rõ", ""))[0]


def status_order(code: str) -> int:
    """Statuses in the order of their words table (unknown ones last)."""
    return list(STATUS_TEXT).index(code) if code in STATUS_TEXT else 99


def reason_vi(code: str) -> str:
    return REJECT_REASONS.get(code, ("Lý do khác", ""))[0]


def review_title(kind: str, period: Period) -> str:
    """The workbook's title: the nine-month or yearly review, else a plain statistics
    report of the dates."""
    if kind == "9m":
        return f"Báo cáo sơ kết 9 tháng đầu năm {period.start.year}"
    if kind == "year":
        return f"Báo cáo tổng kết năm {period.start.year}"
    return f"Báo cáo thống kê từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"


def month_vi(month: str) -> str:
    """``2026-03`` as ``03/2026``."""
    return f"{month[5:]}/{month[:4]}"


def change(current: float | None, previous: float | None) -> float | None:
    """The change in per cent, one decimal; None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def local_time(value: datetime | None) -> str:
    return "" if value is None else (value + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M")


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def share(part: int, total: int) -> float | None:
    return round(part / total * 100, 1) if total else None
