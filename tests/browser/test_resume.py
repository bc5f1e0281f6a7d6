"""The browser is killed in the middle of a 20 MB upload; reopened, the upload resumes
from the server's offset instead of sending the whole file again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from server.extensions import db
from server.models import Media
from server.models.uploads import Upload
from server.services.evidence import media_store
from tests.browser.pages import (
    BROWSER,
    CHROMIUM_LAUNCH,
    WELCOME_SEEN,
    App,
    file_payload,
    phone_context_options,
    photo,
)

pytestmark = BROWSER

SIZE = 20 * 1024 * 1024
# 4 MB/s up: the 20 MB upload takes ~5 s, long enough to cut it in the middle.
UPLOAD_BYTES_PER_S = 4_000_000


def browser_pids(user_data_dir: Path) -> list[int]:
    """The main Chromium process we launched on this profile (not its children)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in cmd if a]
        if not args or "--type=" in " ".join(args):
            continue
        if any(a == f"--user-data-dir={user_data_dir}" for a in args):
            pids.append(int(entry))
    return pids


def launch(playwright_driver, user_data_dir: Path, url: str):
    options = phone_context_options(url, geolocation=True)
    # A persistent profile takes no storage_state: the first-visit screen is dismissed
    # by an init script instead.
    options.pop("storage_state", None)
    context = playwright_driver.chromium.launch_persistent_context(
        str(user_data_dir), **CHROMIUM_LAUNCH, **options
    )
    context.add_init_script(f"try {{ localStorage.setItem('{WELCOME_SEEN}', '1') }} catch {{}}")
    return context


def throttle_upload(page, bytes_per_s: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_s},
    )


def server_offset(app, media_id: str) -> int | None:
    with app.app_context():
        upload = db.session.execute(
            db.select(Upload).where(Upload.media_id == media_id)
        ).scalar_one_or_none()
        return None if upload is None else media_store().partial_size(upload.id)


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_mid_upload_resumes_from_the_server_offset(playwright_driver, rw_server, tmp_path):
    profile = tmp_path / "profile"
    data = photo(SIZE, seed=20)
    traffic = rw_server.traffic

    context = launch(playwright_driver, profile, rw_server.url)
    page = context.pages[0] if context.pages else context.new_page()
    app = App(page).open()
    app.wait_controlled()
    throttle_upload(page, UPLOAD_BYTES_PER_S)
    report_id = app.capture([file_payload("video-like.jpg", data)])
    media_id = app.report(report_id)["media"][0]["media_id"]

    # Let roughly a third of the file reach the server, then kill the browser process.
    wait_until(lambda: (server_offset(rw_server.app, media_id) or 0) > SIZE * 0.37, 30, "a third")
    pids = browser_pids(profile)
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    try:
        context.close()
    except Exception:  # the driver already saw the browser die
        pass

    # The server keeps the bytes that arrived (fsynced); wait for it to see the cut.
    def settled():
        a = server_offset(rw_server.app, media_id)
        time.sleep(0.3)
        return a if a == server_offset(rw_server.app, media_id) else None

    offset_at_kill = wait_until(settled, 10, "the offset to settle")
    assert 0 < offset_at_kill < SIZE
    patches_before = len([h for h in traffic.uploads() if h.method == "PATCH"])
    bytes_before = traffic.upload_bytes()

    # Reopen: same profile, so the same IndexedDB outbox and the stored upload URL.
    context = launch(playwright_driver, profile, rw_server.url)
    try:
        page = context.pages[0] if context.pages else context.new_page()
        app = App(page).open()
        app.show_reports()
        app.wait_state(report_id, "sent", timeout=60_000)
    finally:
        context.close()

    resumed = [h for h in traffic.uploads() if h.method == "PATCH"][patches_before:]
    assert resumed, "no PATCH after the restart"
    # The first PATCH after the restart starts at the server's offset, not at 0...
    assert resumed[0].upload_offset == offset_at_kill
    # ...and the bytes sent again are at most what was in flight, nowhere near the file.
    resent = traffic.upload_bytes() - SIZE
    after = traffic.upload_bytes() - bytes_before
    assert after == SIZE - offset_at_kill
    assert resent < 1024 * 1024, resent
    # One upload for the media item, created once; the file is intact.
    assert traffic.count("POST", "/api/v1/uploads") == 1
    with rw_server.app.app_context():
        media = db.session.get(Media, media_id)
        assert media.received_at is not None
        assert media_store().blob_path(media.sha256).read_bytes() == data
    cut = [h for h in traffic.uploads() if h.method == "PATCH"][patches_before - 1]
    print(
        f"\n20 MB upload killed at {offset_at_kill} bytes (the cut PATCH from "
        f"{cut.upload_offset} had delivered {cut.body_bytes} bytes); resumed from there; "
        f"{after} bytes sent after the restart, {resent} bytes sent twice"
    )
