"""RoadWatch's settings: one typed, frozen object, built once from the environment.

Every setting is a field of :class:`Settings`, with its type, its default and a line
saying what it is for. Its environment variable is its name in capitals
(``max_upload_mb`` is ``MAX_UPLOAD_MB``); README's Configuration table lists them all.
:func:`server.create_app` builds the object once (:meth:`Settings.from_env`, then the
overrides of a test config) and keeps it as ``app.extensions["settings"]``; code reads
it with :func:`current_settings`. Flask's own keys (``SECRET_KEY``,
``SQLALCHEMY_DATABASE_URI``, ...) are copied into ``app.config`` from here.

Secrets (SECRET_KEY, IDENTITY_KEY) are never constants in code: when the environment
does not give them they are generated on first start and kept in the instance folder
(:mod:`server.instance_keys`); DATABASE_URL and MEDIA_ROOT default to places in that
folder. :func:`server.create_app` fills those in.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from .dedup import DEFAULT_MAX_DECODE_PIXELS, DEFAULT_PHASH_MAX_DISTANCE, DedupConfig
from .flags import Thresholds

PUSH_SERVICES = (
    "fcm.googleapis.com",
    "push.apple.com",
    "push.services.mozilla.com",
    "notify.windows.com",
)
# Keys a test config may use for a setting besides the setting's own name.
ALIASES = {"SQLALCHEMY_DATABASE_URI": "database_url"}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Settings:
    """Every setting of the server (see README, "Configuration")."""

    # -- where things are -------------------------------------------------------------
    # The instance folder (database, evidence, generated keys); None: ./instance.
    instance_path: str | None = None
    # SQLAlchemy URL; None: SQLite in the instance folder.
    database_url: str | None = None
    # Where evidence files are stored (content-addressed); None: media/ in the instance folder.
    media_root: str | None = None
    # The server's checkpoint signing keys and its signed checkpoints of the custody chain
    # (server/services/checkpoints.py); None: checkpoints/ in the instance folder.
    checkpoint_dir: str | None = None
    # The evidence store: None or file:///path (a folder; None: MEDIA_ROOT), or
    # s3://bucket[/prefix] (S3-compatible object storage; MEDIA_ROOT then holds only
    # local spool and lock files).
    storage_url: str | None = None
    # S3: the endpoint (e.g. http://127.0.0.1:8333 for SeaweedFS, MinIO); None: AWS.
    s3_endpoint_url: str | None = None
    # S3 credentials; None: boto3's own chain (environment, instance profile).
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    # S3 region; None: boto3's default.
    s3_region: str | None = None
    # Flask's session key; None: generated once into instance/secret_key.
    secret_key: str | None = field(default=None, repr=False)
    # Fernet key(s) encrypting informants' identities, comma-separated, newest first;
    # None: generated once into instance/identity.key.
    identity_key: str | None = field(default=None, repr=False)
    # The PWA's files to serve; None: the repository's pwa/ (server.web.PWA_DIR).
    pwa_dir: str | None = None
    # Level of the "server" loggers (DEBUG, INFO, WARNING, ERROR).
    log_level: str = "INFO"
    # SQLite: how long a request waits for the write lock before it gets a 503.
    sqlite_busy_timeout_ms: int = 30_000
    # Per process: pooled database connections kept, extra ones opened under load, and
    # how long a request waits for one before it is answered 503 with Retry-After.
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout_seconds: float = 30.0

    # -- clients, proxies and sessions ------------------------------------------------
    # How many reverse proxies in front of the server append to X-Forwarded-For (and set
    # X-Forwarded-Proto); 0: those headers are ignored and the socket's address is the
    # client's (login limits and rate limits count by that address).
    trusted_proxy_hops: int = 0
    # Console session cookies only over HTTPS (they are anyway when a request came over
    # HTTPS, as seen directly or through a trusted proxy).
    session_cookie_secure: bool = False

    # -- request limits ---------------------------------------------------------------
    # Device registrations per client address per minute (per server process); 0: none.
    rate_limit_devices_per_minute: int = 30
    # New reports per client address per minute (per server process); 0: none.
    rate_limit_reports_per_minute: int = 120
    # New reports per device per minute (per server process); 0: none.
    rate_limit_device_reports_per_minute: int = 60
    # Largest evidence file accepted, in MiB (photos and short videos).
    max_upload_mb: int = 200
    # Largest JSON body accepted on the API, in bytes.
    max_json_bytes: int = 64 * 1024
    # Cap on the space evidence may use, in bytes (past it uploads get 507); 0: none.
    media_quota_bytes: int = 0
    # Free space MEDIA_ROOT must keep (evidence on a folder; with a bucket the spool a
    # completed upload is read back into), in MiB: below it /readyz answers 503 ("disk")
    # and doctor errs. 0: not checked.
    media_min_free_mb: int = 512

    # -- plausibility flags (kept on the report for reviewers) ------------------------
    # A photo's EXIF time further than this from captured_at is flagged.
    flag_exif_time_skew_minutes: float = Thresholds.exif_time_skew_minutes
    # A photo's EXIF position further than this from the report's location is flagged.
    flag_exif_distance_m: float = Thresholds.exif_distance_m
    # captured_at later than the server's clock by more than this is flagged.
    flag_future_tolerance_minutes: float = Thresholds.future_tolerance_minutes
    # captured_at older than this is flagged.
    flag_max_age_days: float = Thresholds.max_age_days
    # captured_at earlier than the server's receipt of the evidence by more than this is
    # flagged (captured_long_before_receipt).
    flag_receipt_gap_minutes: float = Thresholds.receipt_gap_minutes

    # -- cases and routing ------------------------------------------------------------
    # Reports of one plate and violation within this distance join one case...
    dedup_radius_m: float = DedupConfig.radius_m
    # ...and within this time.
    dedup_window_minutes: float = DedupConfig.window_minutes
    # Largest Hamming distance (bits of 64) between pHashes of "similar" photos.
    dedup_phash_max_distance: int = DEFAULT_PHASH_MAX_DISTANCE
    # The most pixels ever decoded to hash a photo; a larger picture (or a small file
    # declaring one, a "pixel flood") gets no pHash, its evidence is still stored.
    phash_max_pixels: int = DEFAULT_MAX_DECODE_PIXELS
    # Similar photos (which join only within the radius and window above, with compatible
    # plates) are shown to reviewers as hints when captured within this many hours.
    dedup_phash_window_hours: float = 72.0
    # Reports whose evidence reached the server within this many minutes of the earliest
    # are ordered by their claimed capture time when choosing a case's first reporter.
    first_reporter_settle_minutes: float = DedupConfig.window_minutes
    # How far outside every district a point may be and still be routed.
    routing_tolerance_m: float = 2000.0
    # The shipped routing areas used while no boundary set was imported: "2025"
    # (today's communes, 34 provinces) or "pre2025" (the historical districts).
    boundary_set: str = "2025"

    # A report whose evidence has not started arriving this many hours after the
    # server received it expires (server.services.evidence_expiry); 0: never.
    report_evidence_expiry_hours: float = 72.0
    # A request for information (needs_info) unanswered this many days is shown to the
    # reviewer as such ("quá hạn bổ sung") in the queue and on the case page.
    info_request_wait_days: float = 7.0
    # The most files one answer to a request for information may bring.
    max_answer_media: int = 10

    # -- resumable uploads ------------------------------------------------------------
    # Incomplete resumable uploads expire after this many hours.
    upload_expiry_hours: float = 24.0 * 7
    # How long a request waits for another request writing the same upload (then 423).
    upload_lock_wait_seconds: float = 3.0
    # An upload body read from the socket (tus PATCH or creation, PUT of media) that sends
    # nothing for this many seconds is ended with 400 upload_incomplete; a tus upload
    # keeps what arrived, and the answer carries its offset (server.request_body).
    # 0: no limit, and no floor below either.
    body_idle_timeout_seconds: float = 60.0
    # ... and so is one that, past its first BODY_IDLE_TIMEOUT_SECONDS, has arrived
    # slower than this on average (bytes per second; 2G sends 2,000-8,000). 0: no floor.
    body_min_bytes_per_second: float = 100.0

    # -- Web Push ---------------------------------------------------------------------
    # "inline" (after the request, development) or "worker" (flask --app wsgi push-worker).
    push_delivery: str = "inline"
    # How long a push service keeps a message for a phone that is asleep.
    push_ttl_seconds: int = 4 * 24 * 3600
    # Subscription endpoints must be https on these hosts (or their subdomains).
    push_endpoint_hosts: tuple[str, ...] = PUSH_SERVICES
    # Tests only: accept http endpoints on 127.0.0.1 / localhost.
    push_allow_http_loopback: bool = False
    # The contact push services see in the VAPID claims.
    vapid_subject: str = "mailto:admin@roadwatch.invalid"
    # The VAPID private key (PEM); None: generated into instance/vapid_private.pem.
    vapid_private_key_file: str | None = None
    # At most one digest of new cases per console user every this many minutes.
    reviewer_digest_minutes: float = 10.0
    # Cases younger than this wait for the next digest; None: 30 on PostgreSQL, 0 on SQLite.
    reviewer_digest_settle_seconds: float | None = None

    # -- review console ---------------------------------------------------------------
    # Map tiles (a Leaflet URL template); "": no tiles, the map still draws the
    # district's boundary and the reports' points (works offline).
    map_tile_url: str = ""
    # The attribution shown under the tiles.
    map_tile_attribution: str = ""

    # -- evidence -----------------------------------------------------------------------
    # A PEM file of the certificates a C2PA signer must chain to (the C2PA trust list, or
    # a unit's own CA) to count as a camera maker; None: no signer does ("signed by
    # <name>, not on the trust list").
    c2pa_trust_anchors: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings given in ``environ`` (default: the process environment); an
        unset or empty variable leaves the default. Raises ValueError on a bad value."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in _field_types().items():
            raw = environ.get(name.upper(), "").strip()
            if raw:
                values[name] = _parse(kind, raw, name.upper())
        return cls(**values)

    def overridden(self, overrides: Mapping[str, Any]) -> tuple[Settings, dict[str, Any]]:
        """These settings with ``overrides`` applied, keyed like environment variables
        (a test config: ``{"DEDUP_RADIUS_M": 300.0}``). Returns the new settings and
        the keys that are not settings (Flask's own, such as ``TESTING``)."""
        kinds = _field_types()
        changes: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for key, value in overrides.items():
            name = ALIASES.get(key, key.lower())
            if name not in kinds:
                rest[key] = value
            elif isinstance(value, str) and kinds[name] is not str:
                changes[name] = _parse(kinds[name], value.strip(), key)
            elif isinstance(value, list):
                changes[name] = tuple(value)
            elif kinds[name] is float and isinstance(value, int) and not isinstance(value, bool):
                changes[name] = float(value)
            else:
                changes[name] = value
        return dataclasses.replace(self, **changes), rest

    def flask_config(self) -> dict[str, Any]:
        """The keys Flask and Flask-SQLAlchemy read from ``app.config``."""
        return {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            # Checked-out connections are pinged only after an idle spell
            # (server.ping_idle_connections), not on every checkout.
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": False,
                **(
                    {
                        "pool_size": self.db_pool_size,
                        "max_overflow": self.db_max_overflow,
                        "pool_timeout": self.db_pool_timeout_seconds,
                    }
                    if (self.database_url or "").startswith("postgresql")
                    else {}
                ),
            },
            "SECRET_KEY": self.secret_key,
            "SESSION_COOKIE_SECURE": self.session_cookie_secure,
            "JSON_SORT_KEYS": False,
            # Uploads are streamed and limited per route; the JSON API has its own limit.
            "MAX_CONTENT_LENGTH": None,
        }


def current_settings() -> Settings:
    """The settings of the current app (inside an app or request context)."""
    return settings_of(current_app)


def settings_of(app: Flask) -> Settings:
    """The settings :func:`server.create_app` built for ``app``."""
    return app.extensions["settings"]


def override(app: Flask, **changes: Any) -> Settings:
    """Replace ``app``'s settings with a changed copy, keyed like environment variables.

    For tests that change a setting of a running app:
    ``override(app, PUSH_DELIVERY="worker")``.
    """
    settings, rest = settings_of(app).overridden(changes)
    if rest:
        raise KeyError(f"not settings: {', '.join(sorted(rest))}")
    app.extensions["settings"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    return settings


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _parse(kind: Any, raw: str, name: str) -> Any:
    """``raw`` (from the environment) as a value of the annotated type ``kind``."""
    if isinstance(kind, types.UnionType):  # "X | None": a set variable is an X
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError(raw)
            return raw.lower() in _TRUE
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if typing.get_origin(kind) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
    except ValueError:
        kind_name = getattr(kind, "__name__", str(kind))
        raise ValueError(f"{name}: {raw!r} is not a valid {kind_name}") from None
    return raw
