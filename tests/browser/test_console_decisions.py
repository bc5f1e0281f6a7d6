"""The decision flow in Chromium at 1280×800: the queue with waiting cases first and a
bulk reject, keyboard shortcuts for the decision buttons, verify without a penalty
number, the penalty decision added later, and the decided, locked case with its verdict
at the top.

Screenshots go to test-artifacts/screenshots/; with UPDATE_DOC_SCREENSHOTS=1 the queue
and the decided case are copied to docs/screenshots/console-queue.png and
console-case-decided.png.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.test_console import BA_DINH, DONG_DA, PASSWORD, build_world, send

pytestmark = BROWSER

SCREEN = {"width": 1280, "height": 800}


def _page(browser, url: str):
    context = browser.new_context(
        base_url=url, viewport=SCREEN, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "rev_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    return context, page


def test_a_reviewer_decides_with_shortcuts_and_the_penalty_follows(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    client = app.test_client()
    world = build_world(app, client)
    context, page = _page(browser, rw_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"/console/cases/{world.cases['A']}")
    page.wait_for_function(  # its first photo seen (or none to see): no "unseen" question
        "() => !document.querySelector('#evidence-first .first-photo img')"
        " || document.querySelector('#evidence-first[data-seen]')"
    )
    assert "Kết luận: Chờ xử lý" in page.locator("#verdict").inner_text()
    assert "Phím tắt" in page.locator("#shortcuts").inner_text()
    # R reaches the reject form's reason list, I the information form's, V the verify form.
    page.locator("h1").click()
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.closest('form').id") == "reject-form"
    page.locator("h1").click()
    page.keyboard.press("i")
    assert page.evaluate("document.activeElement.closest('form').id") == "info-form"
    # Typing in a field never triggers a shortcut.
    page.fill("#info-form input[name=public_note]", "r")
    assert page.evaluate("document.activeElement.name") == "public_note"
    page.locator("h1").click()
    page.keyboard.press("v")
    assert page.evaluate("document.activeElement.name") == "penalty_no"
    # Verify without a penalty number: Enter sends it, after the two-reporters question.
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash.ok")
    banner = page.locator("#verdict").inner_text()
    assert "Đã xác minh vi phạm, chờ quyết định xử phạt" in banner and "Reviewer A" in banner
    assert page.locator("#verify-form").count() == 0 and page.locator("#locked-note").count() == 1

    # The penalty decision number, later.
    page.fill("#penalty-form input[name=penalty_no]", "QĐ-0421/2026")
    page.click("#penalty-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    banner = page.locator("#verdict").inner_text()
    assert "Kết luận: Đã ra quyết định xử phạt" in banner
    assert "Số quyết định xử phạt: QĐ-0421/2026" in banner
    assert page.locator("article.report .s-penalty_issued").count() == 2
    page.wait_for_selector("#map[data-boundary-drawn='1']")  # the district's outline
    page.screenshot(path=str(screenshots_dir / "console-case-decided.png"))
    assert errors == []
    context.close()
    publish_screenshot(screenshots_dir, "console-case-decided.png")


def test_the_queue_puts_waiting_cases_first_and_rejects_several_at_once(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    client = app.test_client()
    world = build_world(app, client)
    extra = [
        send(client, DONG_DA, plate=plate, minutes=90 + 30 * i)[0]
        for i, plate in enumerate(("51F-222.33", "29C-246.80"))
    ]
    send(client, BA_DINH, plate="30F-999.00")  # another district: never in rev_a's queue
    context, page = _page(browser, rw_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 4
    assert page.locator("nav.states a[aria-current=page]").inner_text() == "Chờ xử lý"
    page.screenshot(path=str(screenshots_dir / "console-queue.png"))

    # Tick the two new cases, reject them as duplicates: the browser asks first.
    for rid in extra:
        case_id = world.case_of_report(rid)
        page.check(f"input.pick[value^='{case_id}:']")
    page.select_option("#bulk-form select[name=reason_code]", "duplicate")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert "Đã từ chối 2 vụ việc." in page.locator(".flash.ok").inner_text()
    assert asked and "Từ chối các vụ việc đã chọn?" in asked[0]
    assert rows.count() == 2  # the waiting ones only

    page.click("nav.states >> text=Đã kết luận")
    page.wait_for_url("**state=decided**")
    assert rows.count() == 2
    assert all("Đã từ chối" in rows.nth(i).inner_text() for i in range(2))
    assert page.locator("input.pick").count() == 0  # a decided case cannot be ticked
    assert errors == []
    context.close()
    publish_screenshot(screenshots_dir, "console-queue.png")
