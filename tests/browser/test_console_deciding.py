"""The case page made for deciding, in Chromium at 1280×800 (issue 26, item 5): the
evidence (first photo, plates, flags, map) is in the first screen beside the decision;
R reaches the reject form's reason list, the arrow keys choose, Enter sends; a decision
taken with the evidence never on screen asks once; after a decision the next case of the
queue opens with the decided one a link away. Screenshot: console-case-deciding.png.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from server.extensions import db
from server.models import Case
from tests.browser.axe import axe_violations, blocking
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.test_console import PASSWORD, build_world

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


def _in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"]


def test_the_evidence_is_beside_the_decision_and_the_keys_decide(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    world = build_world(app, app.test_client())
    context, page = _page(browser, rw_server.url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"/console/cases/{world.cases['A']}")
    page.wait_for_function(
        "() => document.querySelector('#evidence-first img').complete"
        " && document.querySelector('#evidence-first img').naturalWidth > 0"
    )
    for selector in (
        "#evidence-first img", "#evidence-first dd.plate", "#evidence-first dd.flags",
        "#map", "#verify-form button[type=submit]",
    ):  # fmt: skip
        assert _in_first_screen(page, selector), selector
    page.screenshot(path=str(screenshots_dir / "console-case-deciding.png"))
    publish_screenshot(screenshots_dir, "console-case-deciding.png")
    serious = blocking(axe_violations(page))
    assert serious == [], [n for v in serious for n in v["nodes"]]

    # R reaches the reason list; the arrows choose; Enter sends; the next case opens.
    page.check("#next-case")
    page.goto(f"/console/cases/{world.cases['A3']}")
    page.locator("h1").click()
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.name") == "reason_code"
    page.keyboard.press("ArrowDown")
    chosen = page.evaluate("document.activeElement.value")
    assert chosen
    page.keyboard.press("Enter")
    page.wait_for_selector("#decided-link")
    assert f"/console/cases/{world.cases['A']}" in page.url  # the next case of the queue
    assert world.cases["A3"] in page.locator("#decided-link a").get_attribute("href")
    with app.app_context():
        decided = db.session.get(Case, world.cases["A3"])
        assert decided.verdict == "rejected"
    assert errors == []
    context.close()


def test_a_decision_with_the_evidence_never_on_screen_asks_once(
    app: Flask, rw_server: RoadWatchServer, browser
) -> None:
    world = build_world(app, app.test_client())
    context = browser.new_context(
        base_url=rw_server.url, viewport={"width": 1280, "height": 200}, locale="vi-VN"
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "rev_a")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    # A window so short that the first photo stays below the fold; the decision is sent
    # as a key press would, without scrolling.
    page.goto(f"/console/cases/{world.cases['A3']}")
    asked: list[str] = []

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.evaluate("document.getElementById('verify-form').requestSubmit()")
    page.wait_for_function("() => document.readyState === 'complete'")
    assert asked == ["Bạn chưa xem ảnh, video của vụ việc. Vẫn ghi quyết định?"]
    with app.app_context():
        assert db.session.get(Case, world.cases["A3"]).verdict is None
    # Once asked, the next try sends (the photo was scrolled into view anyway).
    page.locator("#verify-form button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    assert len(asked) == 1
    with app.app_context():
        assert db.session.get(Case, world.cases["A3"]).verdict == "verified"
    context.close()
