"""A patrol officer signs in on the PWA: reports captured then go under the officer's
token and name; one captured before, as a citizen, still goes under the phone's own
token. On a shared phone, signing out hides the officer's reports from "My reports"
at once; one not sent yet stays queued and is sent under the officer's token."""

from __future__ import annotations

import time

import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.models.accounts import OfficerDevice, User
from server.services import accounts
from tests.browser.pages import BROWSER, App, file_payload, photo, publish_screenshot

pytestmark = BROWSER

PASSWORD = "mật khẩu tuần tra"


def stored(app) -> dict[str, tuple[str, str | None]]:
    """report id -> (reporter_kind, officer's display name or None)."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Report.id, Report.reporter_kind, User.display_name)
            .outerjoin(OfficerDevice, OfficerDevice.device_id == Report.device_id)
            .outerjoin(User, User.id == OfficerDevice.user_id)
        ).all()
    return {rid: (kind, name) for rid, kind, name in rows}


def sign_in(page, username: str, password: str) -> None:
    page.locator("nav.tabs a[data-tab=settings]").click()
    form = page.locator("#officer-login")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()


def test_officer_sign_in_capture_and_sign_out(phone, rw_server, screenshots_dir):
    with rw_server.app.app_context():
        accounts.create_user("canh", PASSWORD, "officer", display_name="Thiếu úy Trần Văn Cảnh")
    page = phone.new_page()
    app = App(page).open()
    app.wait_controlled()

    citizen_report = app.capture([file_payload("a.jpg", photo(60_000, seed=11))])
    app.show_reports()
    app.wait_state(citizen_report, "sent")

    sign_in(page, "canh", "sai mật khẩu")
    error = page.locator("#officer-err")
    error.wait_for(state="visible")
    assert "không đúng" in error.inner_text()
    page.locator("#officer-card").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir / "officer-login-refused.png"))
    sign_in(page, "canh", PASSWORD)
    page.wait_for_selector("#officer-signed:not([hidden])")
    assert "Thiếu úy Trần Văn Cảnh" in page.locator("#officer-who").inner_text()
    page.screenshot(path=str(screenshots_dir / "officer-settings.png"))

    page.locator("nav.tabs a[data-tab=capture]").click()
    line = page.locator("#officer-line")
    line.wait_for(state="visible")
    assert "Thiếu úy Trần Văn Cảnh" in line.inner_text()
    assert page.locator("#sec-named").is_hidden()  # no informant fields for an officer
    page.screenshot(path=str(screenshots_dir / "officer-capture.png"), full_page=False)

    phone.set_offline(True)
    officer_report = app.capture([file_payload("b.jpg", photo(70_000, seed=12))])
    assert app.report(officer_report)["body"]["reporter"]["kind"] == "officer"

    # Shared phone: signing out with an unsent officer report first says how many are
    # not sent (issue 26); "Huỷ" keeps the officer signed in.
    page.locator("nav.tabs a[data-tab=settings]").click()
    page.locator("#officer-signout").click()
    ask = page.locator("dialog#confirm[open]")
    ask.wait_for()
    assert "Còn 1 phản ánh của bạn chưa gửi xong" in ask.inner_text()
    page.screenshot(path=str(screenshots_dir / "officer-signout-unsent.png"))
    publish_screenshot(screenshots_dir, "officer-signout-unsent.png")
    ask.locator("button[value=cancel]").click()
    page.wait_for_selector("dialog#confirm:not([open])", state="attached")
    assert page.locator("#officer-signed").is_visible()
    # Signing out anyway is allowed; the report leaves "My reports" at once but stays
    # queued under the officer's token.
    page.locator("#officer-signout").click()
    ask.wait_for()
    ask.locator("button[value=ok]").click()
    page.wait_for_selector("#officer-login:not([hidden])")
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    assert "vẫn được tự gửi" in toast.inner_text()
    app.show_reports()
    app.item(officer_report).wait_for(state="detached")
    app.item(citizen_report).wait_for()
    assert page.locator("#badge").is_hidden()  # nothing of the citizen's is waiting
    # ... but the phone still holds an unsent report: never "every report has been sent".
    assert page.locator("#queue-summary").inner_text() == "1 phản ánh đang chờ gửi"
    page.goto(f"/#report/{officer_report}")  # not even by its address
    page.wait_for_selector("#detail p.empty")
    assert app.report(officer_report)["phase"] == "saved"

    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_phase(page, app, officer_report, "sent")
    assert stored(rw_server.app) == {
        citizen_report: ("citizen", None),
        officer_report: ("officer", "Thiếu úy Trần Văn Cảnh"),
    }
    app.show_reports()
    assert app.item(officer_report).count() == 0
    # The officer's token is forgotten once nothing of theirs is left to send.
    page.wait_for_function(f"() => ({SIGNED_OUT_META})().then((v) => !v || v.length === 0)")
    page.locator("nav.tabs a[data-tab=capture]").click()
    assert page.locator("#officer-line").is_hidden()
    assert page.locator("#sec-named").is_visible()

    # The same officer signing in again sees their reports again.
    sign_in(page, "canh", PASSWORD)
    page.wait_for_selector("#officer-signed:not([hidden])")
    app.show_reports()
    app.item(officer_report).wait_for()
    page.locator("nav.tabs a[data-tab=settings]").click()
    page.locator("#officer-signout").click()
    page.wait_for_selector("#officer-login:not([hidden])")
    app.show_reports()
    app.item(officer_report).wait_for(state="detached")
    app.item(citizen_report).wait_for()


SIGNED_OUT_META = """async () => {
    const db = await new Promise((ok, ko) => {
        const req = indexedDB.open('roadwatch');
        req.onsuccess = () => ok(req.result);
        req.onerror = () => ko(req.error);
    });
    return await new Promise((ok) => {
        const req = db.transaction('meta').objectStore('meta').get('officers_signed_out');
        req.onsuccess = () => { db.close(); ok(req.result?.value); };
    });
}"""


def wait_phase(page, app: App, report_id: str, phase: str, timeout_s: float = 30) -> None:
    """Until the stored record (IndexedDB) reaches ``phase``: the list no longer shows it."""
    deadline = time.monotonic() + timeout_s
    while app.report(report_id)["phase"] != phase:
        assert time.monotonic() < deadline, app.report(report_id)
        page.wait_for_timeout(100)
