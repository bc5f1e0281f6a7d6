"""One writer per resumable upload, across processes and, with a bucket, across nodes.

Every request that changes a partial upload holds an exclusive lock on it, HEAD a shared
one. After taking the lock the upload is checked to still be live (completion,
termination and expiry remove its partial bytes).

* Filesystem store: ``flock`` on the upload's partial file (one machine).
* S3 store on PostgreSQL: a session-level advisory lock on a connection of its own
  (``pg_try_advisory_lock``), so every node sees it, and a node that dies mid-PATCH
  releases it with its connection. That connection comes from a pool of its own
  (:func:`lock_engine`), never from the pool of the request's session: a request holding
  a lock connection also needs a session connection, and with both from one pool, as
  many concurrent uploads as the pool has connections (easy with gevent workers) each
  held one and waited for a second, none ever free (the load test: every upload of a
  node stalled for the pool's timeout, then 503s and a 504 from nginx).
* S3 store on SQLite (one machine by nature): ``flock`` on a lock file in the local
  work folder.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
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
    """Hold the upload's lock: exclusive to write, shared to read.

    Waits up to ``wait`` seconds for a request that holds it (a PATCH whose client
    just vanished is usually still draining its last bytes), then raises
    :class:`Busy`. Raises :class:`Gone` when the partial upload is not there.
    """
    store = media_store()
    if store.is_local:
        with _partial_file_lock(store.partial_path(upload_id), shared, wait):
            yield
        return
    if db.engine.dialect.name == "postgresql":
        lock = _advisory_lock(upload_id, shared, wait)
    else:
        lock = _file_lock(store.lock_dir / upload_id, shared, wait)
    with lock:
        if store.partial_size(upload_id) is None:
            raise Gone()
        yield


def _retry(attempt: Callable[[], bool], wait: float) -> None:
    deadline = time.monotonic() + wait
    while not attempt():
        if time.monotonic() >= deadline:
            raise Busy()
        time.sleep(0.02)


def _flock(fd: int, shared: bool, wait: float) -> None:
    def attempt() -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    _retry(attempt, wait)


@contextmanager
def _partial_file_lock(path: os.PathLike, shared: bool, wait: float) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise Gone() from None
    try:
        _flock(fd, shared, wait)
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


@contextmanager
def _file_lock(path: os.PathLike, shared: bool, wait: float) -> Iterator[None]:
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    try:
        _flock(fd, shared, wait)
        yield
    finally:
        os.close(fd)  # releases the lock (the file stays: removing it would race)


def lock_engine() -> sa.Engine:
    """The app's engine for upload locks: the database of ``db.engine``, autocommit, a
    pool as large as the sessions' own; disposed with ``db.engine``."""
    engine = db.engine
    found = current_app.extensions.get("roadwatch.upload_lock_engine")
    if found is not None and found[0] is engine:
        return found[1]
    settings = current_settings()
    locks = sa.create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
    )
    sa.event.listen(engine, "engine_disposed", lambda _conn: locks.dispose())
    current_app.extensions["roadwatch.upload_lock_engine"] = (engine, locks)
    return locks


def advisory_key(upload_id: str) -> int:
    """The upload's advisory-lock key: 60 bits of its id (a uuid4 hex)."""
    return int(upload_id[:15], 16)


@contextmanager
def _advisory_lock(upload_id: str, shared: bool, wait: float) -> Iterator[None]:
    kind = "_shared" if shared else ""
    key = advisory_key(upload_id)
    conn = lock_engine().connect()
    held = False
    try:
        take = sa.text(f"SELECT pg_try_advisory_lock{kind}(:k)")
        _retry(lambda: bool(conn.execute(take, {"k": key}).scalar()), wait)
        held = True
        yield
    finally:
        try:
            if held:
                conn.execute(sa.text(f"SELECT pg_advisory_unlock{kind}(:k)"), {"k": key})
        except Exception:
            conn.invalidate()  # never pool a connection that may still hold the lock
        conn.close()
