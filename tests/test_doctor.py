"""``flask --app wsgi doctor`` says what is wrong with a configuration, one line per
finding naming the setting, and exits non-zero when something is (server/commands/doctor.py).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from server import create_app
from tests.conftest import _test_config
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, Api, report_body

DEAD_PG = "postgresql+psycopg://rwuser:hunter2@127.0.0.1:1/roadwatch_db"


def doctor(app, *args: str):
    return app.test_cli_runner().invoke(args=["doctor", *args])


def lines(result, level: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(level)]


@pytest.mark.usefixtures("storage")
def test_a_sound_configuration_passes(app):
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert lines(result, "ERROR") == []
    for setting in ("DATABASE_URL", "STORAGE_URL", "IDENTITY_KEY", "SECRET_KEY", "districts"):
        assert any(line.split()[1] == f"{setting}:" for line in lines(result, "OK")), setting


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"SECRET_KEY": "dev"}, "SECRET_KEY"),
        ({"IDENTITY_KEY": "not-a-fernet-key"}, "IDENTITY_KEY"),
        ({"STORAGE_URL": "ftp://somewhere/evidence"}, "STORAGE_URL"),
        ({"VAPID_PRIVATE_KEY_FILE": "/nonexistent/vapid.pem"}, "VAPID_PRIVATE_KEY_FILE"),
    ],
)
def test_a_wrong_setting_is_an_error_naming_it(db_url, tmp_path: Path, change, setting):
    app = create_app({**_test_config(db_url, tmp_path), **change})
    result = doctor(app)
    assert result.exit_code == 1, result.output
    assert any(line.split()[1] == f"{setting}:" for line in lines(result, "ERROR")), result.output


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path):
    app = create_app(_test_config(DEAD_PG, tmp_path))
    result = doctor(app)
    assert result.exit_code == 1
    assert any("DATABASE_URL:" in line for line in lines(result, "ERROR"))
    for secret in ("hunter2", "rwuser", "roadwatch_db"):
        assert secret not in result.output


def test_an_empty_database_is_told_to_migrate(tmp_path: Path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path))
    result = doctor(app)
    assert result.exit_code == 1
    assert any("db upgrade" in line for line in lines(result, "ERROR DATABASE_URL"))


def test_sqlite_on_several_nodes_is_an_error(tmp_path: Path, templates):
    from tests.conftest import _migrate

    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    _migrate(url, tmp_path)
    result = doctor(create_app(_test_config(url, tmp_path)), "--nodes", "2")
    assert result.exit_code == 1
    assert any("PostgreSQL" in line for line in lines(result, "ERROR DATABASE_URL"))


def test_a_missing_bucket_is_named_without_credentials(db_url, tmp_path: Path, s3_server):
    config = {**_test_config(db_url, tmp_path), **s3_server.settings("no-such-bucket-doc")}
    result = doctor(create_app(config))
    assert result.exit_code == 1
    assert any("STORAGE_URL:" in line for line in lines(result, "ERROR"))
    assert s3_server.secret_key not in result.output
    assert "no-such-bucket-doc" not in result.output


def test_a_dropped_old_identity_key_is_caught_on_a_stored_identity(app, client, tmp_path: Path):
    api = Api.register(client)
    assert api.put_report(str(uuid.uuid4()), report_body()).status_code == 201
    settings = app.extensions["settings"]
    rotated = create_app(
        {
            **_test_config(settings.database_url, tmp_path),
            "IDENTITY_KEY": Fernet.generate_key().decode(),  # the old key was dropped
        }
    )
    result = doctor(rotated)
    assert result.exit_code == 1
    assert any("IDENTITY_KEY:" in line for line in lines(result, "ERROR"))
    assert SECRET_NAME not in result.output and SECRET_NATIONAL_ID not in result.output
    # Rotated properly (new key first, old one kept): no error.
    kept = create_app(
        {
            **_test_config(settings.database_url, tmp_path),
            "IDENTITY_KEY": f"{Fernet.generate_key().decode()},{settings.identity_key}",
        }
    )
    assert doctor(kept).exit_code == 0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_production_looking_setups_warn_about_cookies_and_shared_keys(db_url, tmp_path: Path):
    app = create_app({**_test_config(db_url, tmp_path), "PUSH_DELIVERY": "inline"})
    result = doctor(app)
    assert result.exit_code == 0, result.output  # warnings only
    warned = {line.split()[1].rstrip(":") for line in lines(result, "WARN")}
    assert {"SESSION_COOKIE_SECURE", "VAPID_PRIVATE_KEY_FILE", "PUSH_DELIVERY"} <= warned
    assert doctor(app, "--strict").exit_code == 2
    secure = create_app(
        {
            **_test_config(db_url, tmp_path),
            "SESSION_COOKIE_SECURE": "true",
            "TRUSTED_PROXY_HOPS": "1",
        }
    )
    warned = {line.split()[1].rstrip(":") for line in lines(doctor(secure, "--nodes", "2"), "WARN")}
    assert "SESSION_COOKIE_SECURE" not in warned and "TRUSTED_PROXY_HOPS" not in warned
