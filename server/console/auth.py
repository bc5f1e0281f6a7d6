"""Console login and logout, the current user, CSRF tokens on every POST."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..extensions import db
from ..models.accounts import CONSOLE_ROLES, User
from ..services import accounts
from . import bp

PUBLIC_ENDPOINTS = {"console.login", "console.static", "console.service_worker"}


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def password_stamp(user: User) -> str:
    """Changes with the password, so a new password ends older sessions; reveals nothing
    of the hash (the session cookie is signed, not encrypted)."""
    return hashlib.sha256(b"session\0" + user.password_hash.encode()).hexdigest()[:16]


def current_user() -> User | None:
    if "user" not in g:
        uid = session.get("uid")
        user = db.session.get(User, uid) if uid is not None else None
        if user is not None and (not user.active or user.role not in CONSOLE_ROLES):
            user = None
        if user is not None and session.get("pw") != password_stamp(user):
            user = None  # the password changed since this session began
        if user is not None and session.get("gen") != user.session_generation:
            user = None  # logout, a new password or deactivation ended this session
        g.user = user
    return g.user


def role_required(*roles: str) -> Callable[..., Any]:
    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


@bp.app_context_processor
def _inject() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": current_user}


@bp.before_request
def _guard() -> Response | None:
    """Anonymous → the login page; a POST without the session's CSRF token → 400."""
    if request.endpoint not in PUBLIC_ENDPOINTS and current_user() is None:
        if request.method == "GET":
            return redirect(url_for("console.login", next=request.path))
        abort(401)
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        if not sent or not expected or not hmac.compare_digest(sent, expected):
            abort(400, "CSRF token missing or wrong")
    return None


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    retry_minutes = 0
    headers: dict[str, str] = {}
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            user = accounts.authenticate(username, password, request.remote_addr or "-")
        except accounts.RateLimited as err:
            user, error, status = None, "rate", 429
            seconds = err.retry_after or int(accounts.FAILURE_WINDOW.total_seconds())
            retry_minutes = -(-seconds // 60)
            headers["Retry-After"] = str(seconds)
        if user is not None and user.role not in CONSOLE_ROLES:
            user = None  # officers sign in on the phone, not here
        if user is not None:
            session.clear()
            session["uid"] = user.id
            session["pw"] = password_stamp(user)
            session["gen"] = user.session_generation
            csrf_token()
            target = request.args.get("next", "")
            if not target.startswith("/console/") or target.startswith("//"):
                target = url_for("console.queue")
            return redirect(target)
        if error is None:
            error, status = "bad", 401
    page = render_template("console/login.html", error=error, retry_minutes=retry_minutes)
    return page, status, headers


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    user = current_user()
    if user is not None:
        accounts.log_out(user)
    session.clear()
    return redirect(url_for("console.login"))
