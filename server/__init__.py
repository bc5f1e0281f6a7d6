"""RoadWatch server: the Flask application factory."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import checkpoint, config
from .extensions import db, migrate
from .secrets import instance_identity_key, instance_secret_key

MIGRATIONS_DIR = str(Path(__file__).resolve().parents[1] / "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: configuration, extensions, blueprints; no migrations, no I/O work."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        static_folder=None,
    )
    settings = {k: v for k, v in config.from_environ().items() if v is not None}
    app.config.update(settings)
    if test_config:
        app.config.update(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance / 'roadwatch.sqlite3'}")
    app.config.setdefault("MEDIA_ROOT", str(instance / "media"))
    app.config.setdefault("MEDIA_QUOTA_BYTES", int(os.environ.get("MEDIA_QUOTA_BYTES", "0")))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if not app.config.get("IDENTITY_KEY"):
        app.config["IDENTITY_KEY"] = instance_identity_key(app.instance_path)
    # Uploads are streamed and limited per route; the JSON API has its own limit.
    app.config["MAX_CONTENT_LENGTH"] = None

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        _tune_sqlite(db.engine, int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 30000)))

    from . import problems

    problems.init_app(app)

    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    from .web import bp as web_bp

    app.register_blueprint(web_bp)

    from .console import init_app as init_console  # the review console and officers' login

    init_console(app)

    from . import cli

    cli.init_app(app)

    @app.after_request
    def _deliver_push_inline(response):
        """In development, deliver push messages this request queued, right away; and
        after a successful write, queue the reviewers' digests that are due (at most
        every INLINE_DIGEST_SECONDS per process; the worker does both in production)."""
        from flask import g, request

        pending = g.pop("push_pending", False)
        if app.config["PUSH_DELIVERY"] != "inline":
            return response
        try:
            from .services import digests, push

            if request.method in ("POST", "PUT", "PATCH", "DELETE") and response.status_code < 400:
                pending = digests.run_inline_if_due(app) or pending
            if pending:
                push.deliver_due()
        except Exception:  # delivery problems never fail the request; the worker retries
            db.session.rollback()
            app.logger.exception("inline push delivery failed")
        return response

    logging.getLogger("server").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app


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
