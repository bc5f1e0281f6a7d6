"""Liveness and readiness for load balancers and orchestrators.

- ``GET /healthz``: liveness. The process answers; no database, no storage, no I/O,
  so a slow database never gets a healthy node killed. ``200 {"status": "ok"}``.
- ``GET /readyz``: readiness. A trivial query on the database (``SELECT 1``) and a cheap
  call on the evidence store (``head_bucket`` on S3; on a folder: it exists and is
  writable), and the free space of ``MEDIA_ROOT`` (at least ``MEDIA_MIN_FREE_MB``).
  ``200 {"database": "ok", "storage": "ok", "disk": "ok"}``, or ``503``
  problem+json naming what is down, in Vietnamese and English, with ``Retry-After``.
  A proxy takes a node out of rotation on 503 (HAProxy ``option httpchk GET /readyz``).

The answers name a component and a state, never a host, a bucket, a URL, a user or a
key: the endpoints are public. The cause goes to the log (its exception type only).

The same checks serve ``flask --app wsgi doctor`` (:mod:`server.commands.doctor`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, json, request

from .extensions import db
from .settings import current_settings
from .storage import free_bytes

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

RETRY_AFTER_SECONDS = 10
COMPONENTS = {
    "database": ("cơ sở dữ liệu", "the database"),
    "storage": ("kho lưu trữ bằng chứng", "the evidence store"),
    "disk": ("dung lượng trống của thư mục dữ liệu", "free space of the data folder"),
}
MIB = 1024 * 1024


def check_database() -> None:
    """A trivial query; raises if the database does not answer."""
    try:
        db.session.execute(sa.text("SELECT 1")).scalar_one()
    finally:
        db.session.rollback()


def check_storage() -> None:
    """A cheap call on the evidence store; raises if it is not usable."""
    from .services.evidence import media_store

    store = media_store()
    if store.is_local:
        root = store.root  # type: ignore[union-attr]
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            raise OSError("evidence folder missing or not writable")
        return
    _probe_client(store).head_bucket(Bucket=store.bucket)  # type: ignore[union-attr]


def media_folder() -> Path:
    """The node's own folder: the evidence on a folder store, the spool with a bucket."""
    from .services.evidence import media_store

    store = media_store()
    return store.root if store.is_local else store.work_dir  # type: ignore[union-attr]


def check_disk() -> None:
    """MEDIA_ROOT keeps ``MEDIA_MIN_FREE_MB`` free; raises when it does not (a full disk
    answers uploads 507, and a node with a full spool cannot finish any upload)."""
    minimum = current_settings().media_min_free_mb * MIB
    folder = media_folder()
    if minimum <= 0 or not folder.is_dir():  # a missing folder is the storage check's
        return
    if free_bytes(folder) < minimum:
        raise OSError("less free space than MEDIA_MIN_FREE_MB")


def _probe_client(store: Any) -> Any:
    """A client for the store's bucket that gives up quickly (one attempt, short
    timeouts), so a readiness probe answers within a proxy's check timeout when the
    store is away. Same endpoint, region and credentials as the store's (settings)."""
    cached = current_app.extensions.get("roadwatch.readiness_s3")
    if cached is None or cached[0] is not store:
        import boto3
        from botocore.config import Config

        s = current_settings()
        client = boto3.client(
            "s3",
            endpoint_url=s.s3_endpoint_url or None,
            aws_access_key_id=s.s3_access_key_id or None,
            aws_secret_access_key=s.s3_secret_access_key or None,
            region_name=s.s3_region or None,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=3,
            ),
        )
        cached = (store, client)
        current_app.extensions["roadwatch.readiness_s3"] = cached
    return cached[1]


CHECKS = {"database": check_database, "storage": check_storage, "disk": check_disk}


def readiness() -> dict[str, str]:
    """``{"database": "ok"|"down", "storage": "ok"|"down"}``; causes are logged by type."""
    states: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            states[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; never its text outside
            log.warning("readiness: %s is down (%s)", name, type(exc).__name__)
            states[name] = "down"
    return states


@bp.get("/healthz")
def healthz() -> Response:
    return _json({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz() -> Response:
    states = readiness()
    down = [name for name, state in states.items() if state != "ok"]
    if not down:
        return _json(states, 200)
    vi = "Máy chủ chưa sẵn sàng: " + ", ".join(COMPONENTS[n][0] for n in down) + " không hoạt động."
    en = "The server is not ready: " + ", ".join(COMPONENTS[n][1] for n in down) + " is down."
    english = request.accept_languages.best_match(["vi", "en"], default="vi") == "en"
    body = {
        "type": "urn:roadwatch:problem:not_ready",
        "title": en if english else vi,
        "status": 503,
        "code": "not_ready",
        "message": {"vi": vi, "en": en},
        "instance": request.path,
        "down": down,
        **states,
    }
    resp = _json(body, 503, "application/problem+json")
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    resp.headers["Content-Language"] = "en" if english else "vi"
    return resp


def _json(body: dict, status: int, mimetype: str = "application/json") -> Response:
    resp = Response(json.dumps(body), status=status, mimetype=mimetype)
    resp.headers["Cache-Control"] = "no-store"
    return resp
