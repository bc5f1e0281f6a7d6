"""A report's detail a person understands (issue 14, item 5), at 390x844 in Vietnamese
and English: the short code from the server (also in the list), who handles the report,
the violation time and the saved time labelled (the list shows the same violation time),
and SHA-256, MIME type and exact byte counts folded under "technical details"."""

from __future__ import annotations

import re

import pytest

from server.extensions import db
from server.models import PoliceUnit, Report
from tests.browser.pages import BROWSER, App, file_payload, photo, publish_screenshot

pytestmark = BROWSER

CODE = re.compile(r"^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$")
HANOI_DISTRICT = "006"  # Quận Đống Đa: where the phone stands (tests/browser/pages.HANOI)

TEXT = {
    "vi": {
        "code": "Mã phản ánh",
        "unit": "Đơn vị xử lý",
        "violation_time": "Thời điểm vi phạm",
        "saved_time": "Lưu trên điện thoại lúc",
        "tech": "Thông tin kỹ thuật",
        "list_time": "Vi phạm lúc ",
        "bytes": "byte",
    },
    "en": {
        "code": "Report code",
        "unit": "Handled by",
        "violation_time": "Time of the violation",
        "saved_time": "Saved on the phone",
        "tech": "Technical details",
        "list_time": "Violation at ",
        "bytes": "bytes",
    },
}


def _dd(page, cls: str) -> str:
    return page.locator(f"#detail .{cls} dd").inner_text().strip()


def _dt(page, cls: str) -> str:
    return page.locator(f"#detail .{cls} dt").inner_text().strip()


def _shoot(page, directory, name: str, selector: str) -> None:
    """The phone's screen (390x844) with ``selector`` at its top, without the toast."""
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    page.evaluate(
        """(sel) => {
            const top = document.querySelector('.top').getBoundingClientRect().height;
            const y = document.querySelector(sel).getBoundingClientRect().top + scrollY - top - 8;
            window.scrollTo(0, Math.max(0, y));
        }""",
        selector,
    )
    page.wait_for_timeout(150)  # the last render and image decodes land
    page.screenshot(path=str(directory / name))
    publish_screenshot(directory, name)


@pytest.mark.parametrize(("lang", "unit"), [("vi", True), ("en", False)])
def test_detail_shows_code_unit_times_and_folded_technical_details(
    phone, rw_server, screenshots_dir, lang, unit
):
    text = TEXT[lang]
    if unit:  # a configured police unit is named; else the district's police
        with rw_server.app.app_context():
            db.session.add(
                PoliceUnit(district_code=HANOI_DISTRICT, code="CAQ-DD", name="Công an quận Đống Đa")
            )
            db.session.commit()
    page = phone.new_page()
    app = App(page).open(f"/?lang={lang}")
    jpeg = photo(70_000, seed=4)
    rid = app.capture([file_payload("IMG_1.jpg", jpeg)])
    app.show_reports()
    app.wait_state(rid, "sent")
    with rw_server.app.app_context():
        stored = db.session.get(Report, rid)
        code, media = stored.code, [(m.sha256, m.size, m.content_type) for m in stored.media]
    assert CODE.match(code)

    # The list: the code, and the violation time labelled as such.
    item = app.item(rid)
    item.locator(".item-code").wait_for()
    assert code in item.locator(".item-code").inner_text()
    list_time = item.locator(".item-time").inner_text().strip()
    assert list_time.startswith(text["list_time"])
    assert rid not in item.inner_text()

    item.locator("a.item-link").click()
    page.wait_for_selector(f"#detail [data-report-id='{rid}']")
    detail = page.locator("#detail")
    assert detail.locator(".report-code").inner_text().strip() == f"{text['code']}: {code}"
    # The same violation time as the list, labelled; the saved time beside it.
    assert _dt(page, "kv-violation-time") == text["violation_time"]
    assert _dd(page, "kv-violation-time") == list_time.removeprefix(text["list_time"])
    assert _dt(page, "kv-saved-time") == text["saved_time"]
    assert re.search(r"\d{2}:\d{2}", _dd(page, "kv-saved-time"))
    assert _dt(page, "kv-unit") == text["unit"]
    # Without a configured unit, the district's own police (the unit its case goes to).
    expected_unit = "Công an quận Đống Đa" if unit else "Công an Quận Đống Đa"
    assert expected_unit in _dd(page, "kv-unit")

    # Technical details are folded: the full id, hash and MIME type are not on screen.
    fold = detail.locator("details.tech")
    assert fold.locator("summary").inner_text().strip() == text["tech"]
    assert fold.get_attribute("open") is None
    sha, size, mime = media[0]
    assert not detail.get_by_text(sha).is_visible()
    assert not detail.get_by_text(rid).is_visible()
    _shoot(page, screenshots_dir, f"report-detail-{lang}.png", "#detail")

    fold.locator("summary").click()
    assert detail.get_by_text(sha).is_visible()
    assert detail.get_by_text(rid).is_visible()
    assert fold.locator("dd", has_text=mime).count() == 1
    size_text = fold.locator(".tech-file dd", has_text=text["bytes"]).inner_text()
    assert re.sub(r"\D", "", size_text) == str(size) == str(len(jpeg))
    _shoot(page, screenshots_dir, f"report-detail-tech-{lang}.png", "#detail details.tech")


def test_detail_before_sending_says_when_the_code_and_unit_come(phone):
    page = phone.new_page()
    app = App(page).open("/")
    app.wait_catalogue()
    phone.route("**/api/v1/**", lambda route: route.abort())  # the network is gone
    rid = app.capture([file_payload("IMG_1.jpg", photo(40_000, seed=5))])
    page.goto(f"/#report/{rid}")
    page.wait_for_selector(f"#detail [data-report-id='{rid}']")
    assert "Có khi máy chủ nhận phản ánh" in page.locator("#detail .report-code").inner_text()
    assert _dd(page, "kv-unit") == "Xác định khi máy chủ nhận phản ánh"
    assert page.locator("#detail .kv-received-time").count() == 0
