"""Configuration: environment first, safe defaults, secrets generated once and kept."""

from __future__ import annotations

import dataclasses
import logging
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server import create_app
from server.extensions import db
from server.settings import Settings, current_settings, settings_of

ENV_KEYS = ("DATABASE_URL", "MEDIA_ROOT", "SECRET_KEY", "IDENTITY_KEY", "MAX_UPLOAD_MB")


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No RoadWatch settings in the environment; a fresh instance folder."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    return instance


def test_defaults_put_database_media_and_keys_in_the_instance_folder(bare_env: Path):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{bare_env / 'roadwatch.sqlite3'}"
    assert settings_of(app).media_root == str(bare_env / "media")
    assert settings_of(app).max_upload_mb == 200
    for name in ("secret_key", "identity.key"):
        path = bare_env / name
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_generated_secrets_are_kept_across_restarts(bare_env: Path):
    first = create_app()
    second = create_app()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert settings_of(first).identity_key == settings_of(second).identity_key
    assert len(first.config["SECRET_KEY"]) >= 32


def test_two_installs_get_different_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    keys = []
    for name in ("a", "b"):
        monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / name))
        monkeypatch.delenv("SECRET_KEY", raising=False)
        monkeypatch.delenv("IDENTITY_KEY", raising=False)
        keys.append(settings_of(create_app()).identity_key)
    assert keys[0] != keys[1]


def test_environment_overrides_defaults(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "evidence"))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MAX_UPLOAD_MB", "50")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.sqlite3")
    assert settings_of(app).media_root == str(tmp_path / "evidence")
    assert app.config["SECRET_KEY"] == "s" * 40
    assert settings_of(app).max_upload_mb == 50
    assert not (bare_env / "secret_key").exists()


def test_no_secret_is_a_constant_in_the_code():
    source = "".join(p.read_text() for p in Path("server").rglob("*.py"))
    assert 'SECRET_KEY = "' not in source and "SECRET_KEY='" not in source


def test_db_upgrade_command_creates_the_schema(bare_env: Path):
    app = create_app()
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"devices", "reports", "media", "status_events", "alembic_version"} <= tables


def test_migrations_and_models_agree(app):
    """The migrated schema is exactly what the models describe (autogenerate finds nothing)."""
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_a_database_locked_too_long_is_a_503_to_retry_not_a_500(tmp_path: Path, monkeypatch):
    import sqlite3

    from tests.conftest import _migrate, _test_config

    path = tmp_path / "locked.sqlite3"
    _migrate(f"sqlite:///{path}", tmp_path)
    app = create_app({**_test_config(f"sqlite:///{path}", tmp_path), "SQLITE_BUSY_TIMEOUT_MS": 50})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        resp = app.test_client().post("/api/v1/devices")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert resp.status_code == 503
    assert resp.get_json()["code"] == "service_unavailable"
    assert resp.headers["Retry-After"] == "30"


def test_sqlite_wal_is_checkpointed_in_the_background_not_by_requests(tmp_path: Path):
    """Requests leave the WAL to a background thread (server.checkpoint): a commit only
    checkpoints past a large backstop, yet the pages reach the database file."""
    import time

    from server import checkpoint
    from tests.conftest import _test_config

    path = tmp_path / "wal.sqlite3"
    app = create_app(_test_config(f"sqlite:///{path}", tmp_path))
    with app.app_context(), db.engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
            checkpoint.BACKSTOP_PAGES
        )
        conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", [("y" * 4000,) for _ in range(200)])
    # The commit wrote the pages to the WAL only; the thread copies them back.
    deadline = time.monotonic() + 10 * checkpoint.INTERVAL_SECONDS + 5
    while path.stat().st_size < 200 * 4000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size >= 200 * 4000
    with app.app_context():
        db.engine.dispose()


def test_every_setting_can_be_set_from_the_environment_and_is_documented():
    """Settings.from_env reads each field from its capitalised name, and README's
    Configuration table names every one of them."""
    readme = Path("README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Layout")]
    names = [f.name.upper() for f in dataclasses.fields(Settings)]
    assert [n for n in names if f"`{n}`" not in table] == []

    s = Settings.from_env(
        {
            "SQLITE_BUSY_TIMEOUT_MS": "1234",
            "LOG_LEVEL": "WARNING",
            "MEDIA_QUOTA_BYTES": "1048576",
            "PUSH_ALLOW_HTTP_LOOPBACK": "1",
            "PUSH_ENDPOINT_HOSTS": "a.example, b.example,",
            "REVIEWER_DIGEST_SETTLE_SECONDS": "5",
            "DEDUP_RADIUS_M": "",  # empty: the default
        }
    )
    assert (s.sqlite_busy_timeout_ms, s.log_level, s.media_quota_bytes) == (1234, "WARNING", 2**20)
    assert s.push_allow_http_loopback is True
    assert s.push_endpoint_hosts == ("a.example", "b.example")
    assert s.reviewer_digest_settle_seconds == 5.0
    assert s.dedup_radius_m == Settings().dedup_radius_m
    with pytest.raises(ValueError, match="MAX_UPLOAD_MB"):
        Settings.from_env({"MAX_UPLOAD_MB": "lots"})


def test_settings_are_built_once_from_the_environment_and_the_test_config(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "777")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    monkeypatch.setenv("MEDIA_QUOTA_BYTES", "4096")
    monkeypatch.setenv("DEDUP_RADIUS_M", "100")
    app = create_app({"DEDUP_RADIUS_M": 300.0, "TESTING": True})
    settings = settings_of(app)
    assert settings.dedup_radius_m == 300.0  # the test config wins over the environment
    assert settings.media_quota_bytes == 4096 and settings.sqlite_busy_timeout_ms == 777
    assert app.config["TESTING"] is True and "DEDUP_RADIUS_M" not in app.config
    assert logging.getLogger("server").level == logging.ERROR
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 777
        assert current_settings() is settings
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_upload_mb = 1  # type: ignore[misc]
    logging.getLogger("server").setLevel(logging.INFO)


def test_no_free_database_connection_is_a_503_to_retry_not_a_500(tmp_path: Path):
    """gevent workers accept more requests than the pool has connections: a request that
    waited the pool's timeout for one is told to retry (the load test saw 500s)."""
    from tests.conftest import _migrate, _test_config

    path = tmp_path / "pool.sqlite3"
    _migrate(f"sqlite:///{path}", tmp_path)
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.05}
    app = create_app({**_test_config(f"sqlite:///{path}", tmp_path),
                      "SQLALCHEMY_ENGINE_OPTIONS": pool})  # fmt: skip
    with app.app_context(), db.engine.connect():  # the pool's one connection, held
        resp = app.test_client().post("/api/v1/devices")
    assert resp.status_code == 503
    assert resp.get_json()["code"] == "service_unavailable"
    assert resp.headers["Retry-After"] == "30"
