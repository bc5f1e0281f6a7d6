"""Nothing leaves the phone silently: an unsent report is deleted only after a warning
the user confirms; a sent report's files are freed only once the server has them all,
and the report itself stays listed."""

from __future__ import annotations

from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER

CHUNK_COUNT = """(mediaId) => new Promise((resolve) => {
  const open = indexedDB.open('roadwatch');
  open.onsuccess = () => {
    const db = open.result;
    const range = IDBKeyRange.bound([mediaId, 0], [mediaId, Infinity]);
    const req = db.transaction('chunks').objectStore('chunks').count(range);
    req.onsuccess = () => { db.close(); resolve(req.result); };
  };
})"""


def test_unsent_report_is_deleted_only_after_a_confirmed_warning(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    app.wait_controlled()  # installed: the lazily loaded save module is on the phone
    phone.set_offline(True)
    report_id = app.capture([file_payload("xoa.jpg", photo(1_500_000, seed=71))])
    media_id = app.report(report_id)["media"][0]["media_id"]
    page.goto(f"/#report/{report_id}")
    page.wait_for_selector(f"#detail [data-report-id='{report_id}'][data-state=saved]")

    page.get_by_role("button", name="Xoá khỏi điện thoại").click()
    assert "CHƯA được gửi xong" in page.locator("#confirm-text").inner_text()
    page.get_by_role("button", name="Huỷ").click()
    assert [r["id"] for r in app.reports()] == [report_id]
    assert page.evaluate(CHUNK_COUNT, media_id) == 2

    page.get_by_role("button", name="Xoá khỏi điện thoại").click()
    page.locator("#confirm-ok").click()
    page.wait_for_function("() => location.hash === '#reports'")
    assert app.reports() == []
    assert page.evaluate(CHUNK_COUNT, media_id) == 0


def test_freeing_space_keeps_the_sent_report_and_drops_only_acknowledged_files(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    sent_id = app.capture([file_payload("da-gui.jpg", photo(1_200_000, seed=72))])
    app.show_reports()
    app.wait_state(sent_id, "sent", timeout=30_000)
    phone.set_offline(True)
    page.locator("nav.tabs a[data-tab=capture]").click()
    queued_id = app.capture([file_payload("chua-gui.jpg", photo(300_000, seed=73))])
    sent_media = app.report(sent_id)["media"][0]["media_id"]
    queued_media = app.report(queued_id)["media"][0]["media_id"]

    page.locator("nav.tabs a[data-tab=settings]").click()
    button = page.locator("#purge-all")
    page.wait_for_function(
        "() => document.querySelector('#purge-all').textContent.includes('1,2 MB')"
    )
    button.click()
    page.locator("#confirm-ok").click()
    page.wait_for_function("() => document.querySelector('#purge-all').disabled")

    assert page.evaluate(CHUNK_COUNT, sent_media) == 0
    assert page.evaluate(CHUNK_COUNT, queued_media) == 1  # not acknowledged: untouched
    states = {r["id"]: r["phase"] for r in app.reports()}
    assert states == {sent_id: "sent", queued_id: "saved"}
    app.show_reports()
    app.wait_state(sent_id, "sent")  # still listed, with its status
