"""The console's language: Vietnamese first, English on a switch, one label per thing.

The language is Vietnamese unless asked otherwise: ``?lang=en`` (the switch link in the
header) or ``?lang=vi`` sets it and a cookie remembers it; ``<html lang>`` follows. The
browser's Accept-Language is not consulted (as in the PWA).

Templates get :func:`t` for their own words, the ``label`` filter for codes
(``{{ flag|label('flag') }}``, tables in :mod:`.i18n_text`; report statuses and reason
codes from :mod:`server.reasons`), :func:`event_line` for history sentences and
:func:`audit_detail`. An unknown code never shows raw: it gets the table's generic label
and is logged. HTTP errors under ``/console`` are answered with a page of the console in
its language (:func:`error_page`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode

from flask import Flask, g, has_request_context, make_response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import catalogue
from ..reasons import INFO_REASONS, REJECT_REASONS, STATUS_TEXT
from .i18n_text import EVENTS, FALLBACK, LABELS, TEXT, Pair

LANGS = ("vi", "en")
COOKIE = "rw_console_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
PREFIX = "/console"
_MATCHED = re.compile(r"^(\S+) matched (\S+)$")  # the note of an "absorbed" event
log = logging.getLogger(__name__)


def current_lang() -> str:
    """``vi`` or ``en``: the request's ``?lang=``, else the cookie, else Vietnamese."""
    if not has_request_context():
        return "vi"
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    stored = request.cookies.get(COOKIE)
    return stored if stored in LANGS else "vi"


def pick(pair: Pair, lang: str | None = None) -> str:
    """The text of a ``(vi, en)`` pair in ``lang`` (default: the console's language)."""
    return pair[1] if (lang or current_lang()) == "en" else pair[0]


def t(key: str, /, lang: str | None = None, **fields: Any) -> str:
    """A text of the console by key, with ``{name}`` fields filled in."""
    pair = TEXT.get(key)
    if pair is None:
        log.error("console text %r is missing", key)
        return ""
    text = pick(pair, lang)
    return text.format(**fields) if fields else text


@cache
def tables() -> dict[str, dict[str, Pair]]:
    """Every label table by kind: :data:`.i18n_text.LABELS` and those of server.reasons."""
    return {
        **LABELS,
        "report_status": dict(STATUS_TEXT),
        "reason": {**REJECT_REASONS, **INFO_REASONS},
    }


def label(code: str | None, kind: str, lang: str | None = None) -> str:
    """The label of a code of ``kind`` ("flag", "report_status", "case_status",
    "vehicle_class", "exif", "event", "audit", "decision", "reason", "join",
    "location_source", "role", ...). An unknown code gets the generic label, and a log line.
    ``None`` is "—", except for ``join`` (None: the report opened the case) and
    ``verdict`` (None: awaiting review)."""
    key = "" if code is None else str(code)
    if not key and kind not in ("join", "verdict"):
        return "—"
    pair = tables()[kind].get(key)
    if pair is None:
        log.warning("no %s label for code %r", kind, key[:64])
        pair = FALLBACK[kind]
    return pick(pair, lang)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------- people


def _display_name(username: str) -> str | None:
    """A console user's display name, remembered for the request."""
    from ..extensions import db
    from ..models.accounts import User

    names: dict[str, str | None] = g.setdefault("_console_display_names", {})
    if username not in names:
        user = db.session.query(User).filter_by(username=username).one_or_none()
        names[username] = user.display_name if user is not None else None
    return names[username]


def actor_name(actor: str | None, lang: str | None = None) -> str:
    """Who did something, as recorded in a history: the system, a user, the command line."""
    if not actor:
        return t("actor.unknown", lang)
    if actor == "system":
        return t("actor.system", lang)
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return _display_name(name) or name
    if kind == "cli":
        return f"{t('actor.cli', lang)} {name}".strip()
    return actor


# ---------------------------------------------------------------------------- histories


def _place(district: Callable[[str | None], Any], code: str | None) -> str:
    """A district as "name (code)", or its code, or "—"."""
    if not code:
        return "—"
    ref = district(code)
    name = ref.get("name") if isinstance(ref, dict) else getattr(ref, "name", None)
    return f"{name} ({code})" if name else code


def event_line(
    event: Any,
    pseudonym: Callable[[str], str],
    district: Callable[[str | None], Any],
    lang: str | None = None,
) -> str:
    """One entry of a case's history as a sentence: pseudonyms and short case ids, never
    raw ids. A reviewer's note (why split, why forwarded) follows in quotes."""
    actor = actor_name(event.actor, lang)
    pair = EVENTS.get(event.kind)
    if pair is None:
        log.warning("no event sentence for case event kind %r", str(event.kind)[:64])
        return f"{actor}: {_lower_first(pick(FALLBACK['event'], lang))}."
    matched = _MATCHED.match(event.note or "") if event.kind == "absorbed" else None
    fields = {
        "actor": actor,
        "report": pseudonym(event.report_id) if event.report_id else "—",
        "partner": pseudonym(matched.group(2)) if matched else "—",
        "other": (event.other_case_id or "—")[:8],
        "reason": _lower_first(label(event.reason, "join", lang)),
        "from": _place(district, event.from_district),
        "to": _place(district, event.to_district),
        "from_unit": event.from_unit or "—",
        "to_unit": event.to_unit or "—",
    }
    line = pick(pair, lang).format(**fields)
    if event.note and event.kind != "absorbed":
        line += f" “{event.note}”"
    return line


def audit_detail(action: str, detail: str | None, lang: str | None = None) -> str:
    """The detail of an audit entry in words (reason labels, short case ids, role names)."""
    if not detail or action == "login":  # a login's detail is a keyed digest, no words
        return ""
    if action in ("case_reject", "case_needs_info"):
        return label(detail, "reason", lang)
    if action == "case_verify":
        return t("case.penalty", lang, no=detail)
    if action == "report_split" and detail.startswith("new case "):
        return t("audit.new_case", lang, id=detail.removeprefix("new case ")[:8])
    if action == "case_forwarded":
        return detail.replace(" -> ", " → ")
    if action == "cases_merged":  # "<absorbed id> -> <survivor id>": short ids
        return " → ".join(t("audit.case", lang, id=part[:8]) for part in detail.split(" -> "))
    if action == "user_created" and " role=" in detail:
        name, _, role = detail.rpartition(" role=")
        return f"{name} · {label(role, 'role', lang)}"
    return detail


def decision_error(exc: Exception, lang: str | None = None) -> str:
    """A refused decision's message in the console's language."""
    return label(str(exc), "decision_error", lang)


# ---------------------------------------------------------------------------- violations


def violation_name(code: str | None) -> str:
    """The name of a violation of the catalogue; unknown codes get a generic label."""
    found = catalogue.by_code().get(code or "")
    if found is None:
        if not code:
            return "—"
        log.warning("no violation named %r in the catalogue", code[:64])
        return pick(FALLBACK["violation"])
    return found["name_en"] if current_lang() == "en" else found["name_vi"]


def violation_title(code: str | None) -> str:
    """The legal reference of a violation, for a tooltip."""
    found = catalogue.by_code().get(code or "")
    return (found or {}).get("legal_reference") or ""


# ---------------------------------------------------------------------------- switch


def lang_switch() -> dict[str, str]:
    """The header's switch: the other language's code, its name and this page's URL in it."""
    other = "en" if current_lang() == "vi" else "vi"
    args = request.args.to_dict(flat=False)
    args["lang"] = [other]
    name = "English" if other == "en" else "Tiếng Việt"
    return {"lang": other, "name": name, "url": f"{request.path}?{urlencode(args, doseq=True)}"}


def texts(prefix: str) -> dict[str, str]:
    """Every text whose key starts with ``prefix.``, by the rest of the key (for scripts)."""
    start = f"{prefix}."
    return {k.removeprefix(start): t(k) for k in TEXT if k.startswith(start)}


def _in_console() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def _remember(response: Response) -> Response:
    """Console responses: a cookie for an asked language, and Content-Language."""
    if not _in_console():
        return response
    asked = request.args.get("lang")
    if asked in LANGS and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=COOKIE_MAX_AGE,
            path=PREFIX,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    if response.mimetype == "text/html":
        response.headers["Content-Language"] = current_lang()
    return response


# ---------------------------------------------------------------------------- errors


def error_page(err: HTTPException) -> Response:
    """An HTTP error of the console as a page of the console, in its language."""
    status = err.code or 500
    key = "csrf" if status == 400 and "CSRF" in str(err.description or "") else str(status)
    body = render_template(
        "console/error.html",
        status=status,
        title=label(key, "error_title"),
        text=label(key, "error_text"),
        needs_login=status == 401,
    )
    response = make_response(body, status)
    for name, value in err.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _install_error_pages(app: Flask) -> None:
    """Console paths get :func:`error_page`; every other path keeps the handler that was
    registered before (the API's problem+json, :mod:`server.problems`)."""
    previous = app.error_handler_spec[None][None].get(HTTPException)

    def _http_error(err: HTTPException) -> Any:
        if _in_console():
            from ..extensions import db

            db.session.rollback()
            return error_page(err)
        return previous(err) if previous is not None else err

    app.register_error_handler(HTTPException, _http_error)


def init_app(app: Flask) -> None:
    """Template globals and filters, the language cookie, the console's error pages."""
    for name, func in (
        ("t", t),
        ("current_lang", current_lang),
        ("lang_switch", lang_switch),
        ("texts", texts),
        ("event_line", event_line),
        ("actor_name", actor_name),
        ("audit_detail", audit_detail),
    ):
        app.add_template_global(func, name)
    app.add_template_filter(label, "label")
    app.add_template_filter(violation_name, "violation_name")
    app.add_template_filter(violation_title, "violation_title")
    app.after_request(_remember)
    _install_error_pages(app)
