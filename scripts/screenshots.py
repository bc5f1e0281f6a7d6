"""Every PWA screen at 390x844 in Vietnamese and English, in real states, saved under
test-artifacts/screenshots/ (a few are kept in docs/screenshots/). A tool, not a test:
it asserts only that the states it photographs were reached.

    ./scripts/screenshots [pytest options]

It runs under pytest to borrow the test suite's fixtures (the app on a temporary SQLite
database, the live server, Chromium): tests/conftest.py and tests/browser/conftest.py
are loaded as plugins, and only the functions named ``screens_*`` are run.

The report states are produced for real: a report sent and reviewed (a status with a
public note from the change feed), one refused with a 409 conflict, one part-way
through a throttled upload, one still queued behind it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.extensions import db
from server.models import Report
from server.services.status import set_status
from tests.browser.pages import (
    BROWSER,
    VN,
    App,
    file_payload,
    phone_context_options,
    photo,
)
from tests.browser.test_location import NO_FIX_YET
from tests.factories import Api, report_body

pytestmark = BROWSER

LANGS = ("vi", "en")
REVIEWER_NOTE = "Đã chuyển Đội CSGT số 3 xử lý. Cảm ơn bạn đã phản ánh!"


def shoot(page, directory, lang: str, name: str) -> None:
    page.wait_for_timeout(150)  # let the last render and image decodes land
    page.screenshot(path=str(directory / f"{lang}-{name}.png"))


def scroll_to(page, selector: str) -> None:
    page.evaluate(
        """(sel) => {
            const top = document.querySelector('.top').getBoundingClientRect().height;
            const y = document.querySelector(sel).getBoundingClientRect().top + scrollY - top - 8;
            window.scrollTo(0, Math.max(0, y));
        }""",
        selector,
    )


def switch_lang(page, lang: str) -> None:
    page.locator("nav.tabs a[data-tab=settings]").click()
    page.locator(f"input[name=lang][value={lang}]").check(force=True)
    page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def street_photo(seed: int, **kw) -> bytes:
    return photo(120_000 + seed, seed=seed, pixels=(640, 480), **kw)


def capture_screens(browser, url: str, out, lang: str) -> None:
    context = browser.new_context(**phone_context_options(url, geolocation=True))
    try:
        page = context.new_page()
        app = App(page).open(f"/?lang={lang}")
        app.wait_catalogue()
        page.wait_for_selector("#loc-box[data-state=fix]")
        shoot(page, out, lang, "01-capture")

        old = datetime.now(VN) - timedelta(hours=3)
        form = app.form
        form.locator("input[name=media]").set_input_files(
            [
                file_payload("IMG_2041.jpg", street_photo(1)),
                file_payload(
                    "IMG_1988.jpg", street_photo(2, taken_at=old, where=(21.0453, 105.8012))
                ),
            ]
        )
        page.wait_for_selector("#media-list .warn")
        shoot(page, out, lang, "02-capture-photos")

        form.locator("input[name=violation_search]").fill("mu bao hiem")
        form.locator("select[name=violation]").select_option("NO_HELMET")
        form.locator("input[name=vehicle_class][value=motorbike]").check(force=True)
        form.locator("input[name=plate]").fill("29b1 12345")
        form.locator("input[name=vehicle_description]").fill("Honda Wave màu đỏ")
        scroll_to(page, "#sec-violation")
        shoot(page, out, lang, "03-capture-violation-vehicle")

        page.locator("#sec-named summary").click()
        form.locator("input[name=reporter_name]").fill("Nguyễn Thị Lan")
        form.locator("input[name=phone]").fill("0912345678")
        scroll_to(page, "#sec-named")
        shoot(page, out, lang, "04-capture-named-report")

        form.locator("button[type=submit]").click()
        page.wait_for_selector("#toast:not([hidden])")
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, out, lang, "05-capture-saved")
    finally:
        context.close()


def location_screens(browser, url: str, out, lang: str) -> None:
    context = browser.new_context(**phone_context_options(url, geolocation=False))
    try:
        page = context.new_page()
        app = App(page).open(f"/?lang={lang}")
        app.form.locator("input[name=media]").set_input_files(
            [file_payload("IMG_3001.jpg", photo(90_000, seed=9, exif=False, pixels=(640, 480)))]
        )
        page.wait_for_selector("#loc-box[data-state=denied]")
        app.form.locator("button[type=submit]").click()
        scroll_to(page, "#sec-location")
        shoot(page, out, lang, "06-location-denied")
        page.locator("#btn-manual").click()
        app.form.locator("input[name=manual_location]").fill("21.03000, 105.85000")
        scroll_to(page, "#sec-location")
        shoot(page, out, lang, "07-location-manual")
    finally:
        context.close()
    context = browser.new_context(**phone_context_options(url, geolocation=True))
    try:
        context.add_init_script(NO_FIX_YET)
        page = context.new_page()
        App(page).open(f"/?lang={lang}")
        page.wait_for_selector("#loc-box[data-state=waiting]")
        scroll_to(page, "#sec-location")
        shoot(page, out, lang, "08-location-no-fix-yet")
    finally:
        context.close()


def screens_of_every_screen_in_both_languages(browser, rw_server, screenshots_dir):
    out = screenshots_dir
    for lang in LANGS:
        capture_screens(browser, rw_server.url, out, lang)
        location_screens(browser, rw_server.url, out, lang)

    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=True))
    page = context.new_page()
    app = App(page).open("/?lang=vi")
    app.wait_controlled()
    app.show_reports()
    shoot(page, out, "vi", "09-reports-empty")

    # A: sent, then reviewed on the server; the phone pulls the status and the note.
    page.locator("nav.tabs a[data-tab=capture]").click()
    sent_id = app.capture([file_payload("IMG_0912.jpg", street_photo(3))], plate="30A-123.45")
    app.show_reports()
    app.wait_state(sent_id, "sent")
    with rw_server.app.app_context():
        set_status(db.session.get(Report, sent_id), "verified", public_note=REVIEWER_NOTE)
        db.session.commit()
    page.reload()
    app.wait_ready()
    app.show_reports()
    page.wait_for_selector(f"li[data-report-id='{sent_id}'] .server[data-status=verified]")

    # B, D, C captured while the server is unreachable (D is 2.5 MB).
    context.route("**/api/v1/**", lambda route: route.abort())
    page.locator("nav.tabs a[data-tab=capture]").click()
    conflict_id = app.capture([file_payload("IMG_0915.jpg", street_photo(4))], plate="51G-678.90")
    sending_id = app.capture(
        [file_payload("VID_0916.jpg", photo(2_500_000, seed=5, pixels=(640, 480)))],
        violation="RED_LIGHT",
        vehicle="motorbike",
        plate="29-B1 123.45",
    )
    saved_id = app.capture(
        [file_payload("IMG_0917.jpg", street_photo(6))], violation="WRONG_LANE", plate="43A-567.89"
    )
    # Someone else's report already holds B's id on the server: a genuine 409.
    other = Api.register(rw_server.app.test_client())
    assert other.put_report(conflict_id, report_body()).status_code == 201

    # The network comes back, slowly (200 kB/s up): B needs attention, D is sending.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 40, "downloadThroughput": -1, "uploadThroughput": 200_000},
    )
    context.unroute("**/api/v1/**")
    app.show_reports()
    page.locator("#send-now").click()
    app.wait_state(conflict_id, "attention", timeout=20_000)
    page.wait_for_function(
        f"""() => {{
            const bar = document.querySelector("li[data-report-id='{sending_id}'] .bar");
            return bar && Number(bar.getAttribute('aria-valuenow')) >= 40;
        }}""",
        timeout=30_000,
    )
    assert app.states()[saved_id] == "saved"
    for lang in LANGS:
        switch_lang(page, lang)
        app.show_reports()
        shoot(page, out, lang, "10-reports-states")

    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    for lang in LANGS:
        switch_lang(page, lang)
        page.goto(f"/#report/{sent_id}")
        page.wait_for_selector(f"#detail [data-report-id='{sent_id}'] img[src^=blob]")
        shoot(page, out, lang, "11-report-sent-reviewed")
        page.goto(f"/#report/{conflict_id}")
        page.wait_for_selector(f"#detail [data-report-id='{conflict_id}'][data-state=attention]")
        shoot(page, out, lang, "12-report-attention")
        page.locator("nav.tabs a[data-tab=settings]").click()
        page.wait_for_selector("#about-device:not(:empty)")
        shoot(page, out, lang, "14-settings")

    app.show_reports()
    app.wait_state(sending_id, "sent", timeout=60_000)
    app.wait_state(saved_id, "sent", timeout=60_000)
    assert app.states()[conflict_id] == "attention"  # never deleted, never retried blindly
    context.close()

