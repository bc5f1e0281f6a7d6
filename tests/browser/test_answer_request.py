"""A request for information gets an answer, offline first (issue 26, item 1).

The reviewer asks for a video; the phone shows the question with a form on the same
report. With no network the reporter adds a file and a short message: the answer is
saved in the outbox (nothing leaves the phone) and survives a reload; when the network
returns it is sent once (the PUT of the answer, the file through tus), the report reads
"Đã bổ sung, chờ xem xét", and the console shows the case back on top of the queue
marked "Đã bổ sung" with what was added and when. Screenshots at 390×844 of the phone
and of the console (docs/screenshots/answer-phone-*.png, answer-console.png with
UPDATE_DOC_SCREENSHOTS=1); axe finds nothing serious on either.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.models import Case, Media, Report, ReportAnswer, User
from server.services import accounts, review
from server.services.evidence import media_store
from tests.browser.axe import axe_violations, blocking
from tests.browser.pages import BROWSER, PHONE, App, file_payload, photo, publish_screenshot
from tests.test_console import PASSWORD

pytestmark = BROWSER

ANSWER_TEXT = "Xe vẫn đỗ đó lúc 9 giờ, tôi gửi thêm ảnh biển số"


def _ask(app, report_id: str) -> str:
    with app.app_context():
        accounts.create_user(
            "rev_a", PASSWORD, "reviewer", districts=["006"], display_name="Cán bộ A"
        )
        user = db.session.scalar(sa.select(User).where(User.username == "rev_a"))
        report = db.session.get(Report, report_id)
        case = db.session.get(Case, report.case_id)
        review.decide(
            user, case, "needs_info", reason_code="need_plate_photo",
            public_note="Ảnh chưa thấy rõ biển số, bạn gửi thêm giúp.",
        )  # fmt: skip
        return case.id


def _answers(page) -> list[dict]:
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open('roadwatch');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction('reports').objectStore('reports').getAll();
            req.onsuccess = () => { open.result.close();
              resolve(req.result.flatMap((r) => (r.answers || []).map((a) => ({
                report_id: r.id, answer_id: a.answer_id, phase: a.phase, text: a.text,
                media: a.media.map((m) => ({ media_id: m.media_id, received: m.received })),
              })))); };
          };
        })"""
    )


def _shoot(page, directory, name: str, selector: str | None = None) -> None:
    page.wait_for_selector("#toast", state="hidden", timeout=10_000)
    if selector:
        page.locator(selector).scroll_into_view_if_needed()
    page.wait_for_timeout(150)
    page.screenshot(path=str(directory / name))
    publish_screenshot(directory, name)


def test_the_reporter_answers_offline_and_the_answer_reaches_the_reviewer_once(
    phone, rw_server, browser, screenshots_dir
):
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    app = App(page).open()
    app.wait_controlled()
    report_id = app.capture([file_payload("xe.jpg", photo(60_000, seed=7))])
    app.show_reports()
    app.wait_state(report_id, "sent")
    case_id = _ask(rw_server.app, report_id)

    # The phone learns of the request from the change feed (app start pulls it).
    page.reload()
    app.wait_ready()
    page.goto(f"/#report/{report_id}")
    page.wait_for_selector("#answer-box", timeout=20_000)
    assert "Cần ảnh rõ biển số xe" in page.locator("#detail .server").inner_text()
    assert page.locator("#detail .server").get_attribute("data-status") == "needs_info"

    # No network: the answer is written to the outbox, nothing is sent.
    phone.set_offline(True)
    extra = photo(90_000, seed=8)
    page.fill("#answer-text", ANSWER_TEXT)
    page.set_input_files("#answer-files", [file_payload("bien-so.jpg", extra)])
    page.wait_for_selector("#answer-picked li")
    _shoot(page, screenshots_dir, "answer-phone-form.png", "#answer-box")
    page.click("#answer-send")
    page.wait_for_selector("#answers li[data-state=saved]")
    assert not page.locator("#answer-box").count()  # one answer at a time
    [saved] = _answers(page)
    assert (saved["phase"], saved["text"]) == ("saved", ANSWER_TEXT)
    assert rw_server.traffic.count("PUT", f"/api/v1/reports/{report_id}/answers") == 0
    # The outbox says something is still to send.
    app.show_reports()
    summary = page.locator("#queue-summary")
    assert summary.inner_text() == "1 phản ánh đang chờ gửi"
    assert summary.get_attribute("data-unsent") == "1"

    page.reload()  # the app shell from the service worker, the answer from IndexedDB
    app.wait_ready()
    page.goto(f"/#report/{report_id}")
    page.wait_for_selector("#answers li[data-state=saved]")
    assert "Đã lưu trên máy, chờ gửi" in page.locator("#answers").inner_text()
    _shoot(page, screenshots_dir, "answer-phone-saved-offline.png", "#answers")

    phone.set_offline(False)  # the `online` event starts the sync
    page.wait_for_selector("#answers li[data-state=sent]", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#detail .server')?.dataset.status === 'info_added'",
        timeout=20_000,
    )
    assert "Đã bổ sung, chờ xem xét" in page.locator("#detail .server").inner_text()
    [sent] = _answers(page)
    assert sent["phase"] == "sent" and all(m["received"] for m in sent["media"])
    _shoot(page, screenshots_dir, "answer-phone-sent.png")
    assert rw_server.traffic.count("PUT", f"/api/v1/reports/{report_id}/answers") == 1

    with rw_server.app.app_context():
        stored = db.session.scalars(sa.select(ReportAnswer)).all()
        assert [(a.id, a.report_id, a.text) for a in stored] == [
            (sent["answer_id"], report_id, ANSWER_TEXT)
        ]
        media = db.session.get(Media, sent["media"][0]["media_id"])
        assert media.answer_id == sent["answer_id"] and media.received_at is not None
        assert media_store().blob_path(media.sha256).read_bytes() == extra  # byte-identical
        assert db.session.get(Report, report_id).status == "info_added"
        assert db.session.get(Case, case_id).answered_at is not None
    assert errors == []
    serious = blocking(axe_violations(page))
    assert serious == [], [n for v in serious for n in v["nodes"]]

    # The console, at a phone's size: the case on top of the queue, marked, with the answer.
    context = browser.new_context(
        base_url=rw_server.url, viewport=PHONE, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh"
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    console = context.new_page()
    console.goto("/console/login")
    console.fill("input[name=username]", "rev_a")
    console.fill("input[name=password]", PASSWORD)
    console.click("main button[type=submit]")
    console.wait_for_url("**/console/queue")
    first = console.locator("table.queue tbody tr").first
    assert first.get_attribute("data-case") == case_id
    assert "Đã bổ sung" in first.inner_text()
    console.goto(f"/console/cases/{case_id}")
    answers = console.locator("#answers")
    assert ANSWER_TEXT in answers.inner_text() and "1 tệp bổ sung" in answers.inner_text()
    assert console.locator(".answer-file").count() == 1
    answers.scroll_into_view_if_needed()
    console.screenshot(path=str(screenshots_dir / "answer-console.png"))
    publish_screenshot(screenshots_dir, "answer-console.png")
    serious = blocking(axe_violations(console))
    assert serious == [], [n for v in serious for n in v["nodes"]]
    context.close()
