"""Browser tests: Debian's Chromium driven by Playwright, at a phone's size, against the
real server on loopback.

The browser suite runs on SQLite only (``[sqlite]`` in the ids): it tests the PWA, not
the database, and a second backend would only double its minutes. Every module sets
``pytestmark = BROWSER`` from :mod:`tests.browser.pages`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.pages import CHROMIUM, CHROMIUM_LAUNCH, phone_context_options

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Hit:
    method: str
    path: str
    upload_offset: int | None
    body_bytes: int  # request body bytes the server actually read
    status: int | None = None


@dataclass
class Traffic:
    """Every request the live server answered, with the body bytes it read."""

    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def uploads(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if "/uploads" in h.path or "/media/" in h.path]

    def upload_bytes(self) -> int:
        return sum(h.body_bytes for h in self.uploads() if h.method in ("PATCH", "POST", "PUT"))

    def count(self, method: str, prefix: str) -> int:
        with self.lock:
            return sum(1 for h in self.hits if h.method == method and h.path.startswith(prefix))


class _CountingInput:
    def __init__(self, stream, hit: Hit) -> None:
        self._stream = stream
        self._hit = hit

    def read(self, *args):
        data = self._stream.read(*args)
        self._hit.body_bytes += len(data)
        return data

    def readline(self, *args):
        data = self._stream.readline(*args)
        self._hit.body_bytes += len(data)
        return data

    def __iter__(self):
        return iter(self.readline, b"")


class CountingMiddleware:
    """WSGI middleware: how many request-body bytes reached the app, per request."""

    def __init__(self, app, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    def __call__(self, environ, start_response):
        offset = environ.get("HTTP_UPLOAD_OFFSET")
        hit = Hit(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            int(offset) if offset and offset.isdigit() else None,
            0,
        )
        with self.traffic.lock:
            self.traffic.hits.append(hit)
        environ["wsgi.input"] = _CountingInput(environ["wsgi.input"], hit)

        def recording_start(status, headers, exc_info=None):
            hit.status = int(status.split()[0])
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start)


@dataclass
class RoadWatchServer:
    url: str
    app: Flask
    traffic: Traffic


@pytest.fixture
def rw_server(app: Flask, live_server: str) -> RoadWatchServer:
    """The live server, with every request's body bytes counted."""
    traffic = Traffic()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request: noise
    app.wsgi_app = CountingMiddleware(app.wsgi_app, traffic)  # type: ignore[method-assign]
    return RoadWatchServer(live_server, app, traffic)


@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (./scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(**CHROMIUM_LAUNCH)
    yield browser
    browser.close()


@pytest.fixture
def phone(browser, rw_server: RoadWatchServer) -> Iterator:
    """A fresh phone (browser context) with location allowed, standing in Hà Nội."""
    context = browser.new_context(**phone_context_options(rw_server.url, geolocation=True))
    yield context
    context.close()


@pytest.fixture
def screenshots_dir() -> Path:
    path = ARTIFACTS / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path
