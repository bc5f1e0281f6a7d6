"""The case page's map in Debian's Chromium with every non-loopback request refused, as
in a police station without internet: the district's boundary and the reports' points
are drawn from the console's own data, not a grey box. With a tile server configured the
page asks that host (and only it) for tiles, and the map still stands when it fails.

The screenshot goes to test-artifacts/screenshots/console-map-offline.png (1280x800), and
to docs/screenshots/ with UPDATE_DOC_SCREENSHOTS=1.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

from server.settings import override
from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, publish_screenshot
from tests.test_console import PASSWORD, build_world

pytestmark = BROWSER

VIEWPORT = {"width": 1280, "height": 800}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TILES = "https://tiles.cong-an.example.vn/{z}/{x}/{y}.png"


def _offline_context(browser, url: str, refused: list[str]):
    """A desktop context whose requests leave the machine only over loopback."""
    context = browser.new_context(
        base_url=url, viewport=VIEWPORT, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )

    def gate(route) -> None:
        if (urlsplit(route.request.url).hostname or "") in LOOPBACK:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", gate)
    return context


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    """Whether one bounding box lies within another (1 px of rounding allowed)."""
    return (
        outer["x"] - 1 <= inner["x"]
        and outer["y"] - 1 <= inner["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def _open_case(page, username: str, case_id: str) -> None:
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    page.goto(f"/console/cases/{case_id}")
    page.wait_for_selector("#map[data-boundary-drawn]")


def test_offline_map_draws_the_district_and_the_points(
    app: Flask, rw_server: RoadWatchServer, browser, screenshots_dir: Path
) -> None:
    world = build_world(app, app.test_client())
    refused: list[str] = []
    context = _offline_context(browser, rw_server.url, refused)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _open_case(page, "rev_a", world.cases["A"])
    box = page.locator("#map")
    assert box.get_attribute("data-boundary-drawn") == "1"
    pane = "#map .leaflet-overlay-pane svg"
    assert page.locator(f"{pane} path.rw-boundary").count() == 1
    assert page.locator(f"{pane} path.rw-point").count() == 2  # one per report
    assert (
        page.locator(f"{pane} path.rw-boundary").evaluate("p => p.getAttribute('d').length") > 200
    )  # a real outline, not a dot
    assert page.locator("#map .leaflet-tile").count() == 0  # no tile layer at all
    assert page.locator("#map .leaflet-control-attribution").count() == 0
    # The view fits the outline and the points, and the outline is not a speck.
    frame = box.bounding_box()
    outline = page.locator(f"{pane} path.rw-boundary").bounding_box()
    assert outline["width"] > 100 and outline["height"] > 100
    assert _inside(outline, frame)
    for i in range(2):
        assert _inside(page.locator(f"{pane} path.rw-point").nth(i).bounding_box(), frame)
    place = page.locator("#map-place").inner_text()
    assert "Quận Đống Đa, Thành phố Hà Nội" in place
    assert page.locator("#points .place").count() == 2
    page.screenshot(path=str(screenshots_dir / "console-map-offline.png"))

    assert refused == []  # nothing even tried to leave the machine
    assert errors == []
    context.close()
    publish_screenshot(screenshots_dir, "console-map-offline.png")


def test_configured_tile_server_is_asked_and_the_map_survives_its_absence(
    app: Flask, rw_server: RoadWatchServer, browser
) -> None:
    override(app, MAP_TILE_URL=TILES, MAP_TILE_ATTRIBUTION="© Bản đồ Công an tỉnh")
    world = build_world(app, app.test_client())
    refused: list[str] = []
    context = _offline_context(browser, rw_server.url, refused)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _open_case(page, "rev_b", world.cases["B"])
    page.wait_for_function("() => document.querySelectorAll('#map .leaflet-tile').length > 0")
    assert page.locator("#map .leaflet-overlay-pane path.rw-boundary").count() == 1
    assert page.locator("#map .leaflet-overlay-pane path.rw-point").count() == 1
    assert "© Bản đồ Công an tỉnh" in page.locator(".leaflet-control-attribution").inner_text()
    assert "Quận Ba Đình, Thành phố Hà Nội" in page.locator("#map-place").inner_text()
    assert refused and {urlsplit(u).hostname for u in refused} == {"tiles.cong-an.example.vn"}
    assert errors == []
    context.close()
