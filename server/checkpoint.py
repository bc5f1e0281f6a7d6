"""SQLite WAL checkpoints off the request path.

With its default ``wal_autocheckpoint`` (1,000 pages), SQLite copies the WAL back into
the database file, and fsyncs it, inside whichever commit crosses the threshold: that
request pays for the pages of the dozens before it. At a million reports every ingest
dirties random pages of some 18 B-trees, so this recurred every few dozen requests and
made most of the ingest p99 (bench/README.md, "Ingest with dedup").

Here each process runs one daemon thread that, every :data:`INTERVAL_SECONDS`, runs
``PRAGMA wal_checkpoint(PASSIVE)`` on every SQLite database file its engines use, over
a short-lived connection of its own: it copies what it can without waiting for readers
or writers (the GIL is released while SQLite works). When the WAL has grown past
:data:`RESTART_PAGES` it also tries ``RESTART`` without waiting, so the WAL starts over
whenever the write lock is free at that moment. Request connections keep an automatic
checkpoint only as a backstop (:data:`BACKSTOP_PAGES`), for when writers never pause
long enough. Several processes may each run one; a checkpoint that finds another in
progress is skipped until the next tick. After a fork the child starts its own thread.

Measured (bench/README.md): a small backstop (2,000 pages) or a ``RESTART`` that waits
for the write lock (20-100 ms busy timeout) both put 40-90 ms stalls back into
requests (a request then waits while the checkpoint copies and fsyncs under the lock).

The thread holds no connection between ticks, and disposing of an engine waits for a
tick in progress: once ``engine.dispose()`` has returned and no other connection is
open, the last close has folded the WAL into the database file as before, so the file
alone is a complete copy (the test suite copies a migrated template that way).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.engine import Engine

INTERVAL_SECONDS = 0.5
# Automatic checkpoint in a committing request only when the WAL holds this many pages
# (4 KiB each) that the background thread has not copied yet.
BACKSTOP_PAGES = 20_000
# A WAL this long (pages) is started over when no writer holds the lock at that moment.
RESTART_PAGES = 1_000

log = logging.getLogger(__name__)

_lock = threading.Lock()  # the registry and the thread's start
_io_lock = threading.Lock()  # held by the thread while it has a connection open
_engines: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()
_pid: int | None = None


def database_path(engine: Engine) -> str | None:
    """The file of a SQLite engine, or None (in-memory, URI form, other dialects)."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return os.path.abspath(path)


def register(engine: Engine) -> bool:
    """Checkpoint this engine's database in the background from now on (this process).

    Called on every new connection (cheap); starts the thread on first use in a process.
    Returns False when the engine's database is not a file (nothing to do).
    """
    global _pid
    path = database_path(engine)
    if path is None:
        return False
    with _lock:
        _engines[engine] = path
        if not event.contains(engine, "engine_disposed", _unregister):
            event.listen(engine, "engine_disposed", _unregister)
        if _pid != os.getpid():  # first use, or a forked child: the parent's thread is gone
            _pid = os.getpid()
            threading.Thread(
                target=_run, args=(_pid,), name="sqlite-checkpoint", daemon=True
            ).start()
    return True


def _unregister(engine: Engine) -> None:
    """After ``engine.dispose()``: stop, and wait for a checkpoint in progress to close
    its connection (a new connection of the engine registers it again)."""
    with _lock:
        _engines.pop(engine, None)
    with _io_lock:
        pass


def _run(pid: int) -> None:
    while _pid == pid:
        time.sleep(INTERVAL_SECONDS)
        with _lock:
            paths = set(_engines.values())
        for path in paths:
            with _lock:
                if path not in _engines.values():  # disposed meanwhile
                    continue
                _io_lock.acquire()
            try:
                checkpoint(path)
            finally:
                _io_lock.release()


def checkpoint(path: str) -> None:
    """A PASSIVE checkpoint of ``path``, then a RESTART if the WAL is long (never
    raises, never waits for a lock, never creates the file)."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=0)
    except sqlite3.Error:  # removed meanwhile
        return
    try:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames >= RESTART_PAGES:
            # Writers that never pause append frames while the pass above copies, so
            # the WAL is never wholly copied when the next one starts, and it is never
            # started over: it grows to the backstop, past which every commit
            # checkpoints. Without a busy handler RESTART takes the write lock only if
            # it is free right now, copies the few frames written since the pass above
            # (a commit arriving meanwhile waits that long), and lets the next writer
            # start the WAL over; with a writer active it does no more than PASSIVE.
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
    except sqlite3.Error as e:  # another checkpoint running: next tick
        log.debug("checkpoint of %s skipped: %s", path, e)
    finally:
        conn.close()
