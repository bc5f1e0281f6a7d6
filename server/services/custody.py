"""The evidence custody trail: a hash chain a court can check (issue 16, item 3).

Every status event of a report, every reviewer's decision, split, merge and forward,
every identity reveal and every evidence receipt appends one entry
(:class:`server.models.CustodyEntry`) in the transaction that records the event, so an
event and its entry commit together or not at all. These append:

* :mod:`.status` (``set_status`` and ``record_new_report``): kind ``status``, subject the
  report, content ``{report_id, status, reason_code, actor}``;
* :func:`.accounts.audit`, for every audit entry about a case or a report (decisions,
  penalty numbers, reopenings, splits, forwards, merges, reveals): kind the audit action,
  subject the case (else the report), content ``{action, actor_id, case_id, report_id,
  detail}`` (``detail`` is a coded reason, a penalty number, district codes or case ids);
* :func:`.evidence.mark_received`: kind ``evidence_received``, subject the media item,
  content ``{report_id, media_id, case_id, sha256, size, content_type}``;
* :func:`.answers.put_answer`: kind ``answer_received``, subject the report, content
  ``{report_id, answer_id, case_id, text_sha256, media, actor}`` (a reporter's answer to a
  request for information; its files' receipts are ``evidence_received`` entries);
* automatic case joins (:func:`case_joined`): kind ``case_joined``, subject the case,
  content ``{case_id, report_id, reason, match_report_id, absorbed_case_id, actor}``:
  a new report that joins an existing case at ingest (:func:`.reports.put_report`,
  ``absorbed_case_id`` null) and a similar-photo merge on receipt
  (:func:`.evidence.mark_received`: ``report_id`` of the absorbed case matched
  ``match_report_id``; the reporting reason is ``similar_media``). A reviewer's merge is
  an audit entry (``cases_merged``) like the other decisions.

Content holds ids, codes and the acting console user's id or name, never an informant's
identity.

**The hash.** ``hash = SHA-256(canonical)``, hex, where ``canonical`` is the UTF-8 JSON
object ``{"at", "content", "kind", "prev_hash", "seq", "subject", "subject_prev_hash",
"v"}`` with sorted keys, no whitespace (``separators=(",", ":")``), non-ASCII characters
as themselves; ``at`` is the UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, ``content`` the
JSON value itself, ``prev_hash`` the previous entry's hash (64 zeros before the first
entry, seq 1), ``subject_prev_hash`` the hash of the previous entry with the same
subject (64 zeros for a subject's first entry, null without a subject) and ``v`` 2.
Entries written before migration 0019 are ``v`` 1: their canonical object has neither
``subject_prev_hash`` nor ``v`` (their hashes stay as they were); the migration computed
their ``subject_prev_hash``.

**Trails.** The entries with one subject (a case, a report, a file) form that subject's
trail, linked by ``subject_prev_hash``: an evidence package holds whole trails, so an
entry deleted, reordered or edited and re-hashed breaks a trail's link even where the
neighbouring entries of the global chain are not in the package; a trail's newest entry
is named in the package's signed manifest (sync/PROTOCOL.md §8).

**Serialised.** Appends take the status feed's lock (:func:`.status.lock_feed`: a
PostgreSQL advisory lock held to the end of the transaction; SQLite serialises every
writer with ``BEGIN IMMEDIATE``) before they read the head, so two transactions never
append after the same entry and the chain never forks; ``seq`` is the primary key, so a
fork could not be stored anyway. It is the same lock as the feed's because status events
and chain entries are written in one transaction in either order; one lock cannot
deadlock against itself. Append last, just before the commit, after any case or report
lock (as status events are).

**Anchoring.** The chain alone cannot show that its newest entries were cut off, or
that the whole chain was rewritten consistently. The server signs checkpoints of its head
(:mod:`.checkpoints`: seq, hash, count, time; at every export and by ``flask --app wsgi
audit checkpoint``) and keeps them in its instance folder, outside the database;
``audit verify`` checks the chain against the newest one (a cut tail, an emptied chain,
a re-hashed last entry fail). The head is also printed in the yearly review workbook and
by ``audit head``; ``audit verify --anchor SEQ:HASH`` checks an earlier printed head.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import CustodyEntry, utcnow

GENESIS = "0" * 64
_CHAIN = CustodyEntry.__table__
_HEAD = sa.select(_CHAIN.c.seq, _CHAIN.c.hash).order_by(_CHAIN.c.seq.desc()).limit(1)
_INSERT = sa.insert(_CHAIN)
_SUBJECT_HEAD = (
    sa.select(_CHAIN.c.hash)
    .where(_CHAIN.c.subject == sa.bindparam("subject"))
    .order_by(_CHAIN.c.seq.desc())
    .limit(1)
)
_HEAD_SUB = _HEAD.subquery()
_HEAD_AND_SUBJECT = sa.select(
    sa.select(_HEAD_SUB.c.seq).scalar_subquery().label("seq"),
    sa.select(_HEAD_SUB.c.hash).scalar_subquery().label("hash"),
    _SUBJECT_HEAD.scalar_subquery().label("link"),
)
VERIFY_BATCH = 1000
_ANCHOR = re.compile(r"([0-9]{1,18}):([0-9a-f]{64})")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class Broken:
    """The first entry that does not match: its seq and why."""

    seq: int
    # missing, bad_content, bad_link, bad_subject_link, bad_version, bad_hash,
    # anchor_mismatch, anchor_missing, checkpoint_mismatch, checkpoint_missing
    reason: str


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: Head
    broken: Broken | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def at_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    prev_hash: str,
    seq: int,
    kind: str,
    subject: str | None,
    content: Any,
    at: datetime,
    subject_prev_hash: str | None = None,
    v: int = 1,
) -> str:
    """The SHA-256 (hex) of an entry's canonical encoding (see the module's docstring)."""
    body: dict[str, Any] = {
        "at": at_text(at),
        "content": content,
        "kind": kind,
        "prev_hash": prev_hash,
        "seq": seq,
        "subject": subject,
    }
    if v >= 2:
        body.update(subject_prev_hash=subject_prev_hash, v=v)
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


VERSION = 2  # of the entries appended now


def lock_chain() -> None:
    """Serialise appends to the end of this transaction (the feed's lock)."""
    from .status import lock_feed

    lock_feed()


def append(
    kind: str,
    subject: str | None,
    content: Mapping[str, Any],
    *,
    locked: bool = False,
) -> Head:
    """Append one entry in the current transaction (not committed); returns it as a head.

    ``locked``: the caller already holds the feed's lock in this transaction.
    """
    if not locked:
        lock_chain()
    conn = db.session.connection()
    if subject is None:
        last = conn.execute(_HEAD).first()
        link: str | None = None
    else:  # the chain's head and the subject's last entry in one round trip
        last = conn.execute(_HEAD_AND_SUBJECT, {"subject": subject}).first()
        link = last.link or GENESIS
        if last.seq is None:
            last = None
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = utcnow()
    body = dict(content)
    digest = entry_hash(prev, seq, kind, subject, body, at, link, VERSION)
    conn.execute(
        _INSERT,
        {
            "seq": seq,
            "kind": kind,
            "subject": subject,
            "content": canonical_json(body),
            "at": at,
            "prev_hash": prev,
            "hash": digest,
            "subject_prev_hash": link,
            "v": VERSION,
        },
    )
    return Head(seq, digest)


def head() -> Head:
    """The newest entry (seq 0 and 64 zeros for an empty chain)."""
    last = db.session.connection().execute(_HEAD).first()
    return Head(last.seq, last.hash) if last else Head(0, GENESIS)


def _check(
    row: Any, expected_seq: int, prev: str, trails: dict[str, bytes], newest: int
) -> str | None:
    """Why ``row`` does not continue the chain after ``prev``, or None. ``trails``: each
    subject's last hash so far; ``newest``: the highest entry version seen so far."""
    if row.seq != expected_seq:
        return "missing"
    try:
        content = json.loads(row.content)
    except (TypeError, ValueError):
        return "bad_content"
    if row.prev_hash != prev:
        return "bad_link"
    if row.v not in (1, VERSION) or row.v < newest:
        return "bad_version"  # a v1 entry after a v2 one was re-hashed the old way
    digest = entry_hash(
        prev, row.seq, row.kind, row.subject, content, row.at, row.subject_prev_hash, row.v
    )
    if digest != row.hash:
        return "bad_hash"
    if row.subject is not None:
        last = trails.get(row.subject)
        if row.subject_prev_hash != (last.hex() if last is not None else GENESIS):
            return "bad_subject_link"
    elif row.subject_prev_hash is not None:
        return "bad_subject_link"
    return None


def verify(anchor: Head | None = None, checkpoint: Head | None = None) -> Verdict:
    """Walk the chain from seq 1; the verdict names the first entry that does not match.

    A missing entry is named by its seq (the one the chain expected next). With
    ``anchor`` (an earlier printed head), its entry must still be there with that hash;
    with ``checkpoint`` (the newest signed checkpoint, :mod:`.checkpoints`) likewise.
    """
    conn = db.session.connection()
    prev, expected, count, newest = GENESIS, 1, 0, 1
    current = Head(0, GENESIS)
    trails: dict[str, bytes] = {}
    marks = {
        name: (head, head is None or head.seq == 0)
        for name, head in (("anchor", anchor), ("checkpoint", checkpoint))
    }
    after = 0
    while True:
        rows = conn.execute(
            sa.select(_CHAIN).where(_CHAIN.c.seq > after).order_by(_CHAIN.c.seq).limit(VERIFY_BATCH)
        ).all()
        for row in rows:
            reason = _check(row, expected, prev, trails, newest)
            if reason is not None:
                return Verdict(count, current, Broken(expected, reason))
            for name, (mark, _) in marks.items():
                if mark is not None and row.seq == mark.seq:
                    if row.hash != mark.hash:
                        return Verdict(count, current, Broken(row.seq, f"{name}_mismatch"))
                    marks[name] = (mark, True)
            if row.subject is not None:
                trails[row.subject] = bytes.fromhex(row.hash)
            newest = max(newest, row.v)
            prev, expected, count = row.hash, expected + 1, count + 1
            current = Head(row.seq, row.hash)
            after = row.seq
        if len(rows) < VERIFY_BATCH:
            break
    for name, (mark, seen) in marks.items():
        if not seen:
            return Verdict(count, current, Broken(mark.seq, f"{name}_missing"))  # type: ignore[union-attr]
    return Verdict(count, current, None)


def parse_anchor(text: str) -> Head:
    """``SEQ:HASH`` as printed by ``audit head``; ValueError otherwise."""
    match = _ANCHOR.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError("expected SEQ:HASH (as printed by `audit head`)")
    return Head(int(match.group(1)), match.group(2))


# ------------------------------------------------------------------ what each event says


def status_event(
    report_id: str, status: str, reason_code: str | None, actor: str, *, locked: bool
) -> Head:
    content = {"report_id": report_id, "status": status, "reason_code": reason_code}
    return append("status", report_id, {**content, "actor": actor}, locked=locked)


def audit_event(
    action: str,
    actor_id: int | None,
    case_id: str | None,
    report_id: str | None,
    detail: str | None,
) -> Head:
    content = {
        "action": action,
        "actor_id": actor_id,
        "case_id": case_id,
        "report_id": report_id,
        "detail": detail,
    }
    return append(action, case_id or report_id, content)


def evidence_received(
    *,
    report_id: str,
    media_id: str,
    case_id: str | None,
    sha256: str,
    size: int,
    content_type: str,
) -> Head:
    content = {
        "report_id": report_id,
        "media_id": media_id,
        "case_id": case_id,
        "sha256": sha256,
        "size": size,
        "content_type": content_type,
    }
    return append("evidence_received", media_id, content)


def answer_received(
    *,
    report_id: str,
    answer_id: str,
    case_id: str | None,
    text_sha256: str,
    media: list[dict[str, Any]],
) -> Head:
    """A reporter's answer to a request for information (:mod:`.answers`): the subject
    is the report; the text is in the chain by its SHA-256, each file by its declaration
    (its receipt is an ``evidence_received`` entry of its own)."""
    content = {
        "report_id": report_id,
        "answer_id": answer_id,
        "case_id": case_id,
        "text_sha256": text_sha256,
        "media": media,
        "actor": "reporter",
    }
    return append("answer_received", report_id, content)


def case_joined(
    *,
    case_id: str,
    report_id: str,
    reason: str,
    match_report_id: str | None,
    absorbed_case_id: str | None = None,
    locked: bool = False,
) -> Head:
    """A join the server made by itself (no reviewer): the subject is the case joined."""
    content = {
        "case_id": case_id,
        "report_id": report_id,
        "reason": reason,
        "match_report_id": match_report_id,
        "absorbed_case_id": absorbed_case_id,
        "actor": "system",
    }
    return append("case_joined", case_id, content, locked=locked)
