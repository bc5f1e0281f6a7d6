"""The client's outbox: an SQLite file holding queued reports, their media and state.

A report is written whole (with its media's hashes) before anything is sent, and is
read-only from then on (sealed). Nothing here is deleted automatically.

States of a report (PROTOCOL.md §4): saved → registering → uploading → sent, or
attention with a reason code.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .. import seal

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    report_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,               -- the sealed JSON body of PUT /reports/{id}
    state TEXT NOT NULL,              -- saved | registering | uploading | sent | attention
    reason TEXT,                      -- attention: the problem code
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS media (
    media_id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(report_id),
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    upload_url TEXT,                  -- tus Location, once created
    acked INTEGER NOT NULL DEFAULT 0, -- bytes the server acknowledged
    received INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS media_by_file ON media(path, sha256);
"""

STATES = ("saved", "registering", "uploading", "sent", "attention")
APP_VERSION = "roadwatch-sync/1"


@dataclass
class QueuedMedia:
    media_id: str
    report_id: str
    path: Path
    sha256: str
    size: int
    content_type: str
    upload_url: str | None
    acked: int
    received: bool


class Outbox:
    """The outbox file. Safe to open from several processes (SQLite locking)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # The device key that seals every queued report (PROTOCOL §3.2a), made on first use.
        self.key_path = self.path.with_name(self.path.name + ".key.pem")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- settings (server URL, device credentials, change cursor) ------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None

    def set(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- queueing ------------------------------------------------------------------------

    def queue(self, body: dict[str, Any], files: list[tuple[Path, str, int, str]]) -> str:
        """Seal a report and its media in one transaction; returns its report_id.

        ``files`` are ``(path, sha256, size, content_type)``. A file already queued
        (same path and hash) is not queued again: its report_id is returned.
        """
        with self._tx() as db:
            for path, sha, _size, _ct in files:
                row = db.execute(
                    "SELECT report_id FROM media WHERE path = ? AND sha256 = ?",
                    (str(path), sha),
                ).fetchone()
                if row:
                    return row["report_id"]
            report_id = str(uuid.uuid4())
            media_decl = []
            for path, sha, size, ct in files:
                media_id = str(uuid.uuid4())
                media_decl.append(
                    {"media_id": media_id, "sha256": sha, "size": size, "content_type": ct}
                )
                db.execute(
                    "INSERT INTO media(media_id, report_id, path, sha256, size, content_type) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (media_id, report_id, str(path), sha, size, ct),
                )
            full = {**body, "media": media_decl}
            full["signature"] = seal.seal(self.signing_key(), report_id, full, APP_VERSION)
            sealed = json.dumps(full, ensure_ascii=False)
            db.execute(
                "INSERT INTO reports(report_id, body, state) VALUES (?, ?, 'saved')",
                (report_id, sealed),
            )
        return report_id

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        """This outbox's device key (``<outbox>.key.pem``, mode 0600), made when missing."""
        return seal.load_or_create_key(self.key_path)[0]

    # -- reading and state ---------------------------------------------------------------

    def reports(self, states: tuple[str, ...] = STATES) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(states))
        return self._db.execute(
            f"SELECT * FROM reports WHERE state IN ({marks}) ORDER BY created_at, report_id",
            states,
        ).fetchall()

    def body(self, report_id: str) -> dict[str, Any]:
        row = self._db.execute(
            "SELECT body FROM reports WHERE report_id = ?", (report_id,)
        ).fetchone()
        return json.loads(row["body"])

    def media(self, report_id: str) -> list[QueuedMedia]:
        rows = self._db.execute(
            "SELECT * FROM media WHERE report_id = ? ORDER BY rowid", (report_id,)
        ).fetchall()
        return [
            QueuedMedia(
                media_id=r["media_id"],
                report_id=r["report_id"],
                path=Path(r["path"]),
                sha256=r["sha256"],
                size=r["size"],
                content_type=r["content_type"],
                upload_url=r["upload_url"],
                acked=r["acked"],
                received=bool(r["received"]),
            )
            for r in rows
        ]

    def set_state(self, report_id: str, state: str, reason: str | None = None) -> None:
        assert state in STATES
        with self._tx() as db:
            db.execute(
                "UPDATE reports SET state = ?, reason = ? WHERE report_id = ?",
                (state, reason, report_id),
            )

    def set_upload(self, media_id: str, *, url: str | None, acked: int, received: bool) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE media SET upload_url = ?, acked = ?, received = ? WHERE media_id = ?",
                (url, acked, int(received), media_id),
            )

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, count(*) AS n FROM reports GROUP BY state")
        return {r["state"]: r["n"] for r in rows}
