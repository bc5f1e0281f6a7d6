"""The district police review console: server-rendered pages at ``/console``.

``init_app`` registers the console and the officers' login API, makes the session
cookie HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS, and keeps
the app's config (its secrets) out of the templates.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Request
from flask.sessions import SecureCookieSessionInterface

bp = Blueprint("console", __name__, url_prefix="/console")


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies when served over HTTPS (the request says so), plain otherwise."""

    def get_cookie_secure(self, app: Flask) -> bool:
        from flask import request

        return bool(app.config.get("SESSION_COOKIE_SECURE")) or _is_https(request)


def _is_https(req: Request) -> bool:
    return req.is_secure


def init_app(app: Flask) -> None:
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SESSION_COOKIE_NAME", "session") == "session":
        app.config["SESSION_COOKIE_NAME"] = "rw_console"
    app.session_interface = _SessionInterface()
    # Flask hands the whole config (SECRET_KEY, IDENTITY_KEY ...) to every template as
    # ``config``; no template needs it.
    app.jinja_env.globals.pop("config", None)
    from . import auth, evidence_views, maps, push, stats_views, units_views, views  # noqa: F401
    from .officers import bp as officers_bp

    app.register_blueprint(bp)
    app.register_blueprint(officers_bp)
    from . import i18n

    i18n.init_app(app)  # after the blueprint: its labels, error pages, language cookie
