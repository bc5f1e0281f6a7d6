"""Console pages: queue, case, evidence, decisions (one case, or several rejected at once
from the queue), the penalty decision, reopening, split, forward, merge, reveal, reveal log.

Each view parses the request, calls a service and renders: the queue
(:mod:`server.services.queue`), the case page (:mod:`server.services.dossier`, and its
similar-photo hints from :mod:`server.services.cases`), decisions, splits and forwards
(:mod:`server.services.review`), merges (:mod:`server.services.case_merge`), the informant's reveal
(:mod:`server.services.reveal`) and the audit log (:mod:`server.services.audit_log`).
Who may see which case, report or file is decided in :mod:`.access`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import provenance
from ..models import Case, Media, User
from ..reasons import INFO_REASONS, REJECT_REASONS, STATUS_TEXT
from ..services import accounts, answers, case_merge, cases, checklist, districts, review
from ..services.audit_log import recent_entries
from ..services.dossier import dossier
from ..services.evidence import media_store
from ..services.queue import QueueFilters, open_cases, violation_choices
from ..services.reveal import RevealError, may_reveal, reveal_identity, reveal_log
from ..settings import current_settings
from . import bp
from .access import allowed_districts, case_for, may_see_district, media_for, report_for
from .auth import current_user, role_required
from .i18n import current_lang, decision_error, t
from .i18n_text import LABELS
from .media_stream import stream_blob

STATIC = Path(__file__).resolve().parents[1] / "static"
# The warning flags the queue filters by (those the console has words for).
FLAG_CODES = frozenset(LABELS["flag"])
REVEAL_ERRORS = {"short_reason": "reveal.short", "no_identity": "reveal.nobody"}


def _user() -> User:
    user = current_user()
    assert user is not None  # the guard of auth.py let only signed-in users through
    return user


@bp.route("/static/<path:filename>")
def static(filename: str) -> Response:
    return send_from_directory(STATIC, filename, max_age=3600)


@bp.route("/")
def index() -> Response:
    return redirect(url_for("console.queue"))


@bp.route("/queue")
def queue() -> str:
    """Open cases of the user's districts, most-confirmed and oldest first."""
    user = _user()
    filters = QueueFilters.from_args(request.args, FLAG_CODES)
    page = open_cases(user, filters, request.args.get("page", 1, type=int) or 1)
    codes = allowed_districts(user)
    return render_template(
        "console/queue.html",
        page=page,
        filters=filters,
        status_text=STATUS_TEXT,
        violations=violation_choices(),
        district=districts.district_ref,
        districts=scope_names(codes),
        bulk_reasons=review.BULK_REJECT_REASONS,
        expiry_hours=current_settings().report_evidence_expiry_hours,
        overdue_before=answers.overdue_before(),
        flag_codes=sorted(FLAG_CODES),
    )


def _queue_page_referred() -> str | None:
    """The queue page (path and query) the request came from, when the Referer names
    this server's queue; never another site (an open redirect) or another page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.scheme not in ("http", "https") or referrer.netloc != request.host:
        return None
    if referrer.path != url_for("console.queue"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


SCOPE_NAMES_SHOWN = 6


def scope_names(codes: set[str] | None) -> list[str] | None:
    """The names of a reviewer's areas for the queue's heading (None: all), the first
    few by name and then how many more: a supervisor's province has hundreds."""
    if codes is None:
        return None
    names = sorted(
        (ref["name"] or ref["code"]) for c in codes if (ref := districts.district_ref(c))
    )
    if len(names) > SCOPE_NAMES_SHOWN:
        return [*names[:SCOPE_NAMES_SHOWN], t("queue.more", n=len(names) - SCOPE_NAMES_SHOWN)]
    return names


@bp.app_template_global()
def unit_name(code: str | None) -> str | None:
    """Template helper: a unit's name by its code (:func:`districts.unit_name`)."""
    return districts.unit_name(code)


@bp.route("/queue/reject", methods=["POST"])
def bulk_reject() -> Response:
    """Reject the cases ticked in the queue with one reason; each ``case`` value is
    ``<case id>:<number of reports the queue showed>``."""
    user = _user()
    targets = []
    for value in request.form.getlist("case")[: review.MAX_BULK + 1]:
        case_id, _, count = value.partition(":")
        targets.append((case_for(user, case_id), _count(count)))
    back = redirect(_queue_page_referred() or url_for("console.queue"))
    try:
        done = review.bulk_reject(user, targets, request.form.get("reason_code") or None)
    except review.DecisionError as exc:
        flash(decision_error(exc), "error")
        return back
    flash(t("flash.bulk_rejected", n=len(done)), "ok")
    return back


@bp.route("/cases/<case_id>")
def case(case_id: str) -> str:
    user = _user()
    found = dossier(case_for(user, case_id))
    given = answers.answers_of_case(found.case.id)
    answer_files: dict[str, list[Media]] = {}
    for r in found.reports:
        for m in r.media:
            if m.answer_id:
                answer_files.setdefault(m.answer_id, []).append(m)
    return render_template(
        "console/case.html",
        case=found.case,
        reports=found.reports,
        checklists=checklist.case_checklist(found.reports),
        officers=found.officers,
        # Similar-photo hints have their own list below, filtered by who may see them.
        history=[e for e in found.history if e.kind != cases.SIMILAR_PHOTO],
        decisions=found.decisions,
        verdict_entry=found.verdict_entry,
        penalty_no=found.penalty_no,
        new_reports=found.has_new_reports,
        pseudonym=accounts.pseudonym,
        reject_reasons=REJECT_REASONS,
        info_reasons=INFO_REASONS,
        status_text=STATUS_TEXT,
        district=districts.district_ref,
        can_reveal=may_reveal(user, found.case),
        forward_choices=districts.forward_choices(found.case.district_code),
        similar=[
            c for c in cases.similar_cases(found.case.id) if may_see_district(user, c.district_code)
        ],
        answers=given,
        answer_files=answer_files,
        answer_at={a.id: a.created_at for a in given},
        overdue_before=answers.overdue_before(),
        overdue_days=current_settings().info_request_wait_days,
        decided=_decided_link(user, request.args.get("decided", "")),
        next_case=session.get("next_case", False),
        first_image=_first_image(found.reports),
    )


def _decided_link(user: User, case_id: str) -> Case | None:
    """The case decided just before (``?decided=``), if the user may open it."""
    if not case_id:
        return None
    try:
        return case_for(user, case_id[:36])
    except HTTPException:
        return None


def _first_image(reports: list) -> Media | None:
    """The first received photo of the case (its first reporter's first), or None."""
    for r in reports:
        for m in r.media:
            if m.received and m.content_type.startswith("image/"):
                return m
    return None


def _to_case(case: Case) -> Response:
    return redirect(url_for("console.case", case_id=case.id))


def _review_act(
    case: Case,
    act: Callable[[], object],
    done: str,
    *,
    elsewhere: str | None = None,
    then_next: bool = False,
) -> Response:
    """Run a reviewer's act on ``case`` (again if PostgreSQL aborted it as a deadlock
    victim: :func:`review.retry_on_conflict`), flash how it went, and redirect.

    An act that leaves a case behind (split: the new case; forward: the moved case) leads
    there if the user may still see it, otherwise to the ``elsewhere`` endpoint (or back
    to ``case``). A refused act flashes why and leads back to ``case``.
    """
    try:
        result = review.retry_on_conflict(act)
    except review.DecisionError as exc:
        flash(decision_error(exc), "error")
        return _to_case(case)
    flash(t(done), "ok")
    if then_next:  # the next case of the queue, with the decided one a link away
        following = _next_case(_user(), case)
        if following is not None:
            return redirect(url_for("console.case", case_id=following.id, decided=case.id))
        return redirect(url_for("console.queue"))
    if isinstance(result, Case):
        if may_see_district(_user(), result.district_code):
            return _to_case(result)
        if elsewhere:
            return redirect(url_for(elsewhere))
    return _to_case(case)


@bp.route("/cases/<case_id>/decide", methods=["POST"])
def decide(case_id: str) -> Response:
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(
        c,
        lambda: review.decide(
            user,
            c,
            form.get("kind", ""),
            reason_code=form.get("reason_code") or None,
            public_note=form.get("public_note"),
            internal_note=form.get("internal_note"),
            penalty_no=form.get("penalty_no"),
            confirm_count=_count(form.get("confirm_count")),
        ),
        "flash.decided",
        then_next=_wants_next(form),
    )


def _wants_next(form: Mapping[str, str]) -> bool:
    """The reviewer's setting "after a decision, open the next case of the queue" (issue
    26), sent with each decision and kept in the session for the next page."""
    wanted = form.get("next_case") == "1"
    session["next_case"] = wanted
    return wanted


def _next_case(user: User, decided: Case) -> Case | None:
    """The first case of the user's default queue other than ``decided``, or None."""
    for row in open_cases(user, QueueFilters(), 1).items:
        if row.case.id != decided.id:
            return row.case
    return None


@bp.route("/cases/<case_id>/penalty", methods=["POST"])
def penalty(case_id: str) -> Response:
    """Add the penalty decision number to a verified case."""
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(
        c,
        lambda: review.issue_penalty(user, c, form.get("penalty_no"), form.get("internal_note")),
        "flash.penalty",
    )


@bp.route("/cases/<case_id>/reopen", methods=["POST"])
def reopen(case_id: str) -> Response:
    """Unlock a decided case, with a written reason."""
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(c, lambda: review.reopen(user, c, form.get("reason")), "flash.reopened")


def _count(value: str | None) -> int | None:
    """A count sent by a form; None when missing or not a number."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


@bp.route("/cases/<case_id>/merge", methods=["POST"])
def merge(case_id: str) -> Response:
    """Merge the case named in the form (short id) into this one: same district, both open."""
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(
        c,
        lambda: case_merge.merge(user, c, form.get("other", ""), form.get("note")),
        "flash.merged",
    )


@bp.route("/cases/<case_id>/split", methods=["POST"])
def split(case_id: str) -> Response:
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(
        c,
        lambda: review.split(user, c, form.get("report_id", ""), form.get("reason")),
        "flash.split",
    )


@bp.route("/cases/<case_id>/forward", methods=["POST"])
def forward(case_id: str) -> Response:
    user, form = _user(), request.form
    c = case_for(user, case_id)
    return _review_act(
        c,
        lambda: review.forward(user, c, form.get("to_district", ""), form.get("note")),
        "flash.forwarded",
        elsewhere="console.queue",
    )


@bp.route("/media/<media_id>")
def media(media_id: str) -> Response:
    m = media_for(_user(), media_id)
    store = media_store()
    if store.is_local:
        path = store.blob_path(m.sha256)
        if not path.exists():
            abort(404)
        response = send_file(path, mimetype=m.content_type, conditional=True, max_age=0)
    else:
        response = stream_blob(store, m.sha256, m.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/reports/<report_id>/reveal", methods=["GET", "POST"])
@role_required("supervisor")
def reveal(report_id: str) -> tuple[str, int]:
    """A supervisor of the case's province reveals the informant, with a written reason."""
    user = _user()
    report, c = report_for(user, report_id)
    identity = None
    error = None
    if request.method == "POST":
        try:
            identity = reveal_identity(user, report, request.form.get("reason"))
        except RevealError as exc:
            if exc.code not in REVEAL_ERRORS:
                abort(403)
            error = t(REVEAL_ERRORS[exc.code])
    page = render_template(
        "console/reveal.html",
        report=report,
        case=c,
        pseudonym=accounts.pseudonym(report.id),
        identity=identity,
        error=error,
    )
    return page, 422 if error else 200


@bp.route("/reveals")
@role_required("supervisor", "admin")
def reveals() -> str:
    """The reveal log: all of it for an administrator, a supervisor's province's for them."""
    return render_template(
        "console/reveals.html", rows=reveal_log(_user()), pseudonym=accounts.pseudonym
    )


@bp.route("/audit")
@role_required("admin")
def audit_log() -> str:
    return render_template("console/audit.html", rows=recent_entries())


@bp.app_template_filter("local")
def _local(value: datetime | None, offset_min: int = 420) -> str:
    if value is None:
        return ""
    # One date format on every screen, the phone's too (issue 26): dd/mm/yyyy HH:MM.
    return (value + timedelta(minutes=offset_min)).strftime("%d/%m/%Y %H:%M")


@bp.app_template_filter("exif_value")
def _exif_value(value: Any, key: str = "") -> str:
    """EXIF numbers as a reviewer reads them: coordinates to 6 decimals (~0.1 m),
    other fractions to 1 decimal."""
    if isinstance(value, float):
        return f"{value:.6f}" if key in ("lat", "lon") else f"{value:.1f}"
    return str(value)


@bp.app_template_global("ai_generated")
def _ai_generated(detail: dict[str, Any] | None) -> bool:
    """A file's Content Credentials say a generative model made it (issue 26)."""
    return provenance.ai_generated(detail)


_KINDS = {"image": ("Ảnh", "Photo"), "video": ("Video", "Video")}


@bp.app_template_filter("file_kind")
def _file_kind(content_type: str) -> str:
    """"Ảnh JPEG", "Video MP4": a file's kind in words, not its MIME type (issue 26)."""
    major, _, minor = (content_type or "").partition("/")
    words = _KINDS.get(major, ("Tệp", "File"))
    name = minor.upper().replace("QUICKTIME", "MOV").replace("X-", "")
    return f"{words[1] if current_lang() == 'en' else words[0]} {name}".strip()


@bp.app_template_filter("file_size")
def _file_size(size: int) -> str:
    """"52 KB", "1,3 MB": decimal units, the phone's way (issue 26; no "KiB")."""
    value, unit = float(size or 0), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    text = f"{value:.0f}" if unit in ("B", "KB") else f"{value:.1f}"
    return f"{text.replace('.', ',') if current_lang() != 'en' else text} {unit}"
