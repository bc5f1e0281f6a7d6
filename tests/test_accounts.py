"""Accounts: argon2 passwords, the ``users`` commands, login, sessions, rate limit.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models.accounts import User, UserDistrict
from server.services import accounts
from tests.test_console import PASSWORD, csrf, login


def _create(runner, *args: str, password: str = PASSWORD):
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_users_create_stores_an_argon2_hash_and_districts(app: Flask, runner) -> None:
    result = _create(runner, "rev1", "--role", "reviewer", "--district", "001", "--district", "002")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "rev1"))
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        codes = set(db.session.scalars(sa.select(UserDistrict.district_code)))
        assert codes == {"001", "002"}


def test_users_create_refuses_a_reviewer_without_district_and_a_short_password(runner) -> None:
    assert _create(runner, "r", "--role", "reviewer").exit_code != 0
    assert _create(runner, "s", "--role", "supervisor").exit_code != 0
    assert (
        _create(runner, "r2", "--role", "reviewer", "--district", "001", password="short").exit_code
        != 0
    )


def test_users_list_set_password_and_deactivate(app: Flask, runner, client: FlaskClient) -> None:
    _create(runner, "sup", "--role", "supervisor", "--province", "01")
    _create(runner, "rev", "--role", "reviewer", "--district", "006")
    listing = runner.invoke(args=["users", "list"]).output
    assert (
        "sup\tsupervisor\tprovince 01\tactive" in listing
        and "rev\treviewer\t006\tactive" in listing
    )
    assert login(client, "rev").status_code == 302
    new = "another long password"
    result = runner.invoke(
        args=["users", "set-password", "rev", "--password-stdin"], input=new + "\n"
    )
    assert result.exit_code == 0
    assert client.get("/console/queue").status_code == 302  # the old session ended
    assert login(client, "rev", new).status_code == 302
    assert runner.invoke(args=["users", "deactivate", "rev"]).exit_code == 0
    assert client.get("/console/queue").status_code == 302
    assert login(client, "rev", new).status_code == 401


def test_wrong_password_and_unknown_user_get_the_same_generic_message(
    app: Flask, runner, client: FlaskClient
) -> None:
    _create(runner, "rev", "--role", "reviewer", "--district", "006")
    wrong = login(client, "rev", "not it at all")
    unknown = login(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    for resp in (wrong, unknown):
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in resp.get_data(as_text=True)
    assert wrong.get_data() == unknown.get_data().replace(b"nobody", b"rev")


def test_login_is_rate_limited_per_username_and_address(
    app: Flask, runner, client: FlaskClient
) -> None:
    _create(runner, "rev", "--role", "reviewer", "--district", "006")
    for _ in range(accounts.MAX_FAILURES):
        assert login(client, "rev", "wrong password").status_code == 401
    limited = login(client, "rev", PASSWORD)
    assert limited.status_code == 429
    # The first lock is short (accounts.BACKOFF_START) and the page says how short.
    assert "thử lại sau 1 phút" in limited.get_data(as_text=True)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    other = app.test_client()
    token = csrf(other)
    from_elsewhere = other.post(
        "/console/login",
        data={"username": "rev", "password": PASSWORD, "csrf_token": token},
        environ_overrides={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert from_elsewhere.status_code == 302


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app: Flask, runner) -> None:
    _create(runner, "rev", "--role", "reviewer", "--district", "006")
    plain = app.test_client()
    token = csrf(plain)
    resp = plain.post(
        "/console/login", data={"username": "rev", "password": PASSWORD, "csrf_token": token}
    )
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    tls = app.test_client()
    page = tls.get("/console/login", base_url="https://console.example")
    assert "Secure" in page.headers["Set-Cookie"]


def test_login_redirect_stays_inside_the_console(app: Flask, runner) -> None:
    _create(runner, "rev", "--role", "reviewer", "--district", "006")
    c = app.test_client()
    token = csrf(c)
    resp = c.post(
        "/console/login?next=//evil.example/x",
        data={"username": "rev", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302 and resp.location.endswith("/console/queue")
