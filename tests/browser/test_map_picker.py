"""The map picker (issue 14, item 3) at 390x844 in Vietnamese and English: tap to place
the point, drag it to adjust, over our own district outlines (no tile server, and also
with the phone offline); the place in words (district, province) from the shipped
outlines on the capture screen, in "My reports" and in the report's detail, and the
same district the server routes the report to."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import Report
from server.services import districts
from tests.browser.axe import axe_violations, blocking
from tests.browser.pages import (
    BROWSER,
    App,
    file_payload,
    phone_context_options,
    photo,
    publish_screenshot,
)

pytestmark = BROWSER

TEXT = {
    "vi": {"button": "Chọn trên bản đồ", "source": "chọn trên bản đồ", "place": "Nơi vi phạm",
           "outlines_only": "chỉ có ranh giới", "tap": "chạm vào bản đồ"},
    "en": {"button": "Pick on the map", "source": "picked on the map", "place": "Place",
           "outlines_only": "outlines only", "tap": "tap the map"},
}  # fmt: skip
DONG_DA = "Quận Đống Đa, Thành phố Hà Nội"  # where the test phone stands (pages.HANOI)


def open_picker(page) -> None:
    page.locator("#btn-map").click()
    page.wait_for_selector("#map-dialog[open]")
    # Outlines drawn (canvas renderer) once the district data is there.
    page.wait_for_function(
        "() => document.querySelector('#map-place').textContent.trim().length > 0", timeout=20_000
    )


def map_box(page) -> dict:
    return page.locator("#map-picker").bounding_box()


def place_text(page) -> str:
    return page.locator("#map-place").inner_text().strip()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_tap_and_drag_place_the_point_and_the_place_is_named_everywhere(
    phone, rw_server, screenshots_dir, lang
) -> None:
    text = TEXT[lang]
    page = phone.new_page()
    app = App(page).open(f"/?lang={lang}")
    page.wait_for_function("() => document.querySelector('#loc-box').dataset.state === 'fix'")
    # The GPS point is already named on the capture screen, offline-capable words.
    page.wait_for_function(
        "(w) => document.querySelector('#loc-place').textContent === w", arg=DONG_DA
    )
    assert page.locator("#btn-map").inner_text().strip() == text["button"]

    open_picker(page)
    assert place_text(page).startswith(DONG_DA)  # it opens at the GPS point
    assert text["outlines_only"] in page.locator("#map-note").inner_text()
    assert not blocking(axe_violations(page)), axe_violations(page)
    box = map_box(page)
    # A tap a little to the north-east moves the point there.
    page.mouse.click(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 - 40)
    tapped = place_text(page)
    assert tapped != "" and tapped.split(" · ")[1] != f"{21.028511:.5f}, {105.804817:.5f}"
    # Dragging the pin adjusts it.
    pin = page.locator(".map-pin").bounding_box()
    page.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
    page.mouse.down()
    page.mouse.move(pin["x"] - 30, pin["y"] + 50, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(t) => document.querySelector('#map-place').textContent !== t", arg=tapped
    )
    dragged = place_text(page)
    words, coords = dragged.split(" · ")
    lat, lon = (float(x) for x in coords.split(", "))
    page.screenshot(path=str(screenshots_dir / f"map-picker-{lang}.png"))
    publish_screenshot(screenshots_dir, f"map-picker-{lang}.png")
    page.locator("#map-use").click()
    page.wait_for_selector("#map-dialog", state="hidden")

    # The capture screen: the point, "picked on the map", the place in words.
    assert page.locator("#loc-sub").inner_text().strip() == text["source"]
    assert page.locator("#loc-place").inner_text().strip() == words
    page.locator("#sec-location").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir / f"capture-place-{lang}.png"))
    publish_screenshot(screenshots_dir, f"capture-place-{lang}.png")
    value = page.locator("input[name=manual_location]").input_value()
    assert [round(float(x), 5) for x in value.split(",")] == [lat, lon]

    rid = app.capture([file_payload("IMG_1.jpg", photo(60_000, seed=9))])
    app.show_reports()
    app.wait_state(rid, "sent")
    assert app.item(rid).locator(".item-place").inner_text().strip() == words
    with rw_server.app.app_context():
        stored = db.session.get(Report, rid)
        located = (stored.location_source, round(stored.lat, 5), round(stored.lon, 5))
        info = districts.district_info(stored.district_code)
    assert located == ("manual", lat, lon)
    # The words the phone showed name the district the server routed the report to.
    assert words == f"{info.name}, {info.province_name}"
    app.item(rid).locator("a.item-link").click()
    page.wait_for_selector(f"#detail [data-report-id='{rid}']")
    assert page.locator("#detail .kv-place dt").inner_text().strip() == text["place"]
    assert page.locator("#detail .kv-place dd").inner_text().strip() == words


def test_the_picker_works_offline_with_the_outlines_kept_by_the_service_worker(
    browser, rw_server, screenshots_dir
) -> None:
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=False))
    try:
        page = context.new_page()
        app = App(page).open("/")
        app.wait_controlled()
        # The outlines are fetched after start and kept in the data cache.
        page.wait_for_function(
            "() => caches.open('rw-data').then((c) => c.match('/api/v1/places')).then(Boolean)",
            timeout=30_000,
        )
        context.set_offline(True)
        page.reload()
        app.wait_ready()
        open_picker(page)
        # No GPS: the whole country, no point yet.
        assert TEXT["vi"]["tap"] in place_text(page).lower()
        assert page.locator("#map-use").is_disabled()
        box = map_box(page)
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        words = place_text(page).split(" · ")[0]
        assert words and words != "Ngoài ranh giới đã biết", place_text(page)
        page.locator("#map-use").click()
        assert page.locator("#loc-place").inner_text().strip() == words
        assert page.locator("#loc-sub").inner_text().strip() == TEXT["vi"]["source"]
    finally:
        context.close()


def test_cancel_keeps_the_location_as_it_was(phone) -> None:
    page = phone.new_page()
    App(page).open("/")
    page.wait_for_function("() => document.querySelector('#loc-box').dataset.state === 'fix'")
    before = page.locator("#loc-main").inner_text()
    open_picker(page)
    box = map_box(page)
    page.mouse.click(box["x"] + 40, box["y"] + 40)
    page.locator("#map-cancel").click()
    page.wait_for_selector("#map-dialog", state="hidden")
    assert page.locator("#loc-main").inner_text() == before
    assert page.locator("#manual-box").is_hidden()


def test_the_phones_place_names_agree_with_the_servers_routing(phone, rw_server) -> None:
    """pwa/js/places.js names the district the server routes to, for a point well inside
    each of 100 districts (300 m from any border: the outlines are simplified to 200 m)."""
    with rw_server.app.app_context():
        index = districts.current_index()
        points = []
        for info, geometry in index.district_geometries()[::7]:
            inner = geometry.buffer(-0.003)
            if inner.is_empty:
                continue
            p = inner.point_on_surface()
            points.append((info.code, p.y, p.x))
        assert len(points) > 80
        routed = [index.route(lat, lon).district_code for _, lat, lon in points]
    assert routed == [code for code, _, _ in points]
    page = phone.new_page()
    App(page).open("/")
    named = page.evaluate(
        """async (points) => {
            const v = document.documentElement.dataset.version;
            const m = await import(`/a/${v}/js/places.js`);
            const places = await m.loadPlaces();
            return points.map(([, lat, lon]) => m.placeOf(places, lat, lon)?.code ?? null);
        }""",
        points,
    )
    assert named == routed
