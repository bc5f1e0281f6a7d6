"""The statistics pages in Debian's Chromium with every non-loopback request refused: the
dashboard's charts (vendored Chart.js), the hotspot map over our own district outlines,
and the review workbook read back with openpyxl and shown as a table.

Screenshots go to test-artifacts/screenshots/console-stats*.png (1280 wide); the ones
looked at are copied to docs/screenshots/.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from flask import Flask
from openpyxl import load_workbook

from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, console_login
from tests.browser.test_console_map import VIEWPORT, _offline_context
from tests.test_stats import build_fixture
from tests.test_stats_console import _move

pytestmark = BROWSER



def test_dashboard_charts_hotspots_and_the_workbook(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    _move(app, build_fixture(app))
    refused: list[str] = []
    context = _offline_context(browser, rw_server.url, refused)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    console_login(page, "sup_01")

    page.goto("/console/stats?preset=9m&year=2026")
    for name in ("months", "violations", "status"):
        drawn = page.evaluate(
            "n => !!window.Chart.getChart(document.getElementById('chart-' + n))", name
        )
        assert drawn, name
    assert "Số phản ánh" in page.locator("#key-figures").inner_text()
    page.screenshot(path=str(screenshots_dir / "console-stats.png"), full_page=True)

    page.goto("/console/stats/hotspots?preset=9m&year=2026&cell=250")
    page.wait_for_selector("#hotspot-map .leaflet-overlay-pane path", state="attached")
    paths = page.locator("#hotspot-map .leaflet-overlay-pane path").count()
    assert paths >= 3  # district outlines and cells
    assert "Quận Đống Đa" in page.locator("#top-places").inner_text()
    page.screenshot(path=str(screenshots_dir / "console-stats-hotspots.png"))

    response = page.request.get("/console/stats/review.xlsx?preset=9m&year=2026")
    assert response.ok
    book = load_workbook(io.BytesIO(response.body()), read_only=True)
    sheet = book["Tổng hợp"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "BÁO CÁO SƠ KẾT 9 THÁNG ĐẦU NĂM 2026"
    cells = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(v if v is not None else ''))}</td>" for v in r)
        + "</tr>"
        for r in rows
    )
    page.set_content(
        "<html lang='vi'><body style='font:14px sans-serif'>"
        f"<p>review.xlsx · {', '.join(book.sheetnames)}</p>"
        f"<table border=1 cellspacing=0 cellpadding=4>{cells}</table></body></html>"
    )
    page.screenshot(path=str(screenshots_dir / "console-stats-xlsx.png"), full_page=True)
    assert refused == []
    assert errors == []
    context.close()


assert VIEWPORT["width"] == 1280
