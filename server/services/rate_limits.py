"""Rate limits: device registrations per client address, new reports per address and
per device.

A sliding window of one minute per (limit, address), kept in the memory of each server
process: with N worker processes an address may make up to N times the limit. That is
enough to stop one client flooding the reviewers' queue (issue 17, "queue spam") without
a shared store; a front proxy may add its own limits. Mobile carriers put many phones
behind one address (CGNAT), so the defaults are generous; 0 switches a limit off.

Over the limit, :class:`.errors.RateLimited` carries the seconds until the oldest counted
event leaves the window (a 429 with ``Retry-After`` on the API).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from flask import current_app

from ..settings import current_settings
from .errors import RateLimited

WINDOW_SECONDS = 60.0
# Addresses remembered at most; the least recently seen are forgotten first.
MAX_KEYS = 100_000


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds. Thread-safe."""

    def __init__(
        self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, limit: int) -> None:
        """Raise RateLimited when ``key`` already had ``limit`` events in the window."""
        if limit <= 0:
            return
        with self._lock:
            events = self._fresh(key)
            if len(events) >= limit:
                wait = events[len(events) - limit] + self.window - self.clock()
                raise RateLimited(retry_after=max(1, math.ceil(wait)))

    def record(self, key: str, limit: int) -> None:
        """Count one event of ``key`` (nothing when the limit is off)."""
        if limit <= 0:
            return
        with self._lock:
            events = self._fresh(key)
            events.append(self.clock())
            self._events[key] = self._events.pop(key)  # most recently seen last
            while len(self._events) > MAX_KEYS:
                del self._events[next(iter(self._events))]

    def hit(self, key: str, limit: int) -> None:
        """:meth:`check`, then :meth:`record`."""
        self.check(key, limit)
        self.record(key, limit)

    def _fresh(self, key: str) -> deque[float]:
        events = self._events.setdefault(key, deque())
        horizon = self.clock() - self.window
        while events and events[0] <= horizon:
            events.popleft()
        return events


def _windows() -> dict[str, SlidingWindow]:
    return current_app.extensions.setdefault("rate_limits", {})


def _window(name: str) -> SlidingWindow:
    return _windows().setdefault(name, SlidingWindow())


def device_registration(address: str) -> None:
    """One device registration from ``address``, or RateLimited
    (RATE_LIMIT_DEVICES_PER_MINUTE)."""
    _window("devices").hit(address, current_settings().rate_limit_devices_per_minute)


def new_report(address: str, device_id: str) -> None:
    """One new report from ``address`` by device ``device_id``, or RateLimited
    (RATE_LIMIT_REPORTS_PER_MINUTE per address, RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE per
    device). Retries of a stored report are never counted nor refused
    (:func:`server.services.reports.put_report` calls this only for a new one)."""
    settings = current_settings()
    per_address, per_device = _window("reports"), _window("device_reports")
    per_address.check(address, settings.rate_limit_reports_per_minute)
    per_device.check(device_id, settings.rate_limit_device_reports_per_minute)
    per_address.record(address, settings.rate_limit_reports_per_minute)
    per_device.record(device_id, settings.rate_limit_device_reports_per_minute)
