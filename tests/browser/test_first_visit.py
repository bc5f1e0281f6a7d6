"""The first visit (issue 14, item 4), at 390x844 in Vietnamese and English: one short
screen (what happens to a report, who receives it, that a named informant's identity is
kept secret, what the statuses mean) before the form, shown once and again from
Settings; the install offer (the browser's prompt, or iOS instructions); the manifest's
description and screenshots."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import pytest
import requests

from tests.browser.axe import axe_violations, blocking
from tests.browser.pages import BROWSER, App, phone_context_options, publish_screenshot

pytestmark = BROWSER

PWA = Path(__file__).resolve().parents[2] / "pwa"
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
TEXT = {
    "vi": {
        "title": "Trước khi bắt đầu",
        "who": "Công an xã, phường",
        "secret": "danh tính được giữ bí mật",
        "statuses": [
            "Đã lưu trên máy", "Cần xử lý", "Đã gửi", "Đang chờ đủ tệp",
            "Đã tiếp nhận, chờ xử lý", "Cần bổ sung thông tin", "Đã bổ sung, chờ xem xét",
            "Đã xác minh vi phạm", "Đã ra quyết định xử phạt", "Không được chấp nhận",
            "Đang xem xét lại", "Đã hết hạn",
        ],  # fmt: skip
        "start": "Bắt đầu báo vi phạm",
        "again": "Xem lại hướng dẫn",
        "ios": "Thêm vào MH chính",
    },
    "en": {
        "title": "Before you start",
        "who": "police of the commune or ward",
        "secret": "identity is kept secret",
        "statuses": [
            "Saved on phone", "Needs attention", "Sent", "Waiting for all files",
            "Received, awaiting review", "More information needed",
            "Information added, awaiting review", "Violation verified",
            "A penalty decision was issued", "Not accepted", "Under review again", "Expired",
        ],  # fmt: skip
        "start": "Start reporting",
        "again": "Show the guide again",
        "ios": "Add to Home Screen",
    },
}


def _new_phone(browser, url: str, **options):
    return browser.new_context(**{**phone_context_options(url, first_visit=True), **options})


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_first_visit_screen_once_then_the_form_and_again_from_settings(
    browser, rw_server, screenshots_dir, lang
):
    text = TEXT[lang]
    context = _new_phone(browser, rw_server.url)
    try:
        page = context.new_page()
        App(page).open(f"/?lang={lang}")
        welcome = page.locator("#welcome")
        welcome.wait_for(state="visible")
        body = welcome.inner_text()
        assert text["title"] in body
        assert text["who"] in body and text["secret"] in body
        # Every status a report can show is explained (issue 26).
        shown = welcome.locator(".welcome-statuses dt").all_inner_texts()
        assert len(shown) == len(text["statuses"])
        for status, dt in zip(text["statuses"], shown, strict=True):
            assert dt.startswith(status), (status, dt)
        # The form is behind it, not in front.
        assert page.evaluate("document.elementFromPoint(195, 400).closest('#welcome') !== null")
        assert blocking(axe_violations(page)) == []  # 0 critical, 0 serious
        page.wait_for_timeout(150)
        page.screenshot(path=str(screenshots_dir / f"first-visit-{lang}.png"))
        publish_screenshot(screenshots_dir, f"first-visit-{lang}.png")

        page.get_by_role("button", name=text["start"]).click()
        welcome.wait_for(state="hidden")
        assert page.locator("form[name=report]").is_visible()

        page.reload()
        App(page).wait_ready()
        page.wait_for_timeout(300)  # the (lazy) screen would have shown by now
        assert welcome.is_hidden()
        assert page.locator("form[name=report]").is_visible()

        page.locator("nav.tabs a[data-tab=settings]").click()
        page.get_by_role("button", name=text["again"]).click()
        welcome.wait_for(state="visible")
        page.get_by_role("button", name=text["start"]).click()
        welcome.wait_for(state="hidden")
    finally:
        context.close()


def test_install_button_uses_the_browsers_prompt(browser, rw_server):
    context = _new_phone(browser, rw_server.url)
    try:
        page = context.new_page()
        App(page).open("/")
        page.locator("#welcome").wait_for(state="visible")
        assert page.locator("#install-btn").count() == 0  # no prompt offered yet
        page.evaluate(
            """() => {
                const event = new Event('beforeinstallprompt', { cancelable: true });
                event.prompt = () => { window.__prompted = true; return Promise.resolve(); };
                window.dispatchEvent(event);
            }"""
        )
        page.locator("#install-btn").click()
        page.wait_for_function("() => window.__prompted === true")
        page.locator("#install-btn").wait_for(state="detached")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_iphone_gets_add_to_home_screen_instructions(browser, rw_server, lang):
    context = _new_phone(browser, rw_server.url, user_agent=IPHONE_UA)
    try:
        page = context.new_page()
        App(page).open(f"/?lang={lang}")
        page.locator("#welcome").wait_for(state="visible")
        assert TEXT[lang]["ios"] in page.locator("#welcome .install-how").inner_text()
        assert page.locator("#install-btn").count() == 0
    finally:
        context.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_manifest_has_description_and_screenshots_taken_at_390x844(rw_server):
    manifest = requests.get(f"{rw_server.url}/manifest.webmanifest", timeout=10).json()
    assert "vi phạm giao thông" in manifest["description"]
    shots = manifest["screenshots"]
    assert len(shots) >= 2
    for shot in shots:
        assert shot["sizes"] == "390x844" and shot["type"] == "image/png"
        assert shot["form_factor"] == "narrow" and shot["label"]
        resp = requests.get(f"{rw_server.url}{shot['src']}", timeout=10)
        assert resp.status_code == 200, shot["src"]
        assert _png_size(resp.content) == (390, 844)


@pytest.mark.skipif(
    os.environ.get("UPDATE_DOC_SCREENSHOTS") != "1", reason="refreshes pwa/screenshots/"
)
def test_refresh_manifest_screenshots(browser, rw_server, screenshots_dir):
    """UPDATE_DOC_SCREENSHOTS=1: take the manifest's screenshots from the app."""
    context = _new_phone(browser, rw_server.url)
    try:
        page = context.new_page()
        app = App(page).open("/")
        page.locator("#welcome").wait_for(state="visible")
        page.wait_for_timeout(150)
        page.screenshot(path=str(screenshots_dir / "manifest-welcome.png"))
        page.get_by_role("button", name=TEXT["vi"]["start"]).click()
        app.wait_catalogue()
        page.wait_for_selector("#loc-box[data-state=fix]")
        page.wait_for_timeout(150)
        page.screenshot(path=str(screenshots_dir / "manifest-capture.png"))
    finally:
        context.close()
    (PWA / "screenshots").mkdir(exist_ok=True)
    shutil.copy(screenshots_dir / "manifest-welcome.png", PWA / "screenshots" / "welcome.png")
    shutil.copy(screenshots_dir / "manifest-capture.png", PWA / "screenshots" / "capture.png")
