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

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from werkzeug.wrappers import Response

from ..models import Case, User
from ..reasons import INFO_REASONS, REJECT_REASONS, STATUS_TEXT
from ..services import accounts, case_merge, cases, checklist, districts, review
from ..services.audit_log import recent_entries
from ..services.dossier import dossier
from ..services.evidence import media_store
from ..services.queue import QueueFilters, open_cases, violation_choices
from ..services.reveal import RevealError, may_reveal, reveal_identity, reveal_log
from ..settings import current_settings
from . import bp
from .access import allowed_districts, case_for, may_see_district, media_for, report_for
from .auth import current_user, role_required
from .i18n import decision_error, t
from .media_stream import stream_blob

STATIC = Path(__file__).resolve().parents[1] / "static"
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
    filters = QueueFilters.from_args(request.args)
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
    )


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
    back = redirect(request.referrer or url_for("console.queue"))
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
    )


def _to_case(case: Case) -> Response:
    return redirect(url_for("console.case", case_id=case.id))


def _review_act(
    case: Case, act: Callable[[], object], done: str, *, elsewhere: str | None = None
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
    )


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
    return (value + timedelta(minutes=offset_min)).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("exif_value")
def _exif_value(value: Any, key: str = "") -> str:
    """EXIF numbers as a reviewer reads them: coordinates to 6 decimals (~0.1 m),
    other fractions to 1 decimal."""
    if isinstance(value, float):
        return f"{value:.6f}" if key in ("lat", "lon") else f"{value:.1f}"
    return str(value)
