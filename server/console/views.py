"""Console pages: queue, case, evidence, decisions, split, forward, reveal, reveal log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from werkzeug.wrappers import Response

from .. import catalogue
from ..extensions import db
from ..identity import decrypt_identity
from ..models import Report, utcnow
from ..models.accounts import AuditLog, Decision, IdentityReveal, OfficerDevice, User
from ..models.geo import Case
from ..reasons import INFO_REASONS, REJECT_REASONS, STATUS_TEXT
from ..services import accounts, cases, review, routing
from ..services.evidence import media_store
from . import bp
from .access import allowed_districts, case_for, may_see_district, report_for
from .auth import current_user, role_required

STATIC = Path(__file__).resolve().parents[1] / "static"
PAGE_SIZE = 20
JOIN_TEXT = {
    None: "Mở vụ việc / opened the case",
    "same_media": "Cùng tệp ảnh/video / same file",
    "similar_media": "Ảnh gần giống / similar photo",
    "same_plate": "Cùng biển số, vi phạm, nơi và giờ / same plate, place and time",
}


def _user() -> User:
    user = current_user()
    assert user is not None  # the guard of auth.py let only signed-in users through
    return user


@bp.route("/static/<path:filename>")
def static(filename: str) -> Response:
    response = send_from_directory(STATIC, filename, max_age=3600)
    return response


@bp.route("/")
def index() -> Response:
    return redirect(url_for("console.queue"))


def _parse_date(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.route("/queue")
def queue() -> str:
    """Open cases of the user's districts, most-confirmed and oldest first."""
    user = _user()
    codes = allowed_districts(user)
    f = {
        k: request.args.get(k, "").strip()
        for k in ("status", "violation", "plate", "since", "until")
    }
    page = max(1, request.args.get("page", 1, type=int) or 1)
    q = sa.select(Case).where(Case.status == "open")
    if codes is not None:
        q = q.where(Case.district_code.in_(sorted(codes) or [""]))
    member = sa.select(Report.case_id).where(Report.case_id == Case.id)
    conditions = []
    if f["status"] in STATUS_TEXT:
        conditions.append(Report.status == f["status"])
    if f["violation"]:
        conditions.append(Report.violation == f["violation"])
    if f["plate"]:
        compact = "".join(ch for ch in f["plate"].upper() if ch.isalnum())
        conditions.append(Report.plate_compact.contains(compact))
    since, until = _parse_date(f["since"]), _parse_date(f["until"])
    if since:
        conditions.append(Report.captured_at >= since)
    if until:
        conditions.append(Report.captured_at < until + timedelta(days=1))
    if conditions:
        q = q.where(member.where(*conditions).exists())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(q.subquery())) or 0
    rows = list(
        db.session.scalars(
            q.order_by(Case.report_count.desc(), Case.created_at, Case.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    firsts = {
        r.id: r
        for r in db.session.scalars(
            sa.select(Report).where(Report.id.in_([c.first_report_id for c in rows] or [""]))
        )
    }
    statuses: dict[str, set[str]] = {}
    for case_id, status in db.session.execute(
        sa.select(Report.case_id, Report.status).where(
            Report.case_id.in_([c.id for c in rows] or [""])
        )
    ):
        statuses.setdefault(case_id, set()).add(status)
    violations = sorted(v for v in db.session.scalars(sa.select(Report.violation).distinct()) if v)
    return render_template(
        "console/queue.html",
        cases=rows,
        firsts=firsts,
        statuses=statuses,
        filters=f,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        status_text=STATUS_TEXT,
        violations=violations,
        district=routing.district_ref,
        districts=sorted(codes) if codes is not None else None,
    )


def _officers(reports: list[Report]) -> dict[str, str]:
    """Display names of officers for reports sent with an officer's token."""
    rows = db.session.execute(
        sa.select(Report.id, User.display_name)
        .join(OfficerDevice, OfficerDevice.device_id == Report.device_id)
        .join(User, User.id == OfficerDevice.user_id)
        .where(Report.id.in_([r.id for r in reports] or [""]))
    )
    return {rid: name for rid, name in rows}


@bp.route("/cases/<case_id>")
def case(case_id: str) -> str:
    user = _user()
    c = case_for(user, case_id)
    reports = cases.members(c.id)
    decisions = list(
        db.session.scalars(
            sa.select(Decision).where(Decision.case_id == c.id).order_by(Decision.id)
        )
    )
    actors = {
        u.id: u.display_name
        for u in db.session.scalars(
            sa.select(User).where(User.id.in_([d.actor_id for d in decisions] or [0]))
        )
    }
    can_reveal = user.role == "supervisor" and may_see_district(user, c.district_code)
    return render_template(
        "console/case.html",
        case=c,
        reports=reports,
        pseudonym=accounts.pseudonym,
        officers=_officers(reports),
        history=cases.history(c.id),
        decisions=decisions,
        actors=actors,
        join_text=JOIN_TEXT,
        reject_reasons=REJECT_REASONS,
        info_reasons=INFO_REASONS,
        status_text=STATUS_TEXT,
        district=routing.district_ref,
        can_reveal=can_reveal,
        all_districts=sorted(routing.current_index().districts(), key=lambda d: d.code),
    )


@bp.route("/cases/<case_id>/decide", methods=["POST"])
def decide(case_id: str) -> Response:
    user = _user()
    c = case_for(user, case_id)
    form = request.form
    try:
        review.decide(
            user,
            c,
            form.get("kind", ""),
            reason_code=form.get("reason_code") or None,
            public_note=form.get("public_note"),
            internal_note=form.get("internal_note"),
            penalty_no=form.get("penalty_no"),
        )
        flash("Đã ghi quyết định / decision recorded", "ok")
    except review.DecisionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.case", case_id=c.id))


@bp.route("/cases/<case_id>/split", methods=["POST"])
def split(case_id: str) -> Response:
    user = _user()
    c = case_for(user, case_id)
    try:
        new = review.split(user, c, request.form.get("report_id", ""), request.form.get("reason"))
        flash("Đã tách phản ánh / report split out", "ok")
        if may_see_district(user, new.district_code):
            return redirect(url_for("console.case", case_id=new.id))
    except review.DecisionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.case", case_id=c.id))


@bp.route("/cases/<case_id>/forward", methods=["POST"])
def forward(case_id: str) -> Response:
    user = _user()
    c = case_for(user, case_id)
    try:
        moved = review.forward(
            user, c, request.form.get("to_district", ""), request.form.get("note")
        )
        flash("Đã chuyển vụ việc / case forwarded", "ok")
        if may_see_district(user, moved.district_code):
            return redirect(url_for("console.case", case_id=moved.id))
        return redirect(url_for("console.queue"))
    except review.DecisionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.case", case_id=c.id))


@bp.route("/media/<media_id>")
def media(media_id: str) -> Response:
    from .access import media_for

    m = media_for(_user(), media_id)
    path = media_store().blob_path(m.sha256)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=m.content_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/reports/<report_id>/reveal", methods=["GET", "POST"])
@role_required("supervisor")
def reveal(report_id: str) -> Any:
    """A supervisor of the case's province reveals the informant, with a written reason."""
    user = _user()
    report, c = report_for(user, report_id)
    identity = None
    error = None
    if request.method == "POST":
        reason = (request.form.get("reason") or "").strip()[:1000]
        if len(reason) < 10:
            error = "Hãy ghi rõ lý do (ít nhất 10 ký tự) / write the reason (10+ characters)"
        elif report.identity_ciphertext is None:
            error = "Phản ánh này không có danh tính / this report names nobody"
        else:
            db.session.add(
                IdentityReveal(actor_id=user.id, report_id=report.id, reason=reason, at=utcnow())
            )
            accounts.audit(user, "identity_revealed", case_id=c.id, report_id=report.id)
            db.session.commit()
            identity = decrypt_identity(report.identity_ciphertext)
    status = 422 if error else 200
    return (
        render_template(
            "console/reveal.html",
            report=report,
            case=c,
            pseudonym=accounts.pseudonym(report.id),
            identity=identity,
            error=error,
        ),
        status,
    )


@bp.route("/reveals")
@role_required("admin")
def reveals() -> str:
    rows = db.session.execute(
        sa.select(IdentityReveal, User.username, User.display_name)
        .join(User, User.id == IdentityReveal.actor_id)
        .order_by(IdentityReveal.id.desc())
        .limit(500)
    ).all()
    return render_template("console/reveals.html", rows=rows, pseudonym=accounts.pseudonym)


@bp.route("/audit")
@role_required("admin")
def audit_log() -> str:
    rows = db.session.execute(
        sa.select(AuditLog, User.username)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .order_by(AuditLog.id.desc())
        .limit(500)
    ).all()
    return render_template("console/audit.html", rows=rows)


@bp.app_template_filter("local")
def _local(value: datetime | None, offset_min: int = 420) -> str:
    if value is None:
        return ""
    return (value + timedelta(minutes=offset_min)).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("violation_name")
def _violation_name(code: str | None) -> str:
    """The Vietnamese name of a catalogue code (the code itself if unknown)."""
    found = catalogue.by_code().get(code or "")
    return found["name_vi"] if found else (code or "")


@bp.app_template_filter("violation_title")
def _violation_title(code: str | None) -> str:
    """English name and legal reference, for a tooltip."""
    found = catalogue.by_code().get(code or "")
    if not found:
        return code or ""
    return f"{code} · {found['name_en']} · {found.get('legal_reference') or ''}".rstrip(" ·")


@bp.app_template_filter("exif_value")
def _exif_value(value: Any, key: str = "") -> str:
    """EXIF numbers as a reviewer reads them: coordinates to 6 decimals (~0.1 m),
    other fractions to 1 decimal."""
    if isinstance(value, float):
        return f"{value:.6f}" if key in ("lat", "lon") else f"{value:.1f}"
    return str(value)


@bp.app_template_global()
def console_config(name: str) -> Any:
    return current_app.config.get(name)
