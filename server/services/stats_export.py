"""The periodic review as files: an XLSX workbook and a CSV of cases (issue 13).

* :func:`workbook`: the nine-month or yearly review ("Báo cáo sơ kết 9 tháng",
  "Báo cáo tổng kết năm"), one sheet per table of the dashboard, Vietnamese headings,
  each sheet naming the unit and the period (openpyxl, write-only).
* :func:`cases_csv`: one line per case of the period for analysts (UTF-8 with a BOM so
  that spreadsheet programs read the Vietnamese names; stable snake_case column names).

Neither ever holds an informant's identity or an officer's name: they are built only
from :mod:`.stats` and :mod:`.accidents` results, which carry none (and the workbook's
last sheet, the custody trail's head: a number and a hash).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from .. import catalogue
from ..reasons import REJECT_REASONS, STATUS_TEXT
from . import districts
from .accidents import Progress
from .custody import Head
from .stats import LOCAL_OFFSET, Comparison, Period

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


def violation_vi(code: str) -> str:
    found = catalogue.by_code().get(code)
    return found["name_vi"] if found else "Hành vi vi phạm chưa rõ"


def district_vi(code: str | None) -> tuple[str, str]:
    """``(district name, province name)``; empty names for an unknown or missing code."""
    info = districts.area_info(code) if code else None
    return (info.name, info.province_name) if info else ("Chưa xác định địa bàn", "")


def status_vi(code: str) -> str:
    return STATUS_TEXT.get(code, ("Trạng thái chưa rõ", ""))[0]


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


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def _local(value: datetime | None) -> str:
    return "" if value is None else (value + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M")


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _share(part: int, total: int) -> float | None:
    return round(part / total * 100, 1) if total else None


Table = tuple[str, list[str], list[list[Any]]]  # sheet name, headings, rows


def _summary(both: Comparison) -> Table:
    cur = both.current
    prev = both.previous
    r = cur.reports
    c = cur.cases
    pr = prev.reports
    pc = prev.cases
    return (
        "Tổng hợp",
        ["Chỉ tiêu", "Kỳ này", "Cùng kỳ năm trước", "Tăng (+), giảm (-) %"],
        [
            ["Số phản ánh", r.total, pr.total, _change(r.total, pr.total)],
            ["Số vụ việc", c.total, pc.total, _change(c.total, pc.total)],
            [
                "Vụ việc đã xác minh vi phạm",
                c.verified,
                pc.verified,
                _change(c.verified, pc.verified),
            ],
            [
                "Vụ việc không được chấp nhận",
                c.rejected,
                pc.rejected,
                _change(c.rejected, pc.rejected),
            ],
            [
                "Vụ việc đang chờ xử lý",
                c.awaiting,
                pc.awaiting,
                _change(c.awaiting, pc.awaiting),
            ],
            [
                "Phản ánh của người dân",
                r.by_source.get("citizen", 0),
                pr.by_source.get("citizen", 0),
                None,
            ],
            [
                "Phản ánh của cán bộ",
                r.by_source.get("officer", 0),
                pr.by_source.get("officer", 0),
                None,
            ],
            [
                "Thời gian đến quyết định, trung vị (giờ)",
                _hours(cur.times.median_hours),
                _hours(prev.times.median_hours),
                None,
            ],
            [
                "Thời gian đến quyết định, 90% phản ánh trong (giờ)",
                _hours(cur.times.p90_hours),
                _hours(prev.times.p90_hours),
                None,
            ],
            [
                "Biển số vi phạm nhiều lần",
                len(cur.repeat_offenders),
                len(prev.repeat_offenders),
                None,
            ],
        ],
    )


def _by_violation(both: Comparison) -> Table:
    cur = both.current
    prev = both.previous
    r = cur.reports
    c = cur.cases
    pr = prev.reports
    pc = prev.cases
    codes = sorted(
        set(r.by_violation) | set(pr.by_violation), key=lambda k: -r.by_violation.get(k, 0)
    )
    return (
        "Theo hành vi",
        [
            "Hành vi vi phạm",
            "Mã",
            "Phản ánh kỳ này",
            "Cùng kỳ năm trước",
            "Tăng, giảm %",
            "Vụ việc kỳ này",
            "Vụ việc cùng kỳ",
        ],
        [
            [
                violation_vi(k),
                k,
                r.by_violation.get(k, 0),
                pr.by_violation.get(k, 0),
                _change(r.by_violation.get(k, 0), pr.by_violation.get(k, 0)),
                c.by_violation.get(k, 0),
                pc.by_violation.get(k, 0),
            ]
            for k in codes
        ],
    )


def _by_district(both: Comparison) -> Table:
    cur = both.current
    prev = both.previous
    r = cur.reports
    c = cur.cases
    pr = prev.reports
    pc = prev.cases
    places = sorted(set(r.by_district) | set(c.by_district) | set(pr.by_district))
    return (
        "Theo địa bàn",
        [
            "Mã địa bàn",
            "Địa bàn",
            "Tỉnh, thành phố",
            "Phản ánh kỳ này",
            "Cùng kỳ năm trước",
            "Vụ việc kỳ này",
            "Vụ việc cùng kỳ",
        ],
        [
            [
                k or "",
                *district_vi(k or None),
                r.by_district.get(k, 0),
                pr.by_district.get(k, 0),
                c.by_district.get(k, 0),
                pc.by_district.get(k, 0),
            ]
            for k in places
        ],
    )


def _by_month(both: Comparison) -> Table:
    case_months = {m: (n, p) for m, n, p in both.aligned_months("cases")}
    return (
        "Theo tháng",
        ["Tháng", "Phản ánh", "Phản ánh cùng kỳ", "Vụ việc", "Vụ việc cùng kỳ"],
        [[f"{m[5:]}/{m[:4]}", n, p, *case_months[m]] for m, n, p in both.aligned_months()],
    )


def _by_week(both: Comparison) -> Table:
    return (
        "Theo tuần",
        ["Tuần (ISO)", "Phản ánh", "Phản ánh cùng tuần năm trước"],
        [[w, n, p] for w, n, p in both.aligned_weeks()],
    )


def _by_status(both: Comparison) -> Table:
    cur = both.current
    r = cur.reports
    c = cur.cases
    statuses = sorted(
        set(r.by_status) | set(c.by_status),
        key=lambda s: list(STATUS_TEXT).index(s) if s in STATUS_TEXT else 99,
    )
    return (
        "Trạng thái",
        ["Trạng thái", "Phản ánh", "Tỷ lệ phản ánh %", "Vụ việc", "Tỷ lệ vụ việc %"],
        [
            [
                status_vi(s),
                r.by_status.get(s, 0),
                _share(r.by_status.get(s, 0), r.total),
                c.by_status.get(s, 0),
                _share(c.by_status.get(s, 0), c.total),
            ]
            for s in statuses
        ],
    )


def _by_source(both: Comparison) -> Table:
    cur = both.current
    prev = both.previous
    r = cur.reports
    c = cur.cases
    pr = prev.reports
    return (
        "Nguồn",
        ["Nguồn phản ánh", "Phản ánh", "Cùng kỳ năm trước", "Vụ việc"],
        [
            [SOURCE_VI[s], r.by_source.get(s, 0), pr.by_source.get(s, 0), c.by_source.get(s, 0)]
            for s in SOURCE_VI
        ],
    )


def _rejection_reasons(both: Comparison) -> Table:
    cur = both.current
    r = cur.reports
    c = cur.cases
    reasons = sorted(set(r.rejected_by_reason) | set(c.rejected_by_reason))
    return (
        "Lý do từ chối",
        ["Lý do", "Phản ánh", "Vụ việc"],
        [
            [reason_vi(k), r.rejected_by_reason.get(k, 0), c.rejected_by_reason.get(k, 0)]
            for k in reasons
        ],
    )


def _decision_times(both: Comparison) -> Table:
    cur = both.current
    prev = both.previous
    return (
        "Thời gian xử lý",
        ["Chỉ tiêu", "Kỳ này", "Cùng kỳ năm trước"],
        [
            ["Số phản ánh đã có quyết định", cur.times.count, prev.times.count],
            ["Trung vị (giờ)", _hours(cur.times.median_hours), _hours(prev.times.median_hours)],
            [
                "90% phản ánh có quyết định trong (giờ)",
                _hours(cur.times.p90_hours),
                _hours(prev.times.p90_hours),
            ],
        ],
    )


def _repeat_offenders(both: Comparison) -> Table:
    cur = both.current
    return (
        "Vi phạm nhiều lần",
        ["Biển số", "Số vụ việc đã xác minh", "Lần vi phạm gần nhất"],
        [[o.plate_display, o.cases, _local(o.last_at)] for o in cur.repeat_offenders],
    )


def _accidents(accidents: Progress) -> Table:
    rows: list[list[Any]] = [
        [
            MEASURE_VI[m.name],
            m.current,
            m.base,
            None if m.change_pct is None else round(m.change_pct, 1),
            TARGET_VI[m.target],
        ]
        for m in accidents.measures
    ]
    rows.append([])
    rows.append(
        [
            "Tháng",
            "Số vụ",
            "Số vụ năm cơ sở",
            "Người chết",
            "Người chết năm cơ sở",
            "Người bị thương",
            "Người bị thương năm cơ sở",
        ]
    )
    for month, now, base in accidents.months:
        rows.append(
            [
                f"{month[5:]}/{month[:4]}",
                now["crashes"],
                base["crashes"],
                now["deaths"],
                base["deaths"],
                now["injuries"],
                base["injuries"],
            ]
        )
    return (
        "Tai nạn giao thông",
        [
            "Chỉ tiêu",
            "Kỳ này",
            f"Năm cơ sở {accidents.base_period.start.year}",
            "Tăng (+), giảm (-) %",
            "Đánh giá (mục tiêu giảm 5-10%)",
        ],
        rows,
    )


SHEETS: tuple[Callable[[Comparison], Table], ...] = (
    _summary,
    _by_violation,
    _by_district,
    _by_month,
    _by_week,
    _by_status,
    _by_source,
    _rejection_reasons,
    _decision_times,
    _repeat_offenders,
)


def _custody(head: Head, server_key: tuple[str, str] | None = None) -> Table:
    """The custody trail's head when the workbook was made: printed, it anchors the chain
    (a later rewrite of the whole chain no longer shows this hash at this entry); with
    ``server_key`` (key id, SPKI base64), the key that signs evidence packages."""
    rows: list[list[Any]] = [
        ["Số thứ tự mục cuối của chuỗi lưu vết chứng cứ", head.seq],
        ["Mã băm SHA-256 của mục cuối", head.hash],
        ["Mã đối chiếu (SỐ:MÃ BĂM)", str(head)],
        ["Cách kiểm tra", f"flask --app wsgi audit verify --anchor {head}"],
    ]
    if server_key is not None:
        rows += [
            ["Mã khóa ký của máy chủ (Ed25519)", server_key[0]],
            ["Khóa công khai của máy chủ (SPKI, base64)", server_key[1]],
        ]
    return ("Chuỗi lưu vết", ["Chỉ tiêu", "Giá trị"], rows)


def tables(
    both: Comparison,
    accidents: Progress | None,
    custody_head: Head | None = None,
    server_key: tuple[str, str] | None = None,
) -> list[Table]:
    """Every table of the review: ``(sheet name, headings, rows)``, one function a sheet."""
    out = [sheet(both) for sheet in SHEETS]
    if accidents is not None:
        out.append(_accidents(accidents))
    if custody_head is not None:
        out.append(_custody(custody_head, server_key))
    return out


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
    with ``custody_head``, a last sheet anchoring the custody trail (:mod:`.custody`)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    period, earlier = both.current.period, both.previous.period
    title = review_title(kind, period)
    bold, big = Font(bold=True), Font(bold=True, size=13)
    for name, headings, rows in tables(both, accidents, custody_head, server_key):
        sheet = book.create_sheet(title=name[:31])
        sheet.column_dimensions["A"].width = 44
        for col in "BCDEFG":
            sheet.column_dimensions[col].width = 20
        head = WriteOnlyCell(sheet, value=title.upper())
        head.font = big
        sheet.append([head])
        sheet.append([f"Đơn vị: {unit}"])
        sheet.append(
            [f"Kỳ báo cáo: từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"]
        )
        sheet.append(
            [f"So sánh cùng kỳ: từ ngày {earlier.start:%d/%m/%Y} đến ngày {earlier.end:%d/%m/%Y}"]
        )
        sheet.append([f"Bảng: {name}. Lập lúc {(now + LOCAL_OFFSET):%H:%M ngày %d/%m/%Y}"])
        sheet.append([])
        cells = []
        for text in headings:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append(row)
        if not rows:
            sheet.append(["Không có số liệu trong kỳ"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def cases_csv(
    rows: Iterable[Mapping[str, Any]],
    name_of: Callable[[str | None], tuple[str, str]] = district_vi,
) -> Iterator[str]:
    """The analysts' CSV of cases, streamed line by line (first a BOM and the headings)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")

    def line(values: Iterable[Any]) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_safe(v) for v in values])
        return buf.getvalue()

    yield "\ufeff" + line(CSV_COLUMNS)
    for row in rows:
        decided, received = row["decided_at"], row["received_at"]
        hours = None
        if decided is not None and received is not None:
            hours = round(max(timedelta(0), decided - received).total_seconds() / 3600, 2)
        district, province = name_of(row["district_code"])
        yield line(
            [
                row["case_id"],
                row["district_code"] or "",
                district,
                province,
                row["violation"],
                violation_vi(row["violation"]),
                _local(row["captured_at"]),
                _local(received),
                _local(decided),
                "" if hours is None else hours,
                row["status"],
                status_vi(row["status"]),
                row["source"],
                row["report_count"],
                row["plate_display"] or "",
            ]
        )
