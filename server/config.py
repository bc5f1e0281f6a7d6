"""Configuration read from environment variables, with safe defaults.

Secrets (SECRET_KEY, the identity-encryption key) are never constants in code: when
the environment does not provide them they are generated on first start and kept in
the instance folder (see :mod:`server.secrets`).
"""

from __future__ import annotations

import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def from_environ() -> dict[str, Any]:
    """Settings taken from the process environment.

    ``DATABASE_URL`` and ``MEDIA_ROOT`` default to locations inside the instance
    folder (``./instance``, or ``INSTANCE_PATH``); those defaults are filled in by
    :func:`server.create_app`, which knows where the instance folder is.
    """
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or None,
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or None,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "IDENTITY_KEY": os.environ.get("IDENTITY_KEY") or None,
        # Largest evidence file accepted, in MiB (photos and short videos).
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 200),
        # Largest JSON body accepted on the API, in bytes.
        "MAX_JSON_BYTES": _int("MAX_JSON_BYTES", 64 * 1024),
        # Plausibility thresholds (flags kept on the report for reviewers).
        "FLAG_EXIF_TIME_SKEW_MINUTES": _float("FLAG_EXIF_TIME_SKEW_MINUTES", 30.0),
        "FLAG_EXIF_DISTANCE_M": _float("FLAG_EXIF_DISTANCE_M", 500.0),
        "FLAG_FUTURE_TOLERANCE_MINUTES": _float("FLAG_FUTURE_TOLERANCE_MINUTES", 5.0),
        "FLAG_MAX_AGE_DAYS": _float("FLAG_MAX_AGE_DAYS", 30.0),
        # Deduplication of reports into cases.
        "DEDUP_RADIUS_M": _float("DEDUP_RADIUS_M", 150.0),
        "DEDUP_WINDOW_MINUTES": _float("DEDUP_WINDOW_MINUTES", 30.0),
        # Largest Hamming distance (bits of 64) between the pHashes of two "similar" photos;
        # measured in tests/test_dedup.py (server.dedup.DEFAULT_PHASH_MAX_DISTANCE).
        "DEDUP_PHASH_MAX_DISTANCE": _int("DEDUP_PHASH_MAX_DISTANCE", 12),
        # Similar (not identical) photos are looked for among reports captured within this
        # many hours of each other; identical pHashes and identical bytes join at any time.
        "DEDUP_PHASH_WINDOW_HOURS": _float("DEDUP_PHASH_WINDOW_HOURS", 72.0),
        # Routing: how far outside every district a point may be and still be routed.
        "ROUTING_TOLERANCE_M": _float("ROUTING_TOLERANCE_M", 2000.0),
        # Incomplete resumable uploads expire after this many hours.
        "UPLOAD_EXPIRY_HOURS": _float("UPLOAD_EXPIRY_HOURS", 24.0 * 7),
        # How long a request waits for another request writing the same upload.
        "UPLOAD_LOCK_WAIT_SECONDS": _float("UPLOAD_LOCK_WAIT_SECONDS", 3.0),
        # Web Push. Delivery "inline" (after the request, for development) or "worker"
        # (`flask --app wsgi push-worker`). Endpoints must be https on these hosts
        # (suffixes), so the server never posts to an address a client made up.
        "PUSH_DELIVERY": os.environ.get("PUSH_DELIVERY", "inline"),
        "PUSH_TTL_SECONDS": _int("PUSH_TTL_SECONDS", 4 * 24 * 3600),
        "PUSH_ENDPOINT_HOSTS": tuple(
            os.environ.get(
                "PUSH_ENDPOINT_HOSTS",
                "fcm.googleapis.com,push.apple.com,push.services.mozilla.com,"
                "notify.windows.com",
            ).split(",")
        ),
        "PUSH_ALLOW_HTTP_LOOPBACK": os.environ.get("PUSH_ALLOW_HTTP_LOOPBACK") == "1",
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:admin@roadwatch.invalid"),
        # Reviewers' digests of new cases (server.services.digests): at most one per user
        # every this many minutes; arrivals younger than the settle time wait for the next
        # round (unset: 30 s on PostgreSQL, 0 on SQLite, which has one writer at a time).
        "REVIEWER_DIGEST_MINUTES": _float("REVIEWER_DIGEST_MINUTES", 10.0),
        "REVIEWER_DIGEST_SETTLE_SECONDS": (
            _float("REVIEWER_DIGEST_SETTLE_SECONDS", 0.0)
            if os.environ.get("REVIEWER_DIGEST_SETTLE_SECONDS")
            else None
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JSON_SORT_KEYS": False,
    }
