"""A report the server refuses (409) needs attention: it is kept, explained, not retried
blindly, and the user can send the same sealed content under new ids."""

from __future__ import annotations

from server.extensions import db
from server.models import Report
from tests.browser.pages import BROWSER, App, file_payload, photo
from tests.factories import Api, report_body

pytestmark = BROWSER


def test_conflict_needs_attention_and_can_be_sent_as_a_new_report(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    phone.route("**/api/v1/**", lambda route: route.abort())
    data = photo(150_000, seed=31)
    report_id = app.capture([file_payload("xung-dot.jpg", data)], plate="51G-678.90")
    # Another device already used this report id on the server.
    other = Api.register(rw_server.app.test_client())
    assert other.put_report(report_id, report_body()).status_code == 201

    phone.unroute("**/api/v1/**")
    app.show_reports()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    app.wait_state(report_id, "attention", timeout=20_000)
    stored = app.report(report_id)
    assert stored["attention"]["code"] == "report_conflict"
    puts = rw_server.traffic.count("PUT", f"/api/v1/reports/{report_id}")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a trigger to sync again
    page.wait_for_timeout(800)
    assert rw_server.traffic.count("PUT", f"/api/v1/reports/{report_id}") == puts  # not retried

    app.item(report_id).locator("a").click()
    page.wait_for_selector("#detail [data-state=attention]")
    assert "nội dung khác" in page.locator("#detail").inner_text()
    page.get_by_role("button", name="Gửi thành phản ánh mới").click()
    page.locator("#confirm-ok").click()
    page.wait_for_function(
        f"() => location.hash.startsWith('#report/') && !location.hash.endsWith('{report_id}')"
    )
    new_id = page.evaluate("location.hash.split('/')[1]")
    page.wait_for_selector(f"#detail [data-report-id='{new_id}'][data-state=sent]", timeout=20_000)

    assert [r["id"] for r in app.reports()] == [new_id]  # the old ids are gone, nothing else
    with rw_server.app.app_context():
        mine = db.session.get(Report, new_id)
        assert mine is not None and mine.plate_raw == "51G-678.90"
        assert [m.received_at is not None for m in mine.media] == [True]
        assert db.session.get(Report, report_id).plate_raw == "30A-123.45"  # the other's
