"""Location: permission denied, no fix yet, and the point placed by hand."""

from __future__ import annotations

from tests.browser.pages import BROWSER, App, file_payload, phone_context_options, photo

pytestmark = BROWSER

# A GPS that never answers: the state a phone is in while searching for satellites.
NO_FIX_YET = """
  navigator.geolocation.watchPosition = () => 1;
  navigator.geolocation.getCurrentPosition = () => {};
  navigator.geolocation.clearWatch = () => {};
"""


def test_permission_denied_is_explained_and_the_point_can_be_placed_by_hand(browser, rw_server):
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=False))
    try:
        page = context.new_page()
        app = App(page).open()
        form = app.form
        # A gallery photo without EXIF: nothing to fall back on.
        app.fill([file_payload("khong-exif.jpg", photo(50_000, exif=False))])
        box = page.locator("#loc-box")
        page.wait_for_selector("#loc-box[data-state=denied]")
        assert "quyền truy cập vị trí" in box.inner_text()
        assert page.locator("#btn-manual").is_visible()

        # Without a location, nothing is saved and the reason is shown.
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#err-location:not([hidden])")
        assert app.reports() == []

        page.locator("#btn-manual").click()
        form.locator("input[name=manual_location]").fill("21.03000, 105.85000")
        page.wait_for_selector("#loc-box[data-state=fix]")
        report_id = app.submit()
        location = app.report(report_id)["body"]["location"]
        assert location == {"lat": 21.03, "lon": 105.85, "accuracy_m": None, "source": "manual"}
    finally:
        context.close()


def test_no_fix_yet_is_shown_and_blocks_saving_until_a_location_exists(browser, rw_server):
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=True))
    try:
        context.add_init_script(NO_FIX_YET)
        page = context.new_page()
        app = App(page).open()
        page.wait_for_selector("#loc-box[data-state=waiting]")
        assert "Chưa bắt được tín hiệu GPS" in page.locator("#loc-box").inner_text()
        app.fill([file_payload("khong-exif.jpg", photo(50_000, exif=False))])
        app.form.locator("button[type=submit]").click()
        page.wait_for_selector("#err-location:not([hidden])")
        assert app.reports() == []
    finally:
        context.close()


def test_gallery_photo_exif_fills_in_when_there_is_no_gps(browser, rw_server):
    """No permission, but the gallery photo carries its own position: it is used (and
    shown as "from the photo"), and a photo far from the phone is flagged."""
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=False))
    try:
        page = context.new_page()
        app = App(page).open()
        app.fill([file_payload("co-exif.jpg", photo(60_000, where=(10.7769, 106.7009)))])
        page.wait_for_selector("#loc-box[data-state=fix]")
        assert "theo ảnh" in page.locator("#loc-box").inner_text()
        report_id = app.submit()
        location = app.report(report_id)["body"]["location"]
        assert location["source"] == "exif"
        assert abs(location["lat"] - 10.7769) < 1e-4 and abs(location["lon"] - 106.7009) < 1e-4
    finally:
        context.close()
