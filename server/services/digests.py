"""Reviewers' digests: one push per subscription, now and then, about new cases.

A console user (reviewer, supervisor, admin) with a push subscription is told how many
new cases arrived in their districts since their last digest: "3 vụ việc mới ở Ba Đình,
Hoàn Kiếm". Batched, never one per report: at most one digest per user every
``REVIEWER_DIGEST_MINUTES``.

*New* matches the queue (:func:`server.services.queue.open_cases`): an open case of one of the
user's districts (:func:`server.services.accounts.districts_of`), counted once, that
arrived there after the user's cursor: it entered the queue (its first evidence file
arrived, ``cases.evidence_at``, or a case holding evidence was opened by a split), or it
was moved into the district (``forwarded``, ``routed``, ``routed_by_hand``) holding
evidence and is still there. A case is announced when it holds evidence, never when a
report without evidence opens it: a flood of such reports notifies nobody.

The cursor (``push_digest_cursors``) moves in the same transaction as the messages are
written, under a row lock, so a crash or a second worker neither repeats nor skips a
digest. Only arrivals older than ``REVIEWER_DIGEST_SETTLE_SECONDS`` are counted: on
PostgreSQL a transaction that opened a case may commit a little after the time it
stamped on it, and the cursor must not pass it by. SQLite runs one writer at a time
(``BEGIN IMMEDIATE``), so there the default is 0.

The payload carries ids and a short text in the subscription's language, nothing about
reporters: ``{"type": "new_cases", "lang", "count", "case_ids" (the first few),
"url", "title", "body"}``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from ..extensions import db
from ..models import (
    CONSOLE_ROLES,
    Case,
    CaseEvent,
    DigestCursor,
    PushMessage,
    PushSubscription,
    User,
    utcnow,
)
from ..settings import current_settings
from . import accounts, districts

log = logging.getLogger(__name__)

# Case events that bring a case into a district.
ARRIVALS = ("forwarded", "routed", "routed_by_hand")
CASE_IDS_SHOWN = 5
NAMES_SHOWN = 3
PREFIXES = ("Quận ", "Huyện ", "Thị xã ", "Thành phố ", "Phường ", "Xã ", "Đặc khu ")
# Development (PUSH_DELIVERY=inline, no worker): digests run after write requests, at
# most this often per process.
INLINE_DIGEST_SECONDS = 30.0
TITLE = {"vi": "RoadWatch · Bàn xét duyệt", "en": "RoadWatch · Review console"}


@dataclass
class DigestStats:
    users: int = 0  # users who were sent a digest
    messages: int = 0  # messages written (one per subscription)


def interval() -> timedelta:
    return timedelta(minutes=current_settings().reviewer_digest_minutes)


def settle() -> timedelta:
    value = current_settings().reviewer_digest_settle_seconds
    if value is None:
        value = 0 if db.session.get_bind().dialect.name == "sqlite" else 30
    return timedelta(seconds=float(value))


def enqueue_reviewer_digests(now: datetime | None = None) -> DigestStats:
    """Write the digests that are due; one transaction per user. Commits."""
    now = now or utcnow()
    upto = now - settle()
    stats = DigestStats()
    user_ids = list(
        db.session.scalars(
            sa.select(PushSubscription.user_id)
            .join(User, User.id == PushSubscription.user_id)
            .where(User.active.is_(True), User.role.in_(CONSOLE_ROLES))
            .distinct()
            .order_by(PushSubscription.user_id)
        )
    )
    db.session.commit()
    for user_id in user_ids:
        try:
            written = _digest_for(user_id, now, upto)
        except Exception as exc:  # one user's trouble never stops the others' digests
            db.session.rollback()  # nothing of this digest was written; retried next round
            log.warning("digest for console user %s failed: %s", user_id, type(exc).__name__)
            continue
        if written:
            stats.users += 1
            stats.messages += written
    return stats


def run_inline_if_due(app: Flask) -> bool:
    """Development without a worker: queue the due digests unless this process did less
    than INLINE_DIGEST_SECONDS ago; True if messages were written."""
    last = app.extensions.get("roadwatch.inline_digest_at")
    clock = time.monotonic()
    if last is not None and clock - last < INLINE_DIGEST_SECONDS:
        return False
    app.extensions["roadwatch.inline_digest_at"] = clock
    return enqueue_reviewer_digests().messages > 0


def _digest_for(user_id: int, now: datetime, upto: datetime) -> int:
    """One user's digest, if due: messages and cursor in one transaction."""
    query = sa.select(DigestCursor).where(DigestCursor.user_id == user_id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # another worker has this user
    cursor = db.session.scalar(query)
    user = db.session.get(User, user_id)
    if cursor is None or user is None:
        db.session.rollback()  # subscribe_user writes the cursor; or the user went away
        return 0
    last = cursor.last_sent_at
    if (last is not None and now - last < interval()) or upto <= cursor.watermark:
        db.session.rollback()
        return 0
    arrived = new_cases(accounts.districts_of(user), cursor.watermark, upto)
    cursor.watermark = upto
    written = 0
    if arrived:
        subs = db.session.scalars(
            sa.select(PushSubscription)
            .where(PushSubscription.user_id == user_id)
            .order_by(PushSubscription.id)
        ).all()
        for sub in subs:
            db.session.add(PushMessage(subscription_id=sub.id, payload=payload(arrived, sub.lang)))
        written = len(subs)
        cursor.last_sent_at = now
    db.session.commit()
    return written


def new_cases(codes: set[str] | None, after: datetime, upto: datetime) -> list[tuple[str, str]]:
    """``(case_id, district_code)`` of the open cases in ``codes`` (None: all) that
    arrived in their district in ``(after, upto]``, earliest arrival first."""
    if codes is not None and not codes:
        return []
    # A case enters the queue when it exists and holds evidence: the later of the two.
    entered = sa.case((Case.evidence_at > Case.created_at, Case.evidence_at), else_=Case.created_at)
    opened = sa.select(Case.id, Case.district_code, entered.label("at")).where(
        Case.status == "open",
        Case.district_code.is_not(None),
        Case.evidence_at.is_not(None),
        entered > after,
        entered <= upto,
    )
    moved = (
        sa.select(Case.id, Case.district_code, CaseEvent.created_at.label("at"))
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(
            Case.status == "open",
            CaseEvent.kind.in_(ARRIVALS),
            CaseEvent.to_district == Case.district_code,
            # moved with its evidence (moved before it: counted when it arrived)
            Case.evidence_at <= CaseEvent.created_at,
            CaseEvent.created_at > after,
            CaseEvent.created_at <= upto,
        )
    )
    if codes is not None:
        opened = opened.where(Case.district_code.in_(sorted(codes)))
        moved = moved.where(Case.district_code.in_(sorted(codes)))
    rows = db.session.execute(sa.union_all(opened, moved)).all()
    seen: dict[str, tuple[datetime, str]] = {}
    for case_id, district_code, at in sorted(rows, key=lambda r: (r[2], r[0])):
        seen.setdefault(case_id, (at, district_code))
    return [(case_id, district) for case_id, (_, district) in seen.items()]


def payload(arrived: list[tuple[str, str]], lang: str) -> dict[str, object]:
    """Ids and a short text in ``lang``; nothing about the reports or their reporters."""
    count = len(arrived)
    ids = [case_id for case_id, _ in arrived]
    return {
        "type": "new_cases",
        "lang": lang,
        "count": count,
        "case_ids": ids[:CASE_IDS_SHOWN],
        "url": f"/console/cases/{ids[0]}" if count == 1 else "/console/queue",
        "title": TITLE.get(lang, TITLE["vi"]),
        "body": digest_text(count, [d for _, d in arrived], lang),
    }


def digest_text(count: int, districts: list[str], lang: str) -> str:
    """ "3 vụ việc mới ở Ba Đình, Hoàn Kiếm" / "3 new cases in Ba Đình, Hoàn Kiếm"; the
    districts with most new cases first, at most three named."""
    ranked = [code for code, _ in sorted(Counter(districts).items(), key=lambda i: (-i[1], i[0]))]
    names = ", ".join(short_name(code) for code in ranked[:NAMES_SHOWN])
    more = len(ranked) - NAMES_SHOWN
    if lang == "en":
        text = f"{count} new case{'' if count == 1 else 's'} in {names}"
        return text + (f" and {more} more area{'' if more == 1 else 's'}" if more > 0 else "")
    text = f"{count} vụ việc mới ở {names}"
    return text + (f" và {more} địa bàn khác" if more > 0 else "")


def short_name(code: str) -> str:
    """ "Ba Đình" for "Phường Ba Đình" (or the old "Quận Ba Đình"); the code when the
    area is unknown."""
    info = districts.area_info(code)
    name = info.name if info is not None and info.name else code
    for prefix in PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            rest = name[len(prefix) :]
            return name if rest[0].isdigit() else rest  # "Phường 1" stays whole
    return name
