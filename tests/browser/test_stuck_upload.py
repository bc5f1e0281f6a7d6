"""An upload that reached its full offset but whose file the server did not store
(issue 28): the PWA is not "sent" until the server's report says the file is received,
and it ends with the file received once the server can finish it (PROTOCOL §3.5, §4).

Two servers: one whose finishing fails and answers 503 until the fault is gone (this
server), and one that answers the full offset although finishing failed (an older
server: the PWA must not take the offset for a receipt).
"""

from __future__ import annotations

import time

import pytest

from server.extensions import db
from server.models import Media
from server.services import uploads as tus_service
from server.services.evidence import media_store
from server.storage import MediaStore
from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER

SIZE = 300_000


def fail_finishing(mp: pytest.MonkeyPatch, server: str) -> None:
    if server == "answers_503":

        def stage_partial(self, *args, **kw):
            raise RuntimeError("node killed before verify")

        mp.setattr(MediaStore, "stage_partial", stage_partial)
    else:  # an older server: finishing fails silently, the offset says "done"
        mp.setattr(tus_service, "_finish", lambda upload, media, sha256: None)
        mp.setattr(
            tus_service,
            "_finish_stuck",
            lambda upload_id: tus_service.UploadState(upload_id, SIZE, SIZE, None),
        )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("server", ["answers_503", "says_full_offset"])
def test_the_pwa_ends_with_the_file_received_after_a_stuck_upload(phone, rw_server, server):
    page = phone.new_page()
    app = App(page).open()
    data = photo(SIZE, seed=28)
    with pytest.MonkeyPatch.context() as mp:
        fail_finishing(mp, server)
        report_id = app.capture([file_payload("stuck.jpg", data)])
        media_id = app.report(report_id)["media"][0]["media_id"]
        # Every byte reached the server; the attempt failed (503, or the report shows
        # the file not received).
        wait_for(lambda: app.report(report_id).get("lastError"), 30, "a failed attempt")
        stuck = app.report(report_id)
        assert stuck["phase"] != "sent"
        assert stuck["media"][0].get("received") is not True
        with rw_server.app.app_context():
            assert db.session.get(Media, media_id).received_at is None
    # The fault is gone: the next attempt (HEAD at the full offset) finishes the file.
    app.show_reports()
    page.locator("#send-now").click()
    app.wait_state(report_id, "sent", timeout=60_000)
    done = app.report(report_id)
    assert done["media"][0]["received"] is True
    with rw_server.app.app_context():
        media = db.session.get(Media, media_id)
        assert media.received_at is not None
        assert media_store().blob_path(media.sha256).read_bytes() == data
