"""Today's map on the screens (issue 23), at 390x844 in Chromium: the PWA names the
commune and province of the phone's point (per-province outlines fetched on demand) and
its map picker draws today's outlines; the console's queue and case page name the
commune, province and handling unit, and the forward picker finds the wards that
replaced "Quận Ba Đình". Screenshots go to test-artifacts/screenshots/ and, with
UPDATE_DOC_SCREENSHOTS=1, to docs/screenshots/."""

from __future__ import annotations

import uuid

import pytest

from server.services import accounts, districts
from tests.browser.pages import BROWSER, HANOI, App, publish_screenshot
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_photo
from tests.test_console import PASSWORD

pytestmark = [*BROWSER, pytest.mark.boundary_set("2025")]

PHONE = {"width": 390, "height": 844}
BA_DINH = (21.0368, 105.8345)


def _place_words(app, lat: float, lon: float) -> str:
    with app.app_context():
        info = districts.district_info(districts.route_point(lat, lon).district_code)
    return f"{info.name}, {info.province_name}"


def test_the_pwa_and_its_map_picker_name_todays_commune(phone, rw_server, screenshots_dir):
    words = _place_words(rw_server.app, HANOI["latitude"], HANOI["longitude"])
    assert words.startswith("Phường ") and words.endswith("Thành phố Hà Nội")
    page = phone.new_page()
    App(page).open("/?lang=vi")
    page.wait_for_function(
        "(w) => document.querySelector('#loc-place').textContent === w", arg=words, timeout=30_000
    )
    page.locator("#btn-map").click()
    page.wait_for_selector("#map-dialog[open]")
    page.wait_for_function(
        "(w) => document.querySelector('#map-place').textContent.startsWith(w)",
        arg=words,
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # let Leaflet paint the outlines of the province in view
    page.screenshot(path=str(screenshots_dir / "pwa-map-picker-2025.png"))
    publish_screenshot(screenshots_dir, "pwa-map-picker-2025.png")


def _report_with_evidence(client, at: tuple[float, float], plate: str, seed: int) -> str:
    api, media = Api.register(client), MediaFile(make_photo(seed))
    rid = str(uuid.uuid4())
    body = report_body(
        [media],
        plate=plate,
        location={"lat": at[0], "lon": at[1], "accuracy_m": 5.0, "source": "gps"},
    )
    assert api.put_report(rid, body).status_code == 201
    assert api.put_media(rid, media).status_code in (200, 201, 204)
    return rid


def test_console_queue_case_and_forward_picker_use_todays_names(
    browser, rw_server, screenshots_dir
):
    app = rw_server.app
    client = app.test_client()
    rid = _report_with_evidence(client, BA_DINH, "30A-246.80", 8101)
    _report_with_evidence(client, BA_DINH, "29B-135.79", 8102)
    with app.app_context():
        area = districts.route_point(*BA_DINH).district_code
        accounts.create_user("canbo", PASSWORD, "reviewer", unit_codes=[f"CA-{area}"])
        from server.extensions import db
        from server.models import Report

        case_id = db.session.get(Report, rid).case_id
    context = browser.new_context(
        base_url=rw_server.url, viewport=PHONE, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "canbo")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    body = page.locator("main").inner_text()
    assert "Phường Ba Đình" in body and "Quận" not in body
    page.screenshot(path=str(screenshots_dir / "console-queue-2025.png"), full_page=True)
    publish_screenshot(screenshots_dir, "console-queue-2025.png")

    page.goto(f"/console/cases/{case_id}")
    assert "Phường Ba Đình, Thành phố Hà Nội" in page.locator("h1").inner_text()
    assert page.locator("#case-unit").inner_text() == "Đơn vị xử lý: Công an phường Ba Đình"
    page.screenshot(path=str(screenshots_dir / "console-case-2025.png"))
    publish_screenshot(screenshots_dir, "console-case-2025.png")

    page.locator("#forward-find").scroll_into_view_if_needed()
    page.fill("#forward-find", "Quận Ba Đình")
    shown = page.eval_on_selector(
        "#forward-to", "sel => [...sel.options].map(o => [o.value, o.textContent])"
    )
    names = {name for _, name in shown}
    # The wards that replaced the old district (Ba Đình itself is the case's own area).
    assert {"Phường Ngọc Hà", "Phường Giảng Võ"} <= names, names
    assert all(value != area for value, _ in shown)
    page.fill("#forward-find", "giang vo")
    found = page.eval_on_selector("#forward-to", "s => [...s.options].map(o => o.textContent)")
    # The ward of that name, and any ward that took in part of the old ward Giảng Võ.
    assert "Phường Giảng Võ" in found and len(found) <= 3, found
    page.fill("#forward-find", "Quận Ba Đình")
    page.locator("#forward-form").screenshot(path=str(screenshots_dir / "console-forward-2025.png"))
    publish_screenshot(screenshots_dir, "console-forward-2025.png")
    context.close()
