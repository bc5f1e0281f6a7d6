"""The queue's "Chờ bằng chứng" (awaiting evidence) view in Chromium at 1280×800 (issue 17.3).

Reports sent without their files are not in the default queue; the tab lists their
cases, each marked, with the expiry rule stated above the list. Screenshot:
test-artifacts/screenshots/queue-awaiting-evidence.png, copied to docs/screenshots/ with
UPDATE_DOC_SCREENSHOTS=1.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from server.settings import override
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.browser.test_console_decisions import _page
from tests.test_console import DONG_DA, build_world, send

pytestmark = BROWSER

SHOT = "queue-awaiting-evidence.png"


def test_cases_awaiting_evidence_have_their_own_marked_list(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    override(app, REPORT_EVIDENCE_EXPIRY_HOURS=72)
    client = app.test_client()
    world = build_world(app, client)
    waiting = []
    for plate, minutes in (("29C-246.80", 200), ("51G-135.79", 260)):
        rid, _ = send(
            client, DONG_DA, plate=plate, minutes=minutes, upload=False, api=world.citizen
        )
        waiting.append(world.case_of_report(rid)[:8])
    context, page = _page(browser, rw_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    default = page.locator("table.queue tbody").inner_text()
    assert world.cases["A"][:8] in default
    assert not any(case in default for case in waiting)

    page.get_by_role("link", name="Chờ bằng chứng").click()
    page.wait_for_url("**/console/queue?state=awaiting")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    for i in range(2):
        assert rows.nth(i).locator(".badge.awaiting-evidence").inner_text() == "Chờ bằng chứng"
    assert {rows.nth(i).locator("a.case-link").inner_text() for i in range(2)} == set(waiting)
    note = page.locator("p.awaiting-note").inner_text()
    assert "chưa nhận được ảnh/video" in note and "72 giờ" in note
    page.screenshot(path=str(screenshots_dir / SHOT))
    publish_screenshot(screenshots_dir, SHOT)
    assert errors == []
    context.close()
