"""Web Push: VAPID keys, subscriptions, and delivery from a durable outbox.

Push is the prompt, the change feed is the truth. A message is written to
``push_messages`` in the same transaction as the status change it announces, so a
committed change always has its messages and a rolled-back one never does. A worker
(``flask --app wsgi push-worker``, or inline after the request in development)
delivers them through pywebpush:

- 201/200/202: delivered. Apple answers 200 even for dead subscriptions, which is why
  the phone re-sends its subscription on every start and always pulls the feed.
- 404/410: the subscription is gone: it is deleted, with its pending messages.
- 429/5xx and network errors: retried with exponential backoff (or ``Retry-After``).
- other 4xx: the message is given up (``dead_at``) and logged, without its content.

A subscription belongs to a device (the PWA) or to a console user (reviewers,
supervisors, admins; their digests of new cases come from :mod:`server.services.digests`):
one outbox and one worker for both.

Payloads carry only ids and a short text in the subscriber's language; the app pulls
the change feed when one arrives. A TTL of days (``PUSH_TTL_SECONDS``) lets a message
wait for a phone that is asleep (pywebpush's default of 0 would drop it).
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from flask import current_app, g
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from ..extensions import db
from ..models import Device, Report, StatusEvent, utcnow
from ..models.accounts import User
from ..models.push import DigestCursor, PushMessage, PushSubscription
from ..reasons import reason_text, status_text
from ..settings import current_settings

log = logging.getLogger(__name__)

# Statuses a reporter is told about (the others are steps of the sync itself).
ANNOUNCED = ("verified", "penalty_issued", "rejected", "needs_info", "reopened")
MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=2)


# -- VAPID keys -----------------------------------------------------------------------


def vapid_key_path() -> Path:
    """VAPID_PRIVATE_KEY_FILE, or vapid_private.pem in the instance folder."""
    configured = current_settings().vapid_private_key_file
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "vapid_private.pem"


def generate_vapid_key(path: Path) -> bool:
    """Write a new P-256 key to ``path`` unless one is there; True if written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Vapid02()
    key.generate_keys()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_pem())
    return True


def vapid_key() -> Vapid02:
    """The server's VAPID key, generated into the instance folder on first use."""
    cached = current_app.extensions.get("roadwatch.vapid")
    if cached is None:
        path = vapid_key_path()
        if not path.exists():
            generate_vapid_key(path)
        cached = Vapid02.from_file(str(path))
        current_app.extensions["roadwatch.vapid"] = cached
    return cached


def public_key_b64() -> str:
    """The application server key for ``pushManager.subscribe`` (base64url, raw point)."""
    raw = vapid_key().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- subscriptions --------------------------------------------------------------------


def endpoint_allowed(endpoint: str) -> bool:
    """Only https endpoints of known push services (http on loopback only for tests),
    so the server never posts to an address a client made up."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http":
        return current_settings().push_allow_http_loopback and host in (
            "127.0.0.1",
            "localhost",
        )
    try:
        port = parts.port
    except ValueError:
        return False
    if port not in (None, 443):
        return False
    allowed = current_settings().push_endpoint_hosts
    return parts.scheme == "https" and any(
        host == s or host.endswith("." + s) for s in allowed if s
    )


class EndpointTaken(Exception):
    """The endpoint is the other kind of owner's: a device's, or a console user's."""


def _by_endpoint(endpoint: str) -> PushSubscription | None:
    return db.session.execute(
        sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).scalar_one_or_none()


def _store(
    endpoint: str,
    p256dh: str,
    auth: str,
    lang: str,
    other_owner: str,
    owner: tuple[str, str],
) -> tuple[PushSubscription, bool]:
    """The subscription row of ``endpoint`` (added if new, not committed) with the browser's
    keys and language; True if new. If the other kind of owner holds it (``other_owner``,
    ``"device_id"`` or ``"user_id"``), rolls back and raises :class:`EndpointTaken`.

    Moving a subscription from another owner of the same kind (``owner``: the column
    and the new owner's id) needs proof that the caller holds the subscription: its
    keys (``p256dh`` and the ``auth`` secret, which the browser never shows to anyone
    but the push service's subscriber). Knowing the endpoint URL alone is not enough
    to silence the device it belongs to (issue 28)."""
    sub = _by_endpoint(endpoint)
    if sub is not None and getattr(sub, other_owner) is not None:
        db.session.rollback()
        raise EndpointTaken()
    column, owner_id = owner
    current = getattr(sub, column) if sub is not None else None
    if current is not None and current != owner_id and not _same_keys(sub, p256dh, auth):
        db.session.rollback()
        raise EndpointTaken()
    created = sub is None
    if sub is None:
        sub = PushSubscription(endpoint=endpoint)
        db.session.add(sub)
    sub.p256dh, sub.auth, sub.lang = p256dh, auth, lang
    sub.updated_at = utcnow()
    return sub, created


def _same_keys(sub: PushSubscription, p256dh: str, auth: str) -> bool:
    """The subscription's keys, compared in constant time."""
    same_key = hmac.compare_digest(sub.p256dh.encode(), p256dh.encode())
    return hmac.compare_digest(sub.auth.encode(), auth.encode()) and same_key


def subscribe(device: Device, endpoint: str, p256dh: str, auth: str, lang: str) -> bool:
    """Store (or refresh, or move to this device) a subscription; True if new.

    A console user's subscription is not taken over by a device token, nor another
    device's without its keys (:class:`EndpointTaken`).
    """
    sub, created = _store(
        endpoint, p256dh, auth, lang, other_owner="user_id", owner=("device_id", device.id)
    )
    sub.device_id = device.id
    db.session.commit()
    return created


def _delete(endpoint: str, owned: sa.ColumnElement[bool]) -> None:
    """Delete the subscription with this endpoint if ``owned`` holds for it. Commits."""
    db.session.execute(
        sa.delete(PushSubscription).where(PushSubscription.endpoint == endpoint, owned)
    )
    db.session.commit()


def unsubscribe(device: Device, endpoint: str) -> None:
    """Delete the device's subscription with this endpoint (nobody else's). Commits."""
    _delete(endpoint, PushSubscription.device_id == device.id)


def subscribe_user(user: User, endpoint: str, p256dh: str, auth: str, lang: str) -> bool:
    """Store (or refresh) a console user's subscription; True if new. Commits.

    The browser's subscription follows whoever is signed in to the console in it: a
    subscription of another console user (the same browser, another login) moves to
    this one. A device's subscription is refused (:class:`EndpointTaken`).

    When the user had no subscription, their digest starts now: cases that arrived
    while nobody of theirs was subscribed are in the queue, not in a notification.
    """
    had_any = db.session.scalar(
        sa.select(PushSubscription.id).where(PushSubscription.user_id == user.id).limit(1)
    )
    sub, created = _store(
        endpoint, p256dh, auth, lang, other_owner="device_id", owner=("user_id", user.id)
    )
    sub.user_id = user.id
    now = sub.updated_at
    cursor = db.session.get(DigestCursor, user.id)
    if cursor is None:
        db.session.add(DigestCursor(user_id=user.id, watermark=now))
    elif had_any is None:
        cursor.watermark = max(cursor.watermark, now)
    db.session.commit()
    return created


def unsubscribe_user(user: User, endpoint: str) -> None:
    """Delete the user's subscription with this endpoint (nobody else's). Commits."""
    _delete(endpoint, PushSubscription.user_id == user.id)


# -- the outbox -----------------------------------------------------------------------


def enqueue_status(report: Report, event: StatusEvent) -> int:
    """Queue a message per subscription of the reporting device; same transaction."""
    if event.status not in ANNOUNCED:
        return 0
    db.session.flush()  # the event's seq is the cursor the phone will pull from
    subs = db.session.scalars(
        sa.select(PushSubscription).where(PushSubscription.device_id == report.device_id)
    ).all()
    for sub in subs:
        body = status_text(event.status, sub.lang)
        reason = reason_text(event.reason_code, sub.lang)
        db.session.add(
            PushMessage(
                subscription_id=sub.id,
                payload={
                    "type": "status",
                    "report_id": report.id,
                    "cursor": str(event.seq),
                    "status": event.status,
                    "reason_code": event.reason_code,
                    "title": "RoadWatch",
                    "body": f"{body}: {reason}" if reason else body,
                },
            )
        )
    if subs:
        g.setdefault("push_pending", True)
    return len(subs)


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    gone: int = 0
    dead: int = 0


def deliver_due(limit: int = 100) -> DeliveryStats:
    """Deliver messages that are due. Safe with several workers (each claims its rows)."""
    stats = DeliveryStats()
    for message_id in _claim(limit):
        _deliver_one(message_id, stats)
    return stats


def _claim(limit: int) -> list[int]:
    """Lease due messages to this worker: at-least-once delivery if it dies mid-send."""
    now = utcnow()
    query = (
        sa.select(PushMessage.id)
        .where(
            PushMessage.sent_at.is_(None),
            PushMessage.dead_at.is_(None),
            PushMessage.next_attempt_at <= now,
        )
        .order_by(PushMessage.next_attempt_at, PushMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            sa.update(PushMessage)
            .where(PushMessage.id.in_(ids))
            .values(next_attempt_at=now + LEASE, attempts=PushMessage.attempts + 1)
        )
    db.session.commit()
    return ids


def _deliver_one(message_id: int, stats: DeliveryStats) -> None:
    message = db.session.get(PushMessage, message_id)
    if message is None:  # its subscription was deleted meanwhile
        return
    sub = message.subscription
    info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    settings = current_settings()
    db.session.commit()  # no transaction open during the HTTP call
    status: int | None
    retry_after: float | None = None
    try:
        resp = webpush(
            info,
            data=json.dumps(message.payload, ensure_ascii=False),
            vapid_private_key=vapid_key(),
            vapid_claims={"sub": settings.vapid_subject},
            ttl=settings.push_ttl_seconds,
            timeout=10,
            headers={"Urgency": "normal"},
        )
        status = getattr(resp, "status_code", 201)
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if exc.response is not None:
            retry_after = _retry_after(exc.response.headers.get("Retry-After"))
    except Exception as exc:  # network errors: retry later
        log.warning("push delivery failed: %s", type(exc).__name__)
        status = None
    _record(message_id, status, retry_after, stats)


def _record(message_id: int, status: int | None, retry_after: float | None, stats) -> None:
    message = db.session.get(PushMessage, message_id)
    if message is None:
        return
    message.last_status = status
    now = utcnow()
    if status in (200, 201, 202):
        message.sent_at = now
        stats.sent += 1
    elif status in (404, 410):
        db.session.delete(message.subscription)  # the subscription is gone
        stats.gone += 1
    elif status is None or status == 429 or status >= 500:
        if message.attempts >= MAX_ATTEMPTS:
            message.dead_at = now
            stats.dead += 1
        else:
            delay = retry_after or min(6 * 3600, 30 * 2 ** (message.attempts - 1))
            message.next_attempt_at = now + timedelta(seconds=delay * random.uniform(1, 1.2))
            stats.retried += 1
    else:
        log.warning("push message %s given up: push service answered %s", message_id, status)
        message.dead_at = now
        stats.dead += 1
    db.session.commit()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
