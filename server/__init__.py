"""RoadWatch server: the Flask application factory."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import checkpoint
from .extensions import db, migrate
from .instance_keys import instance_identity_key, instance_secret_key
from .settings import Settings

MIGRATIONS_DIR = str(Path(__file__).resolve().parents[1] / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: settings, extensions, blueprints; no migrations, no I/O work.

    The settings come from the environment (:meth:`Settings.from_env`); ``test_config``
    overrides them, keyed like environment variables, and may add Flask's own keys.
    """
    settings, flask_keys = Settings.from_env(os.environ).overridden(test_config or {})
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=settings.instance_path,
        static_folder=None,
    )
    settings = _with_instance_defaults(settings, Path(app.instance_path))
    app.extensions["settings"] = settings
    app.config.update(settings.flask_config())
    app.config.update(flask_keys)

    if settings.trusted_proxy_hops > 0:
        # The client's address and scheme as the trusted proxies forwarded them; without
        # trusted proxies X-Forwarded-* are a client's claims and are ignored.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        ping_idle_connections(db.engine)
        _tune_sqlite(db.engine, settings.sqlite_busy_timeout_ms)

    from . import problems, query_guard

    problems.init_app(app)
    query_guard.init_app(app)

    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    from .open311 import bp as open311_bp  # open data, read only

    app.register_blueprint(open311_bp)

    from .health import bp as health_bp  # /healthz (liveness), /readyz (readiness)

    app.register_blueprint(health_bp)

    from .web import bp as web_bp

    app.register_blueprint(web_bp)

    from .console import init_app as init_console  # the review console and officers' login

    init_console(app)

    from . import cli

    cli.init_app(app)

    from . import security_headers  # CSP on the console, HSTS over HTTPS

    security_headers.init_app(app)

    from . import push_delivery  # PUSH_DELIVERY=inline: Web Push after each request

    push_delivery.init_app(app)

    logging.getLogger("server").setLevel(settings.log_level.upper())
    return app


def _with_instance_defaults(settings: Settings, instance: Path) -> Settings:
    """The settings with what defaults to the instance folder filled in: the database,
    the evidence store, and the keys generated there on first start."""
    instance.mkdir(parents=True, exist_ok=True)
    return dataclasses.replace(
        settings,
        instance_path=str(instance),
        database_url=settings.database_url or f"sqlite:///{instance / 'roadwatch.sqlite3'}",
        media_root=settings.media_root or str(instance / "media"),
        checkpoint_dir=settings.checkpoint_dir or str(instance / "checkpoints"),
        secret_key=settings.secret_key or instance_secret_key(str(instance)),
        identity_key=settings.identity_key or instance_identity_key(str(instance)),
    )


# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 5.0


def ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle in the pool for more than
    :data:`PING_AFTER_IDLE_SECONDS` (SQLAlchemy's pessimistic disconnect handling).

    ``pool_pre_ping`` pinged on every checkout, and a device request checks a
    connection out two or three times (the token lookup's transaction is ended before
    the body is read): on PostgreSQL two or three extra round trips per report. A
    connection returned a moment ago was alive a moment ago; one that sat idle (the
    database may have restarted or closed it) is still pinged, and a dead one is
    replaced before the request sees it.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["rw_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("rw_idle_since")
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: let the pool replace the connection
            raise DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE on SQLite; WAL
    checkpoints in a background thread (:mod:`server.checkpoint`), not in requests.

    Every transaction takes the write lock at its start, so concurrent writers queue
    instead of failing with "database is locked" when a read upgrades to a write.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if checkpoint.register(engine):
            cur.execute(f"PRAGMA wal_autocheckpoint={checkpoint.BACKSTOP_PAGES:d}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
