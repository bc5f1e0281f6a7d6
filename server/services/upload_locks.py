"""One writer per resumable upload: ``flock`` on the upload's partial file.

Every request that changes a partial file holds an exclusive lock on it, HEAD a shared
one. After taking the lock the file is checked to still be the live partial
(completion renames it into ``blobs/``, termination and expiry unlink it).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..settings import current_settings
from .evidence import media_store


class Busy(Exception):
    """Another request holds the upload's lock."""


class Gone(Exception):
    """The partial file is no longer there (completed, terminated, expired or lost)."""


def lock_wait() -> float:
    """How long a request waits for another one writing the same upload."""
    return current_settings().upload_lock_wait_seconds


@contextmanager
def locked(upload_id: str, *, shared: bool = False, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock of the upload's partial file: exclusive to write, shared to read.

    Waits up to ``wait`` seconds for a request that holds it (a PATCH whose client
    just vanished is usually still draining its last bytes), then raises
    :class:`Busy`. Raises :class:`Gone` when the partial file is not there or was
    replaced between opening and locking it.
    """
    path = media_store().partial_path(upload_id)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise Gone() from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy() from None
                time.sleep(0.02)
        held = os.fstat(fd)
        try:
            now_there = os.stat(path)
        except FileNotFoundError:
            raise Gone() from None
        if (held.st_dev, held.st_ino) != (now_there.st_dev, now_there.st_ino):
            raise Gone()
        yield
    finally:
        os.close(fd)  # releases the lock
