"""Accessibility of the review console: axe-core, vendored in tests/browser/vendor/axe-core
(no npm at run time), runs in Debian's Chromium on the login, queue (waiting and decided),
case (open and decided), reveal and statistics pages. None may have a violation of impact
"critical" or "serious", and the page's navigation landmarks must have distinct names.

Every non-loopback request is refused, as for the map tests: the pages are checked as a
police station without internet sees them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from tests.browser.axe import assert_pinned_axe, axe_violations, blocking
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER
from tests.test_console import PASSWORD, build_world

pytestmark = BROWSER

DESKTOP = {"width": 1366, "height": 900}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

_NAV_NAMES = """() => [...document.querySelectorAll("nav, [role=navigation]")].map(n =>
  n.getAttribute("aria-label") ||
  (n.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
    .map(id => (document.getElementById(id) || {}).textContent || "").join(" ").trim())"""


def _check(page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    violations = axe_violations(page)
    found[name] = violations
    names = page.evaluate(_NAV_NAMES)
    assert all(names), f"{name}: a navigation landmark without a name: {names}"
    assert len(set(names)) == len(names), f"{name}: navigation landmarks share a name: {names}"


def test_console_pages_have_no_serious_accessibility_violations(
    app: Flask, rw_server: RoadWatchServer, browser
) -> None:
    assert_pinned_axe()
    world = build_world(app, app.test_client())
    context = browser.new_context(
        base_url=rw_server.url, viewport=DESKTOP, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.route(
        "**/*",
        lambda route: route.continue_()
        if (urlsplit(route.request.url).hostname or "") in LOOPBACK
        else route.abort("internetdisconnected"),
    )
    page = context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto("/console/login")
    _check(page, "login", found)
    page.fill("input[name=username]", "sup_hn")
    page.fill("input[name=password]", "wrong password")
    page.click("main button[type=submit]")
    page.wait_for_selector("#login-error")
    _check(page, "login-error", found)
    page.fill("input[name=username]", "sup_hn")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    _check(page, "queue", found)

    page.goto(f"/console/cases/{world.cases['A']}")
    page.wait_for_selector("#map[data-boundary-drawn]")
    _check(page, "case", found)

    page.locator(f"#r-{world.reports['a1']} a.reveal-link").click()
    page.wait_for_selector("textarea[name=reason]")
    _check(page, "reveal", found)
    page.fill("textarea[name=reason]", "Công văn 77/TA của Tòa án nhân dân quận Đống Đa")
    page.click("main button[type=submit]")
    page.wait_for_selector("#identity")
    _check(page, "revealed", found)

    # A decided, locked case (verdict banner, penalty and reopen forms) and the decided queue.
    page.goto(f"/console/cases/{world.cases['A3']}")
    page.wait_for_function(  # its first photo seen (or none to see): no "unseen" question
        "() => !document.querySelector('#evidence-first .first-photo img')"
        " || document.querySelector('#evidence-first[data-seen]')"
    )
    page.click("#verify-form button[type=submit]")
    page.wait_for_selector("#reopen-form")
    page.wait_for_selector("#map[data-boundary-drawn]")
    _check(page, "case-decided", found)
    page.goto("/console/queue?state=decided")
    _check(page, "queue-decided", found)
    page.goto("/console/stats")
    _check(page, "stats", found)
    context.close()

    serious = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert serious == {}, json.dumps(serious, ensure_ascii=False, indent=1)
