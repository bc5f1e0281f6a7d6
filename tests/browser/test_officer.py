"""A patrol officer signs in on the PWA: reports captured then go under the officer's
token and name; one captured before, as a citizen, still goes under the phone's own
token; signing out is refused while an officer's report is unsent."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.models.accounts import OfficerDevice, User
from server.services import accounts
from tests.browser.pages import BROWSER, App, file_payload, photo

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

    # Unsent officer report: signing out is refused, the officer stays signed in.
    page.locator("nav.tabs a[data-tab=settings]").click()
    page.locator("#officer-signout").click()
    refusal = page.locator("#officer-out-err")
    refusal.wait_for(state="visible")
    assert "chưa gửi" in refusal.inner_text()
    assert page.locator("#officer-signed").is_visible()

    phone.set_offline(False)
    app.show_reports()
    app.wait_state(officer_report, "sent")
    assert stored(rw_server.app) == {
        citizen_report: ("citizen", None),
        officer_report: ("officer", "Thiếu úy Trần Văn Cảnh"),
    }

    page.locator("nav.tabs a[data-tab=settings]").click()
    page.locator("#officer-signout").click()
    page.wait_for_selector("#officer-login:not([hidden])")
    page.locator("nav.tabs a[data-tab=capture]").click()
    assert page.locator("#officer-line").is_hidden()
    assert page.locator("#sec-named").is_visible()
