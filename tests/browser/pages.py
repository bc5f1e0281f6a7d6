"""Helpers of the browser tests: the phone profile, test photos, and a page object that
drives the PWA only through its stable hooks (form[name=report], data-report-id,
data-state) plus read-only peeks into IndexedDB."""

from __future__ import annotations

import os
import random
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.media_factory import make_jpeg

CHROMIUM = os.environ.get("ROADWATCH_CHROMIUM", "/usr/bin/chromium")
# Root in a container: no sandbox. No background networking: the closed test network
# refuses Google's endpoints, which only adds noise and delays.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How every browser here is launched: ``chromium.launch(**CHROMIUM_LAUNCH)``.
CHROMIUM_LAUNCH: dict[str, Any] = {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
HANOI = {"latitude": 21.028511, "longitude": 105.804817, "accuracy": 8}
VN = timezone(timedelta(hours=7))
PHONE = {"width": 390, "height": 844}
WELCOME_SEEN = "rw-welcome-seen"  # localStorage key of pwa/js/screens/welcome.js

# Browser tests run on one database backend only.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BROWSER = [pytest.mark.browser, SQLITE_ONLY]


DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def publish_screenshot(screenshots_dir: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ when UPDATE_DOC_SCREENSHOTS=1 (a plain test
    run leaves tracked files alone)."""
    if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshots_dir / name, DOC_SCREENSHOTS / name)


CONSOLE_PASSWORD = "correct horse battery"
DESKTOP = {"width": 1366, "height": 900}


def console_context(browser, url: str, **extra):
    """A desktop browser context for the console (Vietnamese, Hanoi's time zone); map
    tiles refused, so no test reaches the internet. ``extra``: more context options."""
    context = browser.new_context(
        base_url=url,
        viewport=extra.pop("viewport", DESKTOP),
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        **extra,
    )
    context.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    return context
  # every console account of tests/test_console.py


def console_login(page, username: str, password: str = CONSOLE_PASSWORD) -> None:
    """Sign ``username`` in to the console; returns on the queue, its first page."""
    page.goto("/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")


def phone_context_options(
    base_url: str, *, geolocation: bool = True, first_visit: bool = False
) -> dict[str, Any]:
    """A 390x844 touch phone in Vietnam; location allowed (at Hà Nội) or never granted.

    The first-visit screen (pwa/js/screens/welcome.js) is already dismissed, so the
    form shows first, unless ``first_visit``.
    """
    options: dict[str, Any] = {
        "base_url": base_url,
        "viewport": PHONE,
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
        "locale": "vi-VN",
        "timezone_id": "Asia/Ho_Chi_Minh",
    }
    # Granting a list denies everything else; Chrome allows Background Sync by default.
    options["permissions"] = ["background-sync"]
    if geolocation:
        options["permissions"].append("geolocation")
        options["geolocation"] = HANOI
    if not first_visit:
        seen = [{"name": WELCOME_SEEN, "value": "1"}]
        origins = [{"origin": base_url.rstrip("/"), "localStorage": seen}]
        options["storage_state"] = {"cookies": [], "origins": origins}
    return options


def photo(
    size: int,
    seed: int = 0,
    *,
    exif: bool = True,
    taken_at: datetime | None = None,
    where: tuple[float, float] = (HANOI["latitude"], HANOI["longitude"]),
    pixels: tuple[int, int] = (64, 48),
) -> bytes:
    """A real JPEG (EXIF: Hà Nội, now) padded after its end marker to exactly ``size``
    bytes of incompressible noise, like a phone photo's entropy."""
    if exif:
        when = (taken_at or datetime.now(VN)).replace(tzinfo=None, microsecond=0)
        head = make_jpeg(
            lat=where[0], lon=where[1], taken_at=when, offset="+07:00", size=pixels, seed=seed
        )
    else:
        head = make_jpeg(size=pixels, seed=seed)
    assert size >= len(head), (size, len(head))
    return head + random.Random(seed).randbytes(size - len(head))


def file_payload(name: str, data: bytes, mime: str = "image/jpeg") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


IDB_REPORTS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('roadwatch');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains('reports')) { db.close(); resolve([]); return; }
    const req = db.transaction('reports').objectStore('reports').getAll();
    req.onsuccess = () => {
      db.close();
      resolve(req.result.map((r) => ({
        id: r.id, phase: r.phase, createdAt: r.createdAt, registered: r.registered,
        attention: r.attention, server: r.server, body: r.body, lastError: r.lastError,
        media: r.media.map((m) => ({ media_id: m.media_id, sha256: m.sha256, size: m.size,
          offset: m.offset, received: m.received, uploadUrl: m.uploadUrl, chunks: m.chunks })),
      })));
    };
    req.onerror = () => reject(req.error);
  };
})"""


CONTROLLED = """() => new Promise((resolve) => {
  navigator.serviceWorker.addEventListener('controllerchange', () => resolve('controlled'));
  if (navigator.serviceWorker.controller) resolve('controlled');
})"""


class App:
    """The RoadWatch PWA in one page."""

    def __init__(self, page) -> None:
        self.page = page

    def open(self, path: str = "/") -> App:
        self.page.goto(path)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        self.page.wait_for_selector("html[data-ready=true]", state="attached", timeout=15_000)

    def wait_controlled(self) -> None:
        """Until the service worker controls the page (the first install claims it).

        Waits for the signal (``controllerchange``), not for a time: the install
        precaches the whole release, which takes as long as the machine's load makes it
        (the test's own timeout bounds the wait)."""
        assert self.page.evaluate(CONTROLLED) == "controlled"

    @property
    def form(self):
        return self.page.locator("form[name=report]")

    def wait_catalogue(self) -> None:
        self.page.wait_for_function(
            "() => document.querySelector('select[name=violation]').options.length > 5",
            timeout=10_000,
        )

    def fill(
        self,
        files: list[dict[str, Any]],
        *,
        violation: str = "PARK_SIDEWALK_ROADWAY",
        vehicle: str = "car",
        plate: str = "30A-123.45",
        note: str = "",
    ) -> None:
        form = self.form
        self.wait_catalogue()
        if files:
            form.locator("input[name=media]").set_input_files(files)
        form.locator("select[name=violation]").select_option(violation)
        # The element's own click(): a toast from the previous save may cover the chip.
        form.locator(f"input[name=vehicle_class][value={vehicle}]").evaluate("el => el.click()")
        form.locator("input[name=plate]").fill(plate)
        if note:
            form.locator("textarea[name=note]").fill(note)

    def submit(self) -> str:
        """Tap "save and send"; returns the id of the report once it is saved. When the
        evidence checklist warns that something is missing, "send anyway" is tapped."""
        before = {r["id"] for r in self.reports()}
        self.form.locator("button[type=submit]").click()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            warning = self.page.locator("#checklist-warn[open] button[value=send]")
            if warning.count():
                warning.click()
            new = [r for r in self.reports() if r["id"] not in before]
            if new and new[0]["phase"] != "capturing":
                break
            self.page.wait_for_timeout(25)
        assert len(new) == 1, new
        assert new[0]["phase"] in ("saved", "uploading", "sent"), new[0]
        # The form is cleared and enabled again once the page has finished the save.
        self.page.wait_for_function(
            "() => !document.querySelector('form[name=report] button[type=submit]').disabled"
        )
        return new[0]["id"]

    def capture(self, files: list[dict[str, Any]], **fields: Any) -> str:
        self.fill(files, **fields)
        return self.submit()

    def reports(self) -> list[dict[str, Any]]:
        """The outbox as stored in IndexedDB (read-only peek)."""
        return self.page.evaluate(IDB_REPORTS)

    def report(self, report_id: str) -> dict[str, Any]:
        return next(r for r in self.reports() if r["id"] == report_id)

    def show_reports(self) -> None:
        self.page.locator("nav.tabs a[data-tab=reports]").click()
        self.page.wait_for_selector("#screen-reports:not([hidden])")

    def item(self, report_id: str):
        return self.page.locator(f"#outbox li[data-report-id='{report_id}']")

    def wait_state(self, report_id: str, state: str, timeout: float = 30_000) -> None:
        """Until the outbox item shows ``state`` (saved, sending, sent, attention)."""
        self.page.wait_for_selector(
            f"#outbox li[data-report-id='{report_id}'][data-state={state}]",
            state="attached",
            timeout=timeout,
        )

    def states(self) -> dict[str, str]:
        items = self.page.locator("#outbox li[data-report-id]")
        return {
            items.nth(i).get_attribute("data-report-id"): items.nth(i).get_attribute("data-state")
            for i in range(items.count())
        }
