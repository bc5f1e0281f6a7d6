"""The console's case page in Chromium: the evidence checklist beside the evidence, and the
"Tải gói bằng chứng" button (issue 16, items 4 and 5).

A reviewer opens a case of two reports of one parked car, photos three minutes apart: the
checklist says the plate and the place are for the reviewer to check and "two photos some
minutes apart" is missing; axe-core finds nothing critical or serious. The button
downloads the case's ZIP, and the offline verifier (``sync.verify``) calls it valid; the
package holds the custody entry of the second report's automatic join. The screenshot
goes to test-artifacts/screenshots/console-checklist.png (docs/screenshots/ with
UPDATE_DOC_SCREENSHOTS=1).
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from pathlib import Path

from flask import Flask

from sync import verify
from tests.browser.axe import axe_violations, blocking
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.test_console import PASSWORD, build_world

pytestmark = BROWSER


def test_case_page_checklist_and_evidence_package_download_verifies(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path, tmp_path: Path
) -> None:
    world = build_world(app, app.test_client())
    case_id = world.cases["A"]
    context = browser.new_context(
        base_url=rw_server.url,
        viewport={"width": 1366, "height": 900},
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        accept_downloads=True,
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    try:
        page = context.new_page()
        page.goto("/console/login?lang=vi")
        page.fill("input[name=username]", "rev_a")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/console/queue")
        page.goto(f"/console/cases/{case_id}")

        section = page.locator("#evidence-checklist")
        statuses = {
            li.get_attribute("data-code"): (li.get_attribute("data-status"), li.inner_text())
            for li in section.locator("li").all()
        }
        assert statuses == {
            "PLATE_READABLE": ("to_check", "? Biển số đọc được rõ · Cán bộ kiểm tra"),
            "TWO_PHOTOS_APART": ("not_met", "! Hai ảnh cách nhau vài phút · Còn thiếu"),
            "PLACE_VISIBLE": (
                "to_check",
                "? Thấy rõ vị trí (vạch, vỉa hè, giao lộ) · Cán bộ kiểm tra",
            ),
        }
        found = blocking(axe_violations(page))
        assert not found, found
        # The checklist at the top, the reports' photos below it.
        section.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + scrollY - 16)")
        page.wait_for_timeout(150)
        page.screenshot(path=str(screenshots_dir / "console-checklist.png"))
        publish_screenshot(screenshots_dir, "console-checklist.png")

        with page.expect_download() as info:
            page.click("#evidence-package-form button[type=submit]")
        download = info.value
        assert download.suggested_filename == f"goi-bang-chung-{case_id[:8]}.zip"
        path = tmp_path / download.suggested_filename
        download.save_as(path)
    finally:
        context.close()

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([str(path)])
    assert (code, out.getvalue().strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), out.getvalue()
    with zipfile.ZipFile(path) as zf:
        entries = [json.loads(line) for line in zf.read("custody/entries.jsonl").splitlines()]
        assert json.loads(zf.read("manifest.json"))["case_id"] == case_id
    joins = [e["content"] for e in entries if e["kind"] == "case_joined"]
    assert [(j["report_id"], j["match_report_id"]) for j in joins] == [
        (world.reports["a2"], world.reports["a1"])
    ]
