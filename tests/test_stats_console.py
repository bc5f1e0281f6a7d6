"""The console's statistics (issue 13): dashboard, exports, accident figures.

The dashboard and exports are checked against the hand-computed fixture of
tests/test_stats.py, per role; no export ever names an informant (the named reports of
tests/test_console.build_world). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook

from server.extensions import db
from server.models import AccidentFigure, AuditLog
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE
from tests.test_console import build_world, post, session_for
from tests.test_console_i18n import raw_codes_in, visible
from tests.test_stats import build_fixture

NINE = "preset=9m&year=2026"
SECRETS = [s.encode() for s in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE)]
ROW_RE = r'<th scope="row">{label}</th><td class="num">([\d.]+)</td>'


def key_figure(page: str, label: str) -> int:
    match = re.search(ROW_RE.format(label=re.escape(label)), page)
    assert match, label
    return int(match.group(1).replace(".", ""))


# ---------------------------------------------------------------------------- dashboard

# user -> (reports, cases, district names shown, district names never shown)
DASHBOARD = {
    "root": (8, 6, ["Quận Đống Đa", "Quận Ba Đình"], []),
    "sup_01": (7, 5, ["Quận Đống Đa", "Quận Ba Đình"], ["Hà Giang"]),
    "sup_02": (1, 1, [], ["Quận Đống Đa", "Quận Ba Đình"]),
    "rev_006": (5, 4, ["Quận Đống Đa"], ["Quận Ba Đình", "Hà Giang"]),
    "rev_001": (2, 1, ["Quận Ba Đình"], ["Quận Đống Đa", "Hà Giang"]),
}


@pytest.mark.parametrize("username", list(DASHBOARD))
def test_dashboard_counts_only_what_the_user_may_see(app: Flask, username: str) -> None:
    build_fixture(app)
    reports, cases, shown, hidden = DASHBOARD[username]
    page = session_for(app, username).get(f"/console/stats?{NINE}").get_data(as_text=True)
    assert key_figure(page, "Số phản ánh") == reports
    assert key_figure(page, "Số vụ việc") == cases
    tables = page[page.index('id="by-district"') :]
    for name in shown:
        assert name in tables
    for name in hidden:
        assert name not in tables
    assert raw_codes_in(visible(page)) == []


@pytest.mark.parametrize(
    ("username", "area", "reports"),
    [
        ("rev_006", "024", 5),  # another province's district: ignored
        ("rev_006", "001", 5),  # a neighbour's district: ignored
        ("sup_01", "p:02", 7),  # another province: ignored
        ("sup_01", "001", 2),  # one of the province's districts
        ("sup_01", "p:01", 7),
        ("root", "p:02", 1),
        ("root", "006", 5),
        ("root", "' OR 1=1 --", 8),
    ],
)
def test_an_area_outside_the_users_scope_is_ignored(
    app: Flask, username: str, area: str, reports: int
) -> None:
    build_fixture(app)
    c = session_for(app, username)
    page = c.get("/console/stats", query_string={"preset": "9m", "year": "2026", "area": area})
    assert page.status_code == 200
    assert key_figure(page.get_data(as_text=True), "Số phản ánh") == reports


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=2026-01-01&to=2026-09-30", 200),
        ("from=2026-13-45&to=2026-09-30&year=2026", 200),  # a bad date: the preset is used
        ("year=abc&preset=nonsense", 200),
        ("year=99999999999999999999", 200),
        ("base=-3", 200),
        ("from=2026-09-30&to=2026-01-01", 400),  # backwards
        ("from=2000-01-01&to=2026-01-01", 400),  # too long
    ],
)
def test_bad_query_arguments_are_ignored_or_a_400_page(app: Flask, query: str, status: int) -> None:
    build_fixture(app)
    c = session_for(app, "sup_01")
    for path in ("/console/stats", "/console/stats/review.xlsx", "/console/stats/cases.csv"):
        resp = c.get(f"{path}?{query}")
        assert resp.status_code == status, path
        if status == 400:
            assert "text/html" in resp.content_type  # the console's error page


def test_a_custom_period_and_a_year_earlier(app: Flask) -> None:
    build_fixture(app)
    c = session_for(app, "rev_006")
    page = c.get("/console/stats?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert key_figure(page, "Số phản ánh") == 2
    assert "01/01/2025 – 31/01/2025" in page
    assert 'data-chart="months"' in page and "vendor/chartjs/chart.umd.min.js" in page


def test_the_dashboard_speaks_english_on_the_switch(app: Flask) -> None:
    build_fixture(app)
    c = session_for(app, "root")
    page = c.get(f"/console/stats?{NINE}&lang=en").get_data(as_text=True)
    assert "Reports and cases in figures" in page and "Thống kê phản ánh" not in page
    assert "3.5 h" in page  # the median hours, English decimals
    vi = c.get(f"/console/stats?{NINE}&lang=vi").get_data(as_text=True)
    assert "3,5 giờ" in vi


def test_repeat_offenders_are_listed_for_their_district(app: Flask) -> None:
    build_fixture(app)
    page = session_for(app, "rev_006").get(f"/console/stats?{NINE}").get_data(as_text=True)
    table = page[page.index('id="repeat-offenders"') :]
    assert "30A-111.11" in table[: table.index("</table>")]
    other = session_for(app, "rev_001").get(f"/console/stats?{NINE}").get_data(as_text=True)
    assert "30A-111.11" not in other


# ---------------------------------------------------------------------------- exports


def _workbook(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_review_workbook_has_a_sheet_per_table_in_vietnamese(app: Flask) -> None:
    build_fixture(app)
    resp = session_for(app, "sup_01").get(f"/console/stats/review.xlsx?{NINE}")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    sheets = _workbook(resp.data)
    assert list(sheets)[:3] == ["Tổng hợp", "Theo hành vi", "Theo địa bàn"]
    assert {
        "Theo tháng",
        "Theo tuần",
        "Trạng thái",
        "Nguồn",
        "Lý do từ chối",
        "Thời gian xử lý",
        "Vi phạm nhiều lần",
        "Tai nạn giao thông",
    } <= set(sheets)
    for name, rows in sheets.items():
        assert rows[0][0] == "BÁO CÁO SƠ KẾT 9 THÁNG ĐẦU NĂM 2026", name
        assert rows[1][0] == "Đơn vị: Công an Thành phố Hà Nội", name
        assert rows[2][0] == "Kỳ báo cáo: từ ngày 01/01/2026 đến ngày 30/09/2026", name
    summary = {row[0]: row[1:] for row in sheets["Tổng hợp"][7:]}
    assert summary["Số phản ánh"][:2] == (7, 2)
    assert summary["Số vụ việc"][:2] == (5, 2)
    assert summary["Thời gian đến quyết định, trung vị (giờ)"][0] == 4  # 2, 3, 4, 6, 10
    by_district = {row[0]: row for row in sheets["Theo địa bàn"][7:]}
    assert by_district["006"][1:4] == ("Quận Đống Đa", "Thành phố Hà Nội", 5)
    assert "024" not in by_district
    repeat = sheets["Vi phạm nhiều lần"][7:]
    assert [r[:2] for r in repeat] == [("30A-111.11", 2)]


def test_the_yearly_review_is_named_so(app: Flask) -> None:
    build_fixture(app)
    resp = session_for(app, "root").get("/console/stats/review.xlsx?preset=year&year=2026")
    sheets = _workbook(resp.data)
    assert sheets["Tổng hợp"][0][0] == "BÁO CÁO TỔNG KẾT NĂM 2026"
    assert sheets["Tổng hợp"][1][0] == "Đơn vị: Toàn quốc"


@pytest.mark.parametrize(("username", "cases"), [("rev_006", 4), ("rev_001", 1), ("root", 6)])
def test_the_cases_csv_per_scope(app: Flask, username: str, cases: int) -> None:
    build_fixture(app)
    resp = session_for(app, username).get(f"/console/stats/cases.csv?{NINE}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeffcase_id,")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == cases
    if username == "rev_001":
        assert rows[0]["hours_to_decision"] == "6.0"
        assert rows[0]["status_name"] == "Không được chấp nhận"


def _xlsx_text(data: bytes) -> bytes:
    """Every XML part of the workbook, decompressed: where a leak would be."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(name) for name in z.namelist())


@pytest.mark.parametrize("username", ["rev_a", "sup_hn", "admin"])
def test_no_export_names_an_informant_or_an_officer(
    app: Flask, client: FlaskClient, username: str
) -> None:
    world = build_world(app, client)
    c = session_for(app, username)
    post(
        session_for(app, "rev_a"),
        f"/console/cases/{world.cases['A3']}/decide",
        {"kind": "reject", "reason_code": "not_a_violation"},
    )
    query = "from=2026-01-01&to=2026-12-31"
    xlsx = c.get(f"/console/stats/review.xlsx?{query}")
    csv_resp = c.get(f"/console/stats/cases.csv?{query}")
    page = c.get(f"/console/stats?{query}")
    assert xlsx.status_code == csv_resp.status_code == page.status_code == 200
    content = _xlsx_text(xlsx.data)
    assert b"Qu\xe1\xba\xadn \xc4\x90\xe1\xbb\x91ng \xc4\x90a" in content  # the workbook has data
    assert len(csv_resp.get_data(as_text=True).splitlines()) >= 3  # headings and cases
    for data in (content, csv_resp.data, page.data):
        assert [s for s in SECRETS if s in data] == []
        assert "Thiếu úy Trần Văn Cảnh".encode() not in data  # the officer's name


# ---------------------------------------------------------------------------- accidents


def _figures(app: Flask) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AccidentFigure).order_by(AccidentFigure.district_code, AccidentFigure.month)
        )
        return [
            (f.district_code, f.month.isoformat(), f.crashes, f.deaths, f.injuries) for f in rows
        ]


@pytest.mark.parametrize(
    ("username", "district", "status", "stored"),
    [
        ("sup_01", "006", 302, True),
        ("root", "024", 302, True),
        ("sup_02", "006", 422, False),  # another province
        ("sup_01", "X99", 422, False),  # no such district
        ("rev_006", "006", 403, False),  # reviewers only read
    ],
)
def test_entering_one_month_by_hand(
    app: Flask, username: str, district: str, status: int, stored: bool
) -> None:
    build_fixture(app)
    c = session_for(app, username)
    form = {
        "district": district,
        "month": "2026-03",
        "crashes": "4",
        "deaths": "1",
        "injuries": "5",
    }
    assert post(c, "/console/stats/accidents", form).status_code == status
    assert bool(_figures(app)) is stored
    if stored:  # entering the month again corrects it
        post(c, "/console/stats/accidents", {**form, "crashes": "3"})
        assert _figures(app) == [(district, "2026-03-01", 3, 1, 5)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("month", "2026-13"), ("crashes", "-1"), ("deaths", "một"), ("injuries", "")],
)
def test_bad_figures_are_refused_with_a_message(app: Flask, field: str, value: str) -> None:
    build_fixture(app)
    c = session_for(app, "sup_01")
    form = {
        "district": "006",
        "month": "2026-03",
        "crashes": "4",
        "deaths": "1",
        "injuries": "5",
        field: value,
    }
    resp = post(c, "/console/stats/accidents", form)
    assert resp.status_code == 422 and 'id="form-error"' in resp.get_data(as_text=True)
    assert _figures(app) == []


def _upload(c: FlaskClient, name: str, data: bytes):
    with c.session_transaction() as s:
        token = s["csrf"]
    return c.post(
        "/console/stats/accidents/import",
        data={"csrf_token": token, "sheet": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


GOOD_CSV = (
    "Mã địa bàn,Tháng,Số vụ,Số người chết,Số người bị thương\n"
    "006,01/2025,10,2,12\n"
    "006,2026-01,9,1,10\n"
    "001,2026-02,5,0,4\n"
)


def test_a_good_sheet_is_imported_whole(app: Flask) -> None:
    build_fixture(app)
    c = session_for(app, "sup_01")
    resp = _upload(c, "tai-nan.csv", GOOD_CSV.encode())
    assert resp.status_code == 302
    assert _figures(app) == [
        ("001", "2026-02-01", 5, 0, 4),
        ("006", "2025-01-01", 10, 2, 12),
        ("006", "2026-01-01", 9, 1, 10),
    ]
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(AuditLog.detail).where(AuditLog.action == "accidents_imported")
            )
            == "3 rows"
        )


BAD_ROWS = (
    "district,month,crashes,deaths,injuries\n"
    "006,2026-01,9,1,10\n"  # line 2: fine
    "024,2026-01,1,1,1\n"  # line 3: another province
    "006,2026-14,1,1,1\n"  # line 4: no such month
    "\n"  # line 5: blank, skipped
    "006,2026-02,x,1,1\n"  # line 6: not a number
    "006,2026-01,2,2,2\n"  # line 7: the same district and month as line 2
    "X77,2026-01,1,1,1\n"  # line 8: no such district
)


def test_a_sheet_with_bad_rows_lists_them_and_writes_nothing(app: Flask) -> None:
    build_fixture(app)
    c = session_for(app, "sup_01")
    resp = _upload(c, "tai-nan.csv", BAD_ROWS.encode())
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    errors = page[page.index('id="sheet-errors"') :]
    for line, words in (
        (3, "Địa bàn ngoài phạm vi"),
        (4, "Tháng không hợp lệ"),
        (6, "phải là số nguyên không âm"),
        (7, "Trùng địa bàn và tháng"),
        (8, "Không có mã địa bàn này"),
    ):
        assert re.search(rf"Dòng {line}: [^<]*{words}", errors), line
    assert "Dòng 2:" not in errors and "Dòng 5:" not in errors
    assert _figures(app) == []  # not even line 2


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        (
            "a.xlsx",
            _xlsx(
                [["district", "month", "crashes", "deaths", "injuries"], [6, "2026-03", 3, 0, 2]]
            ),
            302,
            None,
        ),  # 6: "006" as a number
        ("a.xlsx", b"PK\x03\x04 not really a workbook", 422, "Không đọc được tệp"),
        ("a.csv", b"006;2026-01;1;1;1\n", 422, "Dòng tiêu đề thiếu cột"),
        ("a.csv", b"district,month,crashes,deaths,injuries\n", 422, "không có dòng"),
        ("a.csv", "district,month\n006,2026-01\n".encode("utf-16"), 422, "UTF-8"),
    ],
    # Named, not by their bytes: a workbook's zip holds its save time, and every test
    # process (pytest-xdist) must collect the same test ids.
    ids=["workbook", "not-a-workbook", "no-header", "no-rows", "utf-16"],
)
def test_xlsx_sheets_and_unreadable_files(
    app: Flask, name: str, data: bytes, status: int, message: str | None
) -> None:
    build_fixture(app)
    resp = _upload(session_for(app, "sup_01"), name, data)
    assert resp.status_code == status
    if message:
        assert message in resp.get_data(as_text=True)
    else:
        assert _figures(app) == [("006", "2026-03-01", 3, 0, 2)]


@pytest.mark.parametrize(
    ("base", "current", "target"),
    [
        ((100, 10, 80), (89, 9, 72), ("Giảm từ 10% trở lên", "Giảm từ 10% trở lên")),
        ((100, 10, 80), (94, 10, 76), ("Giảm từ 5% đến dưới 10%", "Chưa đạt mục tiêu giảm 5%")),
        ((100, 10, 80), (120, 12, 90), ("Chưa đạt mục tiêu giảm 5%", "Chưa đạt mục tiêu giảm 5%")),
    ],
)
def test_accident_progress_against_the_base_year(
    app: Flask, base: tuple, current: tuple, target: tuple
) -> None:
    build_fixture(app)
    c = session_for(app, "sup_01")
    for month, figures in (("2025-03", base), ("2026-03", current)):
        crashes, deaths, injuries = figures
        post(
            c,
            "/console/stats/accidents",
            {
                "district": "006",
                "month": month,
                "crashes": str(crashes),
                "deaths": str(deaths),
                "injuries": str(injuries),
            },
        )
    page = c.get(f"/console/stats?{NINE}&base=2025").get_data(as_text=True)
    table = page[page.index('id="accidents"') :]
    table = table[: table.index("</table>")]
    crashes_row = table[table.index("Số vụ tai nạn") :]
    assert f'<td class="num">{current[0]}</td><td class="num">{base[0]}</td>' in crashes_row
    assert target[0] in crashes_row.split("</tr>")[0]
    deaths_row = table[table.index("Số người chết") :].split("</tr>")[0]
    assert target[1] in deaths_row
    other = session_for(app, "sup_02").get(f"/console/stats?{NINE}&base=2025")
    assert "Chưa có số liệu năm cơ sở" in other.get_data(as_text=True)  # not Hà Nội's


# ---------------------------------------------------------------------------- hotspots

# Where some reports of the fixture were made instead (lat, lon): two cells in Đống Đa.
PLACES = {"r1": (21.0121, 105.8251), "r2": (21.0122, 105.8252), "r3": (21.0123, 105.8253),
          "r4": (21.0201, 105.8101), "r11": (21.0124, 105.8254)}  # fmt: skip


def _move(app: Flask, ids: dict[str, str]) -> None:
    from server.models import Report

    with app.app_context():
        for name, (lat, lon) in PLACES.items():
            report = db.session.get(Report, ids[name])
            report.lat, report.lon = lat, lon
        db.session.commit()


@pytest.mark.parametrize(
    ("username", "violation", "cells"),
    [
        ("rev_006", None, [4, 1]),  # r1, r2, r3, r11 share a 500 m cell; r4 is 1.5 km away
        ("rev_006", "RED_LIGHT", [1, 1]),
        ("rev_001", None, [2]),  # r5 and r6, both at the fixture's default place
        ("root", None, [4, 3, 1]),  # r5, r6 and r8 (another province, the same point)
    ],
)
def test_hotspot_cells_count_the_reports_made_in_them(
    app: Flask, username: str, violation: str | None, cells: list[int]
) -> None:
    from server.services import accounts, stats

    ids = build_fixture(app)
    _move(app, ids)
    with app.app_context():
        scope = accounts.districts_of(accounts.get_by_username(username))
        found = stats.hotspots(scope, stats.Period.nine_months(2026), violation=violation)
    assert [c.count for c in found] == cells
    if username == "rev_006" and violation is None:
        south, west = found[0].south, found[0].west
        assert south <= 21.0121 < south + 0.005 and west <= 105.8251 < west + 0.005


def test_the_hotspot_page_lists_top_places_over_district_outlines(app: Flask) -> None:
    ids = build_fixture(app)
    _move(app, ids)
    c = session_for(app, "rev_006")
    page = c.get(f"/console/stats/hotspots?{NINE}&cell=250").get_data(as_text=True)
    top = page[page.index('id="top-places"') :]
    assert "Quận Đống Đa, Thành phố Hà Nội" in top
    assert '"features": [{' in page or '"features":[{' in page  # the district's outline
    assert "vendor/leaflet/leaflet.js" in page and "unpkg" not in page
    assert raw_codes_in(visible(page)) == []
    for query in ("cell=7&violation=NOPE", "violation=' OR 1=1 --", "area=024"):
        assert c.get(f"/console/stats/hotspots?{NINE}&{query}").status_code == 200
