"""Waiting for an event that must come (a process starting, a file arriving): not a
delay. Fails with what was awaited when the deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], what: str, deadline_s: float = 60, poll_s: float = 0.02
) -> T:
    """``condition()``'s first true value, polled every ``poll_s``; else AssertionError."""
    end = time.monotonic() + deadline_s
    while not (value := condition()):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(poll_s)
    return value
