"""Accessibility of the citizen's app: axe-core (tests/browser/axe.py) on the capture
screen (empty, with search results, with a violation chosen and its fines), on "My
reports" with reports sent, reviewed and needing attention, on a report's detail, on Settings, and
offline (the network pill), at 390x844. None may have a violation of impact "critical" or "serious".
"""

from __future__ import annotations

import json
from typing import Any

from server.extensions import db
from server.models import Report
from server.services.status import set_status
from tests.browser.axe import assert_pinned_axe, axe_violations, blocking
from tests.browser.pages import BROWSER, App, file_payload, photo
from tests.factories import Api, report_body

pytestmark = BROWSER


def _check(page, name: str, found: dict[str, list[dict[str, Any]]]) -> None:
    page.wait_for_timeout(100)  # the last render lands
    found[name] = axe_violations(page)


def _capture_states(page, app: App, found: dict[str, list[dict[str, Any]]], lang: str) -> None:
    app.open(f"/?lang={lang}")
    app.wait_catalogue()
    _check(page, f"capture-{lang}", found)
    app.form.locator("input[name=violation_search]").fill("đèn đỏ")
    page.wait_for_selector("#violation-results:not([hidden]) button")
    _check(page, f"capture-search-{lang}", found)
    page.locator("#violation-results button[data-code=RED_LIGHT]").click()
    app.form.locator("input[name=vehicle_class][value=motorbike]").check(force=True)
    page.wait_for_selector("#violation-chosen .fines li.current")
    _check(page, f"capture-chosen-{lang}", found)


def _reports(page, app: App, rw_server) -> tuple[str, str]:
    """A report sent and verified with a note, and one refused (409): their ids."""
    sent_id = app.capture([file_payload("IMG_1.jpg", photo(60_000, seed=1))])
    app.show_reports()
    app.wait_state(sent_id, "sent")
    with rw_server.app.app_context():
        set_status(db.session.get(Report, sent_id), "verified", public_note="Đã xử lý. Cảm ơn!")
        db.session.commit()
    page.context.route("**/api/v1/**", lambda route: route.abort())
    page.locator("nav.tabs a[data-tab=capture]").click()
    conflict_id = app.capture([file_payload("IMG_2.jpg", photo(60_000, seed=2))], plate="51G-67890")
    other = Api.register(rw_server.app.test_client())
    assert other.put_report(conflict_id, report_body()).status_code == 201
    page.context.unroute("**/api/v1/**")
    page.reload()  # the sync at start sends it: a 409
    app.wait_ready()
    app.show_reports()
    app.wait_state(conflict_id, "attention", timeout=20_000)
    page.wait_for_selector(f"li[data-report-id='{sent_id}'] .server[data-status=verified]")
    return sent_id, conflict_id


def test_pwa_screens_have_no_serious_accessibility_violations(phone, rw_server) -> None:
    assert_pinned_axe()
    page = phone.new_page()
    app = App(page)
    found: dict[str, list[dict[str, Any]]] = {}
    for lang in ("en", "vi"):
        _capture_states(page, app, found, lang)

    sent_id, conflict_id = _reports(page, app, rw_server)
    _check(page, "outbox", found)
    page.goto(f"/#report/{sent_id}")
    page.wait_for_selector(f"#detail [data-report-id='{sent_id}']")
    _check(page, "detail-sent", found)
    page.goto(f"/#report/{conflict_id}")
    page.wait_for_selector(f"#detail [data-report-id='{conflict_id}'][data-state=attention]")
    _check(page, "detail-attention", found)
    page.locator("nav.tabs a[data-tab=settings]").click()
    page.wait_for_selector("#about-device:not(:empty)")
    _check(page, "settings", found)
    phone.set_offline(True)
    page.locator("nav.tabs a[data-tab=capture]").click()
    page.wait_for_selector("#net[data-online=false]")
    _check(page, "capture-offline", found)

    serious = {name: blocking(v) for name, v in found.items() if blocking(v)}
    assert serious == {}, json.dumps(serious, ensure_ascii=False, indent=1)
