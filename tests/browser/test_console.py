"""The review console in Debian's Chromium at a desktop size, against the live server:
log in, the queue, a case, verify, reject with a reason, reopen, forward, a supervisor's reveal
found in the admin's reveal log. Map tiles are blocked (no network in tests): the case
page must still work, with its list of coordinates.

Screenshots go to test-artifacts/screenshots/console-*.png; the case page is copied to
docs/screenshots/ when UPDATE_DOC_SCREENSHOTS=1 (the queue: test_console_decisions.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import Flask

from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, console_context, console_login
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID
from tests.test_console import build_world

pytestmark = BROWSER

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"




def _logout(page) -> None:
    page.click("header.top button[type=submit]")
    page.wait_for_url("**/console/login")


def test_reviewer_and_supervisor_work_through_the_console(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    client = app.test_client()
    world = build_world(app, client)
    context = console_context(browser, rw_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # A wrong password: the generic message.
    page.goto("/console/login")
    page.fill("input[name=username]", "rev_a")
    page.fill("input[name=password]", "wrong password")
    page.click("main button[type=submit]")
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in page.locator("#login-error").inner_text()

    console_login(page, "rev_a")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 2
    assert world.cases["A"][:8] in rows.nth(0).inner_text()  # two reports first
    page.screenshot(path=str(screenshots_dir / "console-queue.png"), full_page=True)

    # The case page: evidence decoded, the coordinates listed, the map drawn.
    rows.nth(0).locator("a.case-link").click()
    page.wait_for_url(f"**/console/cases/{world.cases['A']}")
    images = page.locator("figure img")
    for i in range(images.count()):  # lazy images load when they come into view
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    # Each report's photo, and the first of them again beside the decision (issue 26).
    assert page.locator("article.report figure img").count() == 2
    assert page.locator("#evidence-first figure img").count() == 1
    # a2's photo is stored 640x480 with EXIF orientation 6: shown upright, portrait.
    turned = page.locator(f"#r-{world.reports['a2']} figure img")
    w, h = turned.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert (w, h) == (480, 640)
    assert "Galaxy A54" in page.locator("table.exif").first.inner_text()
    assert page.locator("#points li").count() == 2
    assert page.locator("#map .leaflet-interactive").count() == 2  # one marker per report
    assert "Trùng biển số, hành vi vi phạm, nơi và giờ" in page.locator(".why").nth(1).inner_text()
    page.wait_for_selector("#map[data-boundary-drawn='1']")  # the district's outline, drawn
    page.screenshot(path=str(screenshots_dir / "console-case.png"), full_page=True)
    # The first photo beside the decision has been on screen: no "evidence unseen" question
    # (issue 26), so the only question is the one about the two reporters.
    page.locator("#evidence-first .first-photo img").scroll_into_view_if_needed()
    page.wait_for_selector("#evidence-first[data-seen='1']", state="attached")

    # Verify it, with the penalty decision number.
    page.fill("#verify-form input[name=penalty_no]", "QĐ-0421/2026")
    page.fill("#verify-form input[name=public_note]", "Đã lập biên bản, cảm ơn bạn.")
    # Two reporters: the page says so, and asks before sending.
    assert "sẽ gửi đến 2 người phản ánh" in page.locator("#decision-reach").inner_text()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert asked == ["Quyết định này sẽ gửi đến 2 người phản ánh. Tiếp tục?"]
    # The number came with the verification: both steps at once.
    assert page.locator("article.report .s-penalty_issued").count() == 2
    page.screenshot(path=str(screenshots_dir / "console-verified.png"), full_page=True)

    # Reject the other case with a reason from the list.
    page.goto(f"/console/cases/{world.cases['A3']}")
    page.wait_for_function(  # its first photo seen (or none to see): no "unseen" question
        "() => !document.querySelector('#evidence-first .first-photo img')"
        " || document.querySelector('#evidence-first[data-seen]')"
    )
    page.select_option("#reject-form select[name=reason_code]", "plate_unreadable")
    page.click("#reject-form button[type=submit]")
    page.wait_for_selector(".flash.ok")
    assert page.locator("article.report .s-rejected").count() == 1
    assert "Không đọc được biển số xe" in page.locator(".history").inner_text()

    # A rejected case is locked: reopening it takes a written reason; then forward it to
    # Ba Đình, and it leaves this reviewer's queue.
    assert page.locator("#forward-form").count() == 0
    page.fill("#reopen-form input[name=reason]", "Địa điểm thuộc quận Ba Đình, chuyển đi")
    page.click("#reopen-form button[type=submit]")
    page.wait_for_selector("#forward-form")
    page.select_option("#forward-form select[name=to_district]", "001")
    page.click("#forward-form button[type=submit]")
    page.wait_for_url("**/console/queue")
    assert world.cases["A3"][:8] not in page.locator("table.queue").inner_text()
    body = page.content()
    assert SECRET_NAME not in body and SECRET_NATIONAL_ID not in body
    _logout(page)

    # A supervisor reveals the informant of a1 with a written reason.
    console_login(page, "sup_hn")
    page.goto(f"/console/cases/{world.cases['A']}")
    assert SECRET_NAME not in page.content()
    page.locator(f"#r-{world.reports['a1']} a.reveal-link").click()
    page.fill("textarea[name=reason]", "Công văn 77/TA của Tòa án nhân dân quận Đống Đa")
    page.click("main button[type=submit]")
    identity = page.locator("#identity").inner_text()
    assert SECRET_NAME in identity and SECRET_NATIONAL_ID in identity
    page.screenshot(path=str(screenshots_dir / "console-reveal.png"), full_page=True)
    _logout(page)

    # The admin finds it in the reveal log, without the identity.
    console_login(page, "admin")
    page.click("header.top nav >> text=Nhật ký tiết lộ")
    log = page.locator("#reveal-log").inner_text()
    assert "Công văn 77/TA" in log and "Supervisor HN" in log and world.reports["a1"][:8] in log
    assert SECRET_NAME not in page.content()
    page.screenshot(path=str(screenshots_dir / "console-reveal-log.png"), full_page=True)

    assert errors == []
    context.close()
    if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":  # a test run leaves tracked files alone
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshots_dir / "console-case.png", DOCS / "console-case.png")
