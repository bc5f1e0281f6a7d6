"""Two tabs of the app come back online at the same moment: one report is registered
and uploaded once, by one of them (Web Locks), never twice in parallel."""

from __future__ import annotations

from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER

SIZE = 3 * 1024 * 1024


def slow_uploads(page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1_500_000},
    )


def test_two_tabs_never_send_the_same_report_twice(phone, rw_server):
    tabs = [phone.new_page(), phone.new_page()]
    apps = [App(tab).open() for tab in tabs]
    phone.route("**/api/v1/**", lambda route: route.abort())
    report_id = apps[0].capture([file_payload("hai-tab.jpg", photo(SIZE, seed=61))])
    for tab in tabs:
        slow_uploads(tab)
    phone.unroute("**/api/v1/**")
    for tab in tabs:  # both see the network come back
        tab.evaluate("window.dispatchEvent(new Event('online'))")
    for app in apps:
        app.show_reports()
        app.wait_state(report_id, "sent", timeout=30_000)

    traffic = rw_server.traffic
    assert traffic.count("PUT", f"/api/v1/reports/{report_id}") == 1
    assert traffic.count("POST", "/api/v1/uploads") == 1
    patches = [h for h in traffic.uploads() if h.method == "PATCH"]
    offsets = [h.upload_offset for h in patches]
    assert len(offsets) == len(set(offsets)), offsets  # no chunk sent twice
    assert all(h.status == 204 for h in patches)  # no 409: nobody raced the server
    assert traffic.upload_bytes() == SIZE
