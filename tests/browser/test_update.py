"""A new release is offered, never forced mid-capture, and after it the service worker
serves the new app shell offline, with the outbox intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.settings import override
from server.web import PWA_DIR
from tests.browser.pages import BROWSER, App, file_payload, photo

pytestmark = BROWSER


# Look for the new release and wait for the signal that it is installed and waiting (or
# that it failed): the install precaches every file of the release, which takes as long
# as the machine's load makes it, so no fixed time budget is set here (the test's own
# timeout bounds it; install times belong to bench/bench_pwa.py).
INSTALL_NEW_RELEASE = """async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  await reg.update();
  const worker = reg.installing || reg.waiting;
  if (!worker) return 'no new release';
  if (worker.state === 'installed') return 'installed';
  return new Promise((resolve) => {
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' || worker.state === 'redundant') resolve(worker.state);
    });
  });
}"""
DEFERRED = {
    "vi": "Sẽ cập nhật ngay khi bạn lưu xong phản ánh",
    "en": "It will update as soon as your report is saved",
}


def release(pwa: Path, n: int) -> None:
    """Ship release ``n``: any change to a shell file is a new version."""
    css = pwa / "css" / "app.css"
    css.write_text(css.read_text(encoding="utf-8") + f"\n/* release {n} */\n", encoding="utf-8")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_update_is_offered_deferred_during_capture_and_works_offline(
    phone, rw_server, tmp_path, screenshots_dir, lang
):
    pwa = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, pwa)
    override(rw_server.app, PWA_DIR=str(pwa))

    page = phone.new_page()
    app = App(page).open(f"/?lang={lang}")
    app.wait_controlled()
    v1 = page.evaluate("document.documentElement.dataset.version")

    # A report waiting in the outbox across the update: the server is unreachable.
    phone.route("**/api/v1/reports/**", lambda route: route.abort())
    report_id = app.capture([file_payload("truoc-cap-nhat.jpg", photo(80_000, seed=7))])

    # The app looks for a release when it starts; let that look end before one is shipped,
    # else the test's own look below joins it (the browser merges an update asked for
    # while one is running) and finds the old release.
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    release(pwa, 2)
    # The user is in the middle of a capture when the update arrives.
    app.form.locator("input[name=plate]").fill("51G-678.90")
    assert page.evaluate(INSTALL_NEW_RELEASE) == "installed"
    page.wait_for_selector("#banner:not([hidden])")
    page.screenshot(path=str(screenshots_dir / f"{lang}-12-update-offered.png"))
    page.locator("#banner-go").click()
    # The click's answer is the signal: deferred, not applied (the capture is busy).
    page.wait_for_selector(f"#banner-text:has-text('{DEFERRED[lang]}')")
    assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")
    # Deferred: same page, same release, the typed plate still there.
    assert page.evaluate("document.documentElement.dataset.version") == v1
    assert app.form.locator("input[name=plate]").input_value() == "51G-678.90"
    assert page.locator("#banner-go").is_hidden()
    page.screenshot(path=str(screenshots_dir / f"{lang}-13-update-deferred.png"))

    # The capture is abandoned (cleared): the accepted update applies itself now.
    with page.expect_navigation(timeout=60_000):  # a bound, not a goal: the signal is the reload
        app.form.locator("input[name=plate]").fill("")
    app.wait_ready()
    v2 = page.evaluate("document.documentElement.dataset.version")
    assert v2 != v1
    caches = page.evaluate("caches.keys()")
    assert f"rw-shell-{v2}" in caches and f"rw-shell-{v1}" not in caches

    # Offline after the update: the new shell comes from the service worker.
    phone.set_offline(True)
    page.reload()
    app.wait_ready()
    assert page.evaluate("document.documentElement.dataset.version") == v2
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    app.show_reports()
    app.wait_state(report_id, "saved")  # still queued, through the update and offline
    assert app.report(report_id)["phase"] == "saved"

    phone.unroute("**/api/v1/reports/**")
    phone.set_offline(False)
    app.wait_state(report_id, "sent", timeout=30_000)
