"""Capture with no network, survive a reload, then exactly one report on the server."""

from __future__ import annotations

from server.extensions import db
from server.models import Media, Report
from server.services.evidence import media_store
from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER


def stored_reports(app) -> list[Report]:
    with app.app_context():
        reports = db.session.execute(db.select(Report)).scalars().all()
        for r in reports:
            _ = list(r.media)
        db.session.expunge_all()
        return reports


def blob_bytes(app, sha256: str) -> bytes:
    with app.app_context():
        return media_store().blob_path(sha256).read_bytes()


def test_offline_capture_is_queued_survives_reload_and_syncs_exactly_once(phone, rw_server):
    page = phone.new_page()
    app = App(page).open()
    app.wait_controlled()

    phone.set_offline(True)
    data = [photo(400_000, seed=1), photo(250_000, seed=2)]
    report_id = app.capture(
        [file_payload("vi-pham-1.jpg", data[0]), file_payload("vi-pham-2.jpg", data[1])],
        note="Đỗ xe trên vỉa hè",
    )
    app.show_reports()
    app.wait_state(report_id, "saved")

    # The app shell comes from the service worker; the queue from IndexedDB.
    page.reload()
    app.wait_ready()
    app.show_reports()
    app.wait_state(report_id, "saved")
    stored = app.report(report_id)
    assert stored["phase"] == "saved"
    assert [m["size"] for m in stored["media"]] == [len(d) for d in data]
    assert rw_server.traffic.count("PUT", "/api/v1/reports") == 0  # nothing left the phone
    assert stored_reports(rw_server.app) == []

    phone.set_offline(False)  # the `online` event starts the sync
    app.wait_state(report_id, "sent", timeout=30_000)

    reports = stored_reports(rw_server.app)
    assert [r.id for r in reports] == [report_id]
    media = sorted(reports[0].media, key=lambda m: m.position)
    assert [m.received_at is not None for m in media] == [True, True]
    assert [blob_bytes(rw_server.app, m.sha256) for m in media] == data  # byte-identical
    with rw_server.app.app_context():
        assert db.session.query(Media).count() == 2

    # Sent means sent: another start of the app sends nothing again.
    puts = rw_server.traffic.count("PUT", "/api/v1/reports")
    page.reload()
    app.wait_ready()
    app.show_reports()
    app.wait_state(report_id, "sent")
    page.wait_for_timeout(500)
    assert rw_server.traffic.count("PUT", "/api/v1/reports") == puts
    assert len(stored_reports(rw_server.app)) == 1
    # The informant's identity is not kept on the phone once the report is sent.
    assert set(app.report(report_id)["body"]["reporter"]) == {"kind"}


def test_a_short_video_goes_through_the_same_path(phone, rw_server):
    """A 6 MB MP4 from the camera: stored in chunks, hashed in a stream, uploaded, intact."""
    from tests.media_factory import make_mp4_head

    video = make_mp4_head(total=6 * 1024 * 1024 + 123)
    page = phone.new_page()
    app = App(page).open()
    app.form.locator("input[name=camera_video]").set_input_files(
        [file_payload("VID_0001.mp4", video, "video/mp4")]
    )
    page.wait_for_selector("#media-list .media-item[data-kind=video]")
    app.fill([], violation="RED_LIGHT", vehicle="motorbike", plate="29-B1 123.45")
    report_id = app.submit()
    media = app.report(report_id)["media"]
    assert [(m["size"], m["chunks"]) for m in media] == [(len(video), 7)]
    app.show_reports()
    app.wait_state(report_id, "sent", timeout=30_000)
    reports = stored_reports(rw_server.app)
    assert [m.content_type for m in reports[0].media] == ["video/mp4"]
    assert blob_bytes(rw_server.app, reports[0].media[0].sha256) == video
