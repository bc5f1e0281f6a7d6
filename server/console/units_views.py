"""The admin page of police units (issue 23): the units an operator created or imported,
the areas each covers (by name), and a CSV import (``code,name,areas``) with the same
rules as ``flask units import``: every line checked first, nothing written when one is
bad. Thin: :mod:`server.services.units` does the work."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from ..extensions import db
from ..services import accounts, districts, units
from . import bp
from .auth import current_user, role_required
from .i18n import t

MAX_CSV = 2 * 1024 * 1024


def _page(error: str | None = None, status: int = 200) -> Any:
    rows = [
        (
            u,
            [
                (ref["name"] or ref["code"])
                for a in u.areas
                if (ref := districts.district_ref(a)) is not None
            ],
        )
        for u in units.list_units()
    ]
    return render_template("console/units.html", rows=rows, error=error), status


@bp.route("/units")
@role_required("admin")
def units_page() -> Any:
    return _page()


@bp.route("/units/import", methods=["POST"])
@role_required("admin")
def units_import() -> Any:
    upload = request.files.get("csv")
    if upload is None or not upload.filename:
        return _page(t("units.no_file"), 422)
    data = upload.stream.read(MAX_CSV + 1)
    try:
        text = data[:MAX_CSV].decode("utf-8-sig")
        user = current_user()
        done = units.import_csv(text, actor=user.username if user else "admin")
    except (UnicodeDecodeError, units.UnitError) as exc:
        db.session.rollback()
        if isinstance(exc, units.UnitError):
            return _page(t("units.rejected", detail=str(exc)), 422)
        return _page(t("units.not_utf8"), 422)
    accounts.audit(
        current_user(), "units_imported", detail=f"{done.created} created, {done.updated} renamed"
    )
    db.session.commit()
    flash(
        t("units.imported", created=done.created, updated=done.updated, moved=done.cases_moved),
        "ok",
    )
    return redirect(url_for("console.units_page"))
