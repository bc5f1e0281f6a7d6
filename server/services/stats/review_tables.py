"""The tables of the periodic review (issue 13): one sheet of the workbook each.

Table-driven: :data:`SHEETS` names every sheet of the dashboard's figures with its
headings and the function giving its rows; the two summary sheets are tables of
``(row heading, value of a period)`` read for this period and the same days a year
earlier. Built only from :mod:`.results`, :mod:`..accidents` and the custody head,
which carry no one's identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..accidents import Progress
from ..custody import Head
from .results import Breakdown, Comparison, Summary
from .words import (
    MEASURE_VI,
    SOURCE_VI,
    TARGET_VI,
    change,
    district_vi,
    hours,
    local_time,
    month_vi,
    reason_vi,
    share,
    status_order,
    status_vi,
    violation_vi,
)

Table = tuple[str, list[str], list[list[Any]]]  # sheet name, headings, rows
Rows = list[list[Any]]
Measure = Callable[[Summary], Any]


@dataclass(frozen=True)
class Sheet:
    name: str
    headings: tuple[str, ...]
    rows: Callable[[Comparison], Rows]

    def table(self, both: Comparison) -> Table:
        return (self.name, list(self.headings), self.rows(both))


def _sides(both: Comparison) -> tuple[Breakdown, Breakdown, Breakdown, Breakdown]:
    """Reports and cases of this period, then of the same days a year earlier."""
    cur, prev = both.current, both.previous
    return cur.reports, cur.cases, prev.reports, prev.cases


# (row heading, the value of a period, whether the change in per cent is shown)
SUMMARY_ROWS: tuple[tuple[str, Measure, bool], ...] = (
    ("Số phản ánh", lambda s: s.reports.total, True),
    ("Số vụ việc", lambda s: s.cases.total, True),
    ("Vụ việc đã xác minh vi phạm", lambda s: s.cases.verified, True),
    ("Vụ việc không được chấp nhận", lambda s: s.cases.rejected, True),
    ("Vụ việc đang chờ xử lý", lambda s: s.cases.awaiting, True),
    ("Phản ánh của người dân", lambda s: s.reports.by_source.get("citizen", 0), False),
    ("Phản ánh của cán bộ", lambda s: s.reports.by_source.get("officer", 0), False),
    (
        "Thời gian đến quyết định, trung vị (giờ)",
        lambda s: hours(s.times.median_hours),
        False,
    ),
    (
        "Thời gian đến quyết định, 90% phản ánh trong (giờ)",
        lambda s: hours(s.times.p90_hours),
        False,
    ),
    ("Biển số vi phạm nhiều lần", lambda s: len(s.repeat_offenders), False),
)
DECISION_ROWS: tuple[tuple[str, Measure], ...] = (
    ("Số phản ánh đã có quyết định", lambda s: s.times.count),
    ("Trung vị (giờ)", lambda s: hours(s.times.median_hours)),
    ("90% phản ánh có quyết định trong (giờ)", lambda s: hours(s.times.p90_hours)),
)


def _summary(both: Comparison) -> Rows:
    out = []
    for heading, measure, with_change in SUMMARY_ROWS:
        now, before = measure(both.current), measure(both.previous)
        out.append([heading, now, before, change(now, before) if with_change else None])
    return out


def _decision_times(both: Comparison) -> Rows:
    return [[heading, m(both.current), m(both.previous)] for heading, m in DECISION_ROWS]


def _by_violation(both: Comparison) -> Rows:
    r, c, pr, pc = _sides(both)
    codes = sorted(
        set(r.by_violation) | set(pr.by_violation), key=lambda k: -r.by_violation.get(k, 0)
    )
    return [
        [
            violation_vi(k),
            k,
            r.by_violation.get(k, 0),
            pr.by_violation.get(k, 0),
            change(r.by_violation.get(k, 0), pr.by_violation.get(k, 0)),
            c.by_violation.get(k, 0),
            pc.by_violation.get(k, 0),
        ]
        for k in codes
    ]


def _by_district(both: Comparison) -> Rows:
    r, c, pr, pc = _sides(both)
    places = sorted(set(r.by_district) | set(c.by_district) | set(pr.by_district))
    return [
        [
            k or "",
            *district_vi(k or None),
            r.by_district.get(k, 0),
            pr.by_district.get(k, 0),
            c.by_district.get(k, 0),
            pc.by_district.get(k, 0),
        ]
        for k in places
    ]


def _by_month(both: Comparison) -> Rows:
    case_months = {m: (n, p) for m, n, p in both.aligned_months("cases")}
    return [[month_vi(m), n, p, *case_months[m]] for m, n, p in both.aligned_months()]


def _by_week(both: Comparison) -> Rows:
    return [[w, n, p] for w, n, p in both.aligned_weeks()]


def _by_status(both: Comparison) -> Rows:
    r, c, _, _ = _sides(both)
    statuses = sorted(set(r.by_status) | set(c.by_status), key=status_order)
    return [
        [
            status_vi(s),
            r.by_status.get(s, 0),
            share(r.by_status.get(s, 0), r.total),
            c.by_status.get(s, 0),
            share(c.by_status.get(s, 0), c.total),
        ]
        for s in statuses
    ]


def _by_source(both: Comparison) -> Rows:
    r, c, pr, _ = _sides(both)
    return [
        [SOURCE_VI[s], r.by_source.get(s, 0), pr.by_source.get(s, 0), c.by_source.get(s, 0)]
        for s in SOURCE_VI
    ]


def _rejection_reasons(both: Comparison) -> Rows:
    r, c, _, _ = _sides(both)
    reasons = sorted(set(r.rejected_by_reason) | set(c.rejected_by_reason))
    return [
        [reason_vi(k), r.rejected_by_reason.get(k, 0), c.rejected_by_reason.get(k, 0)]
        for k in reasons
    ]


def _repeat_offenders(both: Comparison) -> Rows:
    return [
        [o.plate_display, o.cases, local_time(o.last_at)] for o in both.current.repeat_offenders
    ]


COMPARED = ("Cùng kỳ năm trước",)
SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Tổng hợp",
        ("Chỉ tiêu", "Kỳ này", *COMPARED, "Tăng (+), giảm (-) %"),
        _summary,
    ),
    Sheet(
        "Theo hành vi",
        ("Hành vi vi phạm", "Mã", "Phản ánh kỳ này", *COMPARED, "Tăng, giảm %")
        + ("Vụ việc kỳ này", "Vụ việc cùng kỳ"),
        _by_violation,
    ),
    Sheet(
        "Theo địa bàn",
        ("Mã địa bàn", "Địa bàn", "Tỉnh, thành phố", "Phản ánh kỳ này", *COMPARED)
        + ("Vụ việc kỳ này", "Vụ việc cùng kỳ"),
        _by_district,
    ),
    Sheet(
        "Theo tháng",
        ("Tháng", "Phản ánh", "Phản ánh cùng kỳ", "Vụ việc", "Vụ việc cùng kỳ"),
        _by_month,
    ),
    Sheet("Theo tuần", ("Tuần (ISO)", "Phản ánh", "Phản ánh cùng tuần năm trước"), _by_week),
    Sheet(
        "Trạng thái",
        ("Trạng thái", "Phản ánh", "Tỷ lệ phản ánh %", "Vụ việc", "Tỷ lệ vụ việc %"),
        _by_status,
    ),
    Sheet("Nguồn", ("Nguồn phản ánh", "Phản ánh", *COMPARED, "Vụ việc"), _by_source),
    Sheet("Lý do từ chối", ("Lý do", "Phản ánh", "Vụ việc"), _rejection_reasons),
    Sheet("Thời gian xử lý", ("Chỉ tiêu", "Kỳ này", *COMPARED), _decision_times),
    Sheet(
        "Vi phạm nhiều lần",
        ("Biển số", "Số vụ việc đã xác minh", "Lần vi phạm gần nhất"),
        _repeat_offenders,
    ),
)

ACCIDENT_MONTH_HEADINGS = [
    "Tháng",
    "Số vụ",
    "Số vụ năm cơ sở",
    "Người chết",
    "Người chết năm cơ sở",
    "Người bị thương",
    "Người bị thương năm cơ sở",
]
ACCIDENT_MEASURES = ("crashes", "deaths", "injuries")


def _accidents(accidents: Progress) -> Table:
    rows: Rows = [
        [
            MEASURE_VI[m.name],
            m.current,
            m.base,
            None if m.change_pct is None else round(m.change_pct, 1),
            TARGET_VI[m.target],
        ]
        for m in accidents.measures
    ]
    rows += [[], list(ACCIDENT_MONTH_HEADINGS)]
    for month, now, base in accidents.months:
        rows.append([month_vi(month), *(v for k in ACCIDENT_MEASURES for v in (now[k], base[k]))])
    headings = [
        "Chỉ tiêu",
        "Kỳ này",
        f"Năm cơ sở {accidents.base_period.start.year}",
        "Tăng (+), giảm (-) %",
        "Đánh giá (mục tiêu giảm 5-10%)",
    ]
    return ("Tai nạn giao thông", headings, rows)


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
    """Every table of the review: ``(sheet name, headings, rows)``."""
    out = [sheet.table(both) for sheet in SHEETS]
    if accidents is not None:
        out.append(_accidents(accidents))
    if custody_head is not None:
        out.append(_custody(custody_head, server_key))
    return out
