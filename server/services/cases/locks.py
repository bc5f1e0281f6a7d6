"""The locks that keep cases consistent under concurrent ingest and review.

SQLite serialises writers. On PostgreSQL, ingest takes transaction-scoped advisory
locks on the plate match key and on each declared SHA-256 (sorted, so two requests
never wait on each other in a cycle) before looking for candidates. A received photo
locks its neighbourhood (:func:`lock_similar_media_near`: its pHash and the time
buckets of the pHash window around its report's capture time), under a shared hold
of the similar-photo lock that merges by hand and evidence expiry take exclusively
(:func:`lock_similar_media`). Case rows are then locked with ``SELECT … FOR UPDATE``,
following a case merged meanwhile to its survivor.

The one lock order every writer follows (PostgreSQL reports a cycle as a deadlock,
40P01, and aborts one of the transactions):

1. advisory locks of dedup (plate key, SHA-256) and of similar-photo merges;
2. case rows (two cases: in id order);
3. report rows of those cases;
4. the status-feed lock (:func:`server.services.status.lock_feed`);
5. the custody-chain lock (:mod:`server.services.custody`).

A reviewer's decision therefore locks its case before it changes a report or writes a
status event (:mod:`server.services.review`), and a received file locks its report's
case before the report (:func:`server.services.evidence.mark_received`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import sqlalchemy as sa

from ...extensions import db
from ...models import Case
from .errors import CaseError

_PHASH_LOCK = "phash-merge"


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# One round trip for all keys: unnest() yields the sorted array in order, and each row's
# lock is taken as the row is produced, so keys are always locked in ascending order.
_LOCK_KEYS = sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS t(k)")


def advisory_locks(names: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on PostgreSQL (no-op elsewhere), in key order."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(n) for n in names})
    if keys:
        db.session.connection().execute(_LOCK_KEYS, {"keys": keys}).all()


def lock_similar_media() -> None:
    """Wait for every photo receipt in progress and keep new ones out (PostgreSQL;
    SQLite serialises every writer): the exclusive hold of the lock receipts share
    (:func:`lock_similar_media_near`). Merges by hand and evidence expiry take it first
    in their transaction, before any case or report lock."""
    advisory_locks([_PHASH_LOCK])


def similar_media_lock_names(captured_at: datetime, phash: str, window: timedelta) -> list[str]:
    """The names a photo receipt locks: its pHash, and the two time buckets (of the
    pHash window's length) starting at its report's capture time's bucket.

    Two photos that can find each other as candidates share a name: the same pHash at
    any time shares the pHash's name; two capture times at most a window apart fall in
    the same or neighbouring buckets ``b`` and ``b+1``, and ``{b, b+1}`` meets
    ``{b+1, b+2}`` and ``{b-1, b}``. Pure.
    """
    size = max(window.total_seconds(), 1.0)
    bucket = math.floor(captured_at.timestamp() / size)
    return [f"phash:{phash}", f"phash-time:{bucket}", f"phash-time:{bucket + 1}"]


def lock_similar_media_near(captured_at: datetime, phash: str, window: timedelta) -> None:
    """Serialise a photo receipt with the receipts that could merge with it, and only
    with those (PostgreSQL; SQLite serialises every writer).

    Without it, two near-identical photos received at the same moment would each miss
    the other (neither pHash committed yet). A shared hold of the similar-photo lock
    first (so merges by hand and expiry, which hold it exclusively, wait for receipts and
    receipts for them), then the neighbourhood's names in key order. Taken first in the
    receipt's transaction, before locking any case or report: a merge updates the
    reports of the absorbed case, so a transaction holding a report lock while waiting
    for these could deadlock with the merge.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.connection().execute(
        sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(_PHASH_LOCK)}
    )
    advisory_locks(similar_media_lock_names(captured_at, phash, window))


_LOCK_CASE = (
    sa.select(Case)
    .where(Case.id == sa.bindparam("case_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
# The same lock at ingest, reading only what joining a case needs (no ORM object).
_LOCK_CASE_ROW = (
    sa.select(
        Case.id, Case.merged_into_id, Case.first_report_id, Case.district_code, Case.unit_code
    )
    .where(Case.id == sa.bindparam("case_id"))
    .with_for_update()
)


class _CaseLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def merged_into_id(self) -> str | None: ...


C = TypeVar("C", bound=_CaseLike)


def _follow_merges(case_id: str, read: Callable[[str], C | None]) -> C:
    """The live case (following merges) as ``read`` returns it (``read`` locks it)."""
    seen = set()
    while True:
        case = read(case_id)
        if case is None:
            raise CaseError(f"no case {case_id}")
        if case.merged_into_id is None or case.merged_into_id in seen:
            return case
        seen.add(case.id)
        case_id = case.merged_into_id


def lock_case(case_id: str) -> Case:
    """The live case (following merges), locked for update and freshly read."""
    return _follow_merges(
        case_id,
        lambda cid: db.session.execute(_LOCK_CASE, {"case_id": cid}).scalar_one_or_none(),
    )


def lock_case_exact(case_id: str) -> Case:
    """The case row itself (not followed through a merge), locked for update and freshly
    read: the ORM object already in the session is refreshed in place."""
    case = db.session.execute(_LOCK_CASE, {"case_id": case_id}).scalar_one_or_none()
    if case is None:
        raise CaseError(f"no case {case_id}")
    return case


def lock_case_row(case_id: str) -> sa.Row:
    """:func:`lock_case` as a row of ``_LOCK_CASE_ROW`` (the ingest path)."""
    conn = db.session.connection()
    return _follow_merges(
        case_id, lambda cid: conn.execute(_LOCK_CASE_ROW, {"case_id": cid}).one_or_none()
    )
