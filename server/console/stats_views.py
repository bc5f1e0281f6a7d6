"""Statistics pages of the console (issue 13): the dashboard, its exports, accident figures.

* ``/stats``: counts for a period and an area, a year earlier side by side, charts
  (Chart.js, vendored in ``static/vendor/chartjs``) over tables that say the same;
* ``/stats/review.xlsx``: the nine-month or yearly review as a workbook;
* ``/stats/cases.csv``: the cases of the period for analysts;
* ``/stats/accidents``: supervisors (their province) and admins enter accident figures
  per district and month, or import a CSV/XLSX sheet;
* ``/stats/hotspots``: where violations cluster.

Thin views: the query, the areas and every figure come from :mod:`server.services.stats`
(who sees what: :mod:`server.services.stats.dashboard`); the number filters of the
templates are in :mod:`.stats_format`. Bad query arguments are ignored (the default is
used), except a period that ends before it starts or is longer than three years: 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from ..models import User
from ..services import accidents, checkpoints, custody, districts
from ..services.accounts import districts_of
from ..services.stats import CELL_SIZES, PeriodError, hotspots
from ..services.stats.cases_csv import case_export_rows, cases_csv
from ..services.stats.charts import chart_data
from ..services.stats.dashboard import (
    StatsQuery,
    area_choices,
    district_choices,
    local_today,
    parse_query,
    unit_words,
)
from ..services.stats.hotspots import busiest_districts, map_cells
from ..services.stats.rollup import compare
from ..services.stats.workbook import workbook
from . import bp, stats_format  # noqa: F401  (stats_format: the templates' number filters)
from .auth import current_user, role_required
from .i18n import label, t, violation_name

MAX_UPLOAD = accidents.MAX_BYTES
MAP_DISTRICTS = 40  # district outlines drawn under the cells: those with the most reports
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user() -> User:
    user = current_user()
    assert user is not None  # the console's guard let only signed-in users through
    return user


def _query(user: User) -> StatsQuery:
    try:
        return parse_query(user, request.args, local_today())
    except PeriodError:
        abort(400)


def _download(body: Any, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/stats")
def stats_dashboard() -> str:
    user = _user()
    query = _query(user)
    both = compare(query.scope, query.period)
    progress = accidents.progress(query.scope, query.period, query.base_year)
    return render_template(
        "console/stats.html",
        q=query,
        both=both,
        progress=progress,
        charts=chart_data(both, progress, t, violation_name),
        areas=area_choices(user),
        unit=unit_words(user, query, t),
        today=local_today(),
        district=districts.area_info,
        may_enter=user.role in ("supervisor", "admin"),
    )


@bp.route("/stats/review.xlsx")
def stats_workbook() -> Response:
    user = _user()
    query = _query(user)
    data = workbook(
        compare(query.scope, query.period),
        accidents.progress(query.scope, query.period, query.base_year),
        kind=query.kind,
        unit=unit_words(user, query, t),
        now=datetime.now(UTC),
        custody_head=custody.head(),
        server_key=checkpoints.public_current(),
    )
    return _download(data, XLSX, query.file_name(query.kind, "xlsx"))


@bp.route("/stats/cases.csv")
def stats_cases_csv() -> Response:
    query = _query(_user())
    rows = case_export_rows(query.scope, query.period)
    body = stream_with_context(cases_csv(rows))
    return _download(body, "text/csv", query.file_name("cases", "csv"))


# ---------------------------------------------------------------------------- accidents


def _accidents_page(
    user: User,
    *,
    errors: list[tuple[int, str]] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    scope = districts_of(user)
    page = render_template(
        "console/accidents.html",
        figures=accidents.recent_figures(scope),
        choices=district_choices(user),
        errors=errors or [],
        form_error=form_error,
        form=request.form if request.method == "POST" else {},
        district=districts.area_info,
        today=local_today(),
    )
    return page, status


@bp.route("/stats/accidents", methods=["GET", "POST"])
@role_required("supervisor", "admin")
def stats_accidents() -> Any:
    """GET: the form and the latest figures. POST: one district's month, entered by hand."""
    user = _user()
    if request.method == "GET":
        return _accidents_page(user)
    form = request.form
    try:
        accidents.record(
            user,
            form.get("district", ""),
            form.get("month", ""),
            form.get("crashes", ""),
            form.get("deaths", ""),
            form.get("injuries", ""),
        )
    except accidents.AccidentError as exc:
        return _accidents_page(user, form_error=label(str(exc), "accident_error"), status=422)
    flash(t("acc.saved"), "ok")
    return redirect(url_for("console.stats_accidents"))


@bp.route("/stats/accidents/import", methods=["POST"])
@role_required("supervisor", "admin")
def stats_accidents_import() -> Any:
    """A CSV or XLSX sheet of figures: all rows written, or none and the bad rows listed."""
    user = _user()
    upload = request.files.get("sheet")
    if upload is None or not upload.filename:
        return _accidents_page(user, errors=[(1, "empty")], status=422)
    data = upload.stream.read(MAX_UPLOAD + 1)
    try:
        n = accidents.import_sheet(user, upload.filename, data)
    except accidents.SheetRejected as exc:
        return _accidents_page(user, errors=exc.errors, status=422)
    flash(t("acc.imported", n=n), "ok")
    return redirect(url_for("console.stats_accidents"))


# ---------------------------------------------------------------------------- hotspots


@bp.route("/stats/hotspots")
def stats_hotspots() -> str:
    """Where violations cluster: reports per grid cell over our own district outlines."""
    from ..services.queue import violation_choices
    from .maps import boundary_feature, place_words

    user = _user()
    query = _query(user)
    violation = request.args.get("violation", "")
    choices = violation_choices()
    if violation not in choices:
        violation = ""
    cell = request.args.get("cell", "500")
    if cell not in CELL_SIZES:
        cell = "500"
    cells = hotspots(query.scope, query.period, violation=violation or None, size=CELL_SIZES[cell])
    busiest = busiest_districts(cells, MAP_DISTRICTS)
    outlines = [f for f in (boundary_feature(code) for code in busiest) if f is not None]
    return render_template(
        "console/hotspots.html",
        q=query,
        cells=cells,
        top=cells[:20],
        cell=cell,
        cell_sizes=list(CELL_SIZES),
        violation=violation,
        violations=choices,
        areas=area_choices(user),
        unit=unit_words(user, query, t),
        place=place_words,
        map_data={
            "cells": map_cells(cells),
            "outlines": {"type": "FeatureCollection", "features": outlines},
        },
    )
