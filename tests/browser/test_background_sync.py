"""Background Sync (Chromium): with the app closed, the service worker sends the queue
when the browser fires the `sync` event."""

from __future__ import annotations

import time

from server.extensions import db
from server.models import Report
from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER


def test_service_worker_sends_the_outbox_with_no_page_open(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    app.wait_controlled()
    phone.route("**/api/v1/**", lambda route: route.abort())  # the network is down
    report_id = app.capture([file_payload("nen.jpg", photo(300_000, seed=41))])
    tags = []
    for _ in range(40):
        tags = page.evaluate("navigator.serviceWorker.ready.then((r) => r.sync.getTags())")
        if tags:
            break
        page.wait_for_timeout(100)
    assert tags == ["rw-outbox"]  # registered for later
    page.close()  # the user closes the app
    phone.unroute("**/api/v1/**")

    # Some page is needed to talk to the browser; it is not the app (about:blank).
    blank = phone.new_page()
    cdp = phone.new_cdp_session(blank)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        blank.wait_for_timeout(50)
    registration = next(r for r in registrations if r["scopeURL"] == rw_server.url + "/")
    # What Chromium does when the network comes back: fire `sync` at the worker.
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": rw_server.url,
            "registrationId": registration["registrationId"],
            "tag": "rw-outbox",
            "lastChance": False,
        },
    )

    def received():
        with rw_server.app.app_context():
            report = db.session.get(Report, report_id)
            return report is not None and all(m.received_at for m in report.media)

    deadline = time.monotonic() + 20
    while not received() and time.monotonic() < deadline:
        blank.wait_for_timeout(100)
    assert received()
    assert [p.url for p in phone.pages] == ["about:blank"]  # no app page was involved

    app = App(phone.new_page()).open()
    app.show_reports()
    app.wait_state(report_id, "sent")
