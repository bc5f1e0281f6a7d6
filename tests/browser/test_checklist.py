"""The per-violation evidence checklist on the capture form (issue 16, item 5).

* pwa/js/capture/checklist.js gives the statuses of tests/data/evidence_checklist_cases.json,
  the table server/services/checklist.py is tested against too (so the two cannot drift),
  evaluated in the browser on the catalogue as GET /api/v1/violations serves it;
* parking with one photo: the checklist says the second photo is missing; "save and send"
  asks first, "add evidence" goes back to the files (nothing saved), "send anyway" saves;
  a second photo minutes apart ticks the item; in Vietnamese and in English;
* weaving: a video ticks "a video of the act" and the report is saved without a question;
  offline, after a reload from the service worker's cache;
* axe-core: no critical or serious violation with the checklist open, nor on the dialog.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from server.services.checklist import Media, evaluate
from tests.browser.axe import axe_violations, blocking
from tests.browser.pages import (
    BROWSER,
    VN,
    App,
    file_payload,
    phone_context_options,
    photo,
    publish_screenshot,
)
from tests.media_factory import make_mp4_head

pytestmark = BROWSER

CASES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "evidence_checklist_cases.json").read_text(
        "utf-8"
    )
)["cases"]
T0 = datetime(2026, 11, 20, 8, 0)

TEXT = {
    "vi": {
        "two_photos": "Hai ảnh cách nhau vài phút",
        "plate": "Biển số đọc được rõ",
        "video": "Quay video hành vi, không chỉ chụp ảnh",
        "missing": "Còn thiếu",
        "met": "Đã có",
        "to_check": "Bạn tự kiểm tra",
        "warn": "Bằng chứng còn thiếu",
        "gap": "ít nhất 2 ảnh, cách nhau từ 5 phút",
    },
    "en": {
        "two_photos": "Two photos some minutes apart",
        "plate": "The number plate is readable",
        "video": "A video of the act, not only a photo",
        "missing": "Missing",
        "met": "Done",
        "to_check": "Check it yourself",
        "warn": "Evidence missing",
        "gap": "at least 2 photos, 5 minutes or more apart",
    },
}


def _item(page, code: str):
    return page.locator(f"#violation-checklist li[data-code={code}]")


def _status(page, code: str) -> str | None:
    return _item(page, code).get_attribute("data-status")


def _wait_status(page, code: str, status: str) -> None:
    page.wait_for_selector(f"#violation-checklist li[data-code={code}][data-status={status}]")


def _assert_no_blocking(page, where: str) -> None:
    page.wait_for_timeout(100)  # the last render lands
    found = blocking(axe_violations(page))
    assert not found, (where, found)


def _scroll_to(page, selector: str) -> None:
    page.evaluate(
        """(sel) => {
            const top = document.querySelector('.top').getBoundingClientRect().height;
            const y = document.querySelector(sel).getBoundingClientRect().top + scrollY - top - 8;
            window.scrollTo(0, Math.max(0, y));
        }""",
        selector,
    )


def _shot(page, screenshots_dir: Path, name: str, *, publish: bool = True) -> None:
    page.wait_for_timeout(150)
    page.screenshot(path=str(screenshots_dir / name))
    if publish:  # docs/screenshots/ with UPDATE_DOC_SCREENSHOTS=1
        publish_screenshot(screenshots_dir, name)


def _photo_at(name: str, seed: int, when: datetime) -> dict:
    return file_payload(name, photo(40_000, seed=seed, taken_at=when))


def test_js_checklist_gives_the_statuses_of_the_shared_table_like_the_server(phone, rw_server):
    page = phone.new_page()
    App(page).open()
    version = page.evaluate("document.documentElement.dataset.version")
    t0 = int(T0.replace(tzinfo=VN).timestamp() * 1000)
    got = page.evaluate(
        """async ([url, cases, t0]) => {
            const { evaluate } = await import(url);
            const body = await (await fetch('/api/v1/violations')).json();
            const byCode = Object.fromEntries(body.violations.map((v) => [v.code, v]));
            return cases.map((c) => evaluate(
                byCode[c.violation].evidence,
                c.media.map(([kind, min, picture]) => ({
                    kind, capturedAt: min === null ? null : t0 + min * 60000,
                    picture: picture ?? null,
                })),
            ).map((r) => [r.code, r.status]));
        }""",
        [f"/a/{version}/js/capture/checklist.js", CASES, t0],
    )
    for case, statuses in zip(CASES, got, strict=True):
        assert statuses == case["expected"], case["id"]
        media = [
            Media(row[0], None if row[1] is None else T0 + timedelta(minutes=row[1]), *row[2:])
            for row in case["media"]
        ]
        server = [[r.code, r.status] for r in evaluate(case["violation"], media)]
        assert statuses == server, case["id"]
    assert len(CASES) >= 15


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_parking_with_one_photo_warns_before_sending_and_send_anyway_saves(
    browser, rw_server, screenshots_dir, lang
):
    text = TEXT[lang]
    context = browser.new_context(**phone_context_options(rw_server.url))
    try:
        page = context.new_page()
        app = App(page).open(f"/?lang={lang}")
        now = datetime.now(VN)
        app.fill([_photo_at("IMG_1.jpg", 1, now - timedelta(minutes=1))])  # parking
        _wait_status(page, "TWO_PHOTOS_APART", "not_met")
        assert _status(page, "PLATE_READABLE") == "to_check"  # only a person can tell
        assert _status(page, "PLACE_VISIBLE") == "to_check"
        box = page.locator("#violation-checklist").inner_text()
        for key in ("two_photos", "plate", "missing", "to_check", "gap"):
            assert text[key] in box, (key, box)
        assert "TWO_PHOTOS_APART" not in box and "not_met" not in box  # no raw codes
        _assert_no_blocking(page, f"checklist-{lang}")

        # Save: a question first, naming what is missing.
        app.form.locator("button[type=submit]").click()
        dialog = page.locator("#checklist-warn[open]")
        dialog.wait_for()
        assert text["warn"] in dialog.inner_text()
        assert dialog.locator("li").all_inner_texts() == [f"{text['two_photos']} ({text['gap']})"]
        _assert_no_blocking(page, f"warning-{lang}")
        _shot(page, screenshots_dir, f"checklist-warning-{lang}.png", publish=lang == "vi")

        # "Add evidence": nothing saved, back at the photo button.
        dialog.locator("button[value=add]").click()
        page.wait_for_selector("#checklist-warn:not([open])", state="attached")
        assert app.reports() == []
        assert page.evaluate("document.activeElement.name") == "camera_photo"

        # A second photo six minutes after the first ticks the item.
        app.form.locator("input[name=media]").set_input_files(
            [_photo_at("IMG_2.jpg", 2, now + timedelta(minutes=5))]
        )
        _wait_status(page, "TWO_PHOTOS_APART", "met")
        assert text["met"] in _item(page, "TWO_PHOTOS_APART").inner_text()
        _scroll_to(page, "#violation-chosen .fines")
        _shot(page, screenshots_dir, f"checklist-{lang}.png")

        # Without it again, "send anyway" is a normal save: a citizen's report is accepted.
        page.locator("#media-list .media-item").nth(1).locator("button.remove").click()
        _wait_status(page, "TWO_PHOTOS_APART", "not_met")
        app.form.locator("button[type=submit]").click()
        dialog.wait_for()
        dialog.locator("button[value=send]").click()
        page.wait_for_function(
            "() => !document.querySelector('form[name=report] button[type=submit]').disabled"
            " && document.querySelectorAll('#media-list .media-item').length === 0"
        )
        [saved] = app.reports()
        assert saved["body"]["violation"] == "PARK_SIDEWALK_ROADWAY"
        assert len(saved["media"]) == 1
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_video_ticks_weaving_and_saves_without_a_question_offline(browser, rw_server, lang):
    text = TEXT[lang]
    context = browser.new_context(**phone_context_options(rw_server.url))
    try:
        page = context.new_page()
        app = App(page).open(f"/?lang={lang}")
        app.wait_catalogue()
        app.wait_controlled()
        context.set_offline(True)  # the catalogue and the checklist module from the phone
        page.reload()
        app.wait_ready()
        app.fill([_photo_at("IMG_3.jpg", 3, datetime.now(VN))], violation="WEAVING")
        _wait_status(page, "VIDEO_OF_ACT", "not_met")
        assert text["video"] in _item(page, "VIDEO_OF_ACT").inner_text()
        app.form.locator("input[name=camera_video]").set_input_files(
            [file_payload("VID_1.mp4", make_mp4_head(total=200_000), "video/mp4")]
        )
        _wait_status(page, "VIDEO_OF_ACT", "met")
        assert text["met"] in _item(page, "VIDEO_OF_ACT").inner_text()
        assert _status(page, "PLATE_READABLE") == "to_check"
        report_id = app.submit()
        assert page.evaluate("document.getElementById('checklist-warn')") is None  # not asked
        assert app.report(report_id)["body"]["violation"] == "WEAVING"
        # The form is cleared: no violation, no checklist.
        assert page.locator("#violation-checklist").is_hidden()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [((3, 3), "not_met"), ((3, 4), "met")],
    ids=["one-picture-copied", "two-pictures"],
)
def test_two_copies_of_one_photo_with_other_exif_times_are_one_picture_on_the_phone(
    phone, rw_server, seeds, expected
):
    """The phone's checklist hashes what each photo shows: pixel-identical copies whose
    EXIF times are ten minutes apart do not make "two photos minutes apart" (issue 26)."""
    page = phone.new_page()
    app = App(page).open()
    now = datetime.now(VN)
    app.fill(
        [
            _photo_at("IMG_1.jpg", seeds[0], now - timedelta(minutes=11)),
            _photo_at("IMG_2.jpg", seeds[1], now - timedelta(minutes=1)),
        ]
    )
    # Both photos read (EXIF time) and hashed before the status is judged.
    page.wait_for_function(
        """() => {
            const items = [...document.querySelectorAll('#media-list .media-item')];
            return items.length === 2
                && items.every((i) => i.dataset.picture && i.dataset.exif);
        }"""
    )
    pictures = page.eval_on_selector_all(
        "#media-list .media-item", "els => els.map((e) => e.dataset.picture)"
    )
    assert all(len(p) == 16 for p in pictures)
    assert (pictures[0] == pictures[1]) == (seeds[0] == seeds[1])
    _wait_status(page, "TWO_PHOTOS_APART", expected)
