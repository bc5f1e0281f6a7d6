"""Device tokens: ``Authorization: Bearer <token>`` on every report and media call."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from .extensions import db
from .models import Device
from .problems import ApiError


def hash_token(token: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough (no password stretching).
    return hashlib.sha256(token.encode()).hexdigest()


def register_device() -> tuple[Device, str]:
    """Create a device and return it with its token; only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    device = Device(id=str(uuid.uuid4()), token_hash=hash_token(token))
    db.session.add(device)
    db.session.commit()
    return device, token


def device_from_request() -> Device:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorized", headers={"WWW-Authenticate": 'Bearer realm="roadwatch"'})
    device = db.session.execute(
        db.select(Device).where(Device.token_hash == hash_token(token.strip()))
    ).scalar_one_or_none()
    if device is None or device.revoked_at is not None:
        raise ApiError(
            "invalid_token",
            headers={"WWW-Authenticate": 'Bearer realm="roadwatch", error="invalid_token"'},
        )
    return device


def device_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Authenticate the device and put it on ``g.device``.

    The lookup's transaction is ended at once, so a long upload that follows does not
    hold the database (SQLite takes a write lock per transaction).
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.device = device_from_request()
        db.session.commit()
        return view(*args, **kwargs)

    return wrapper
