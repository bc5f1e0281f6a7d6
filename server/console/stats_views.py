"""Statistics pages of the console (issue 13): the dashboard, its exports, accident figures.

* ``/stats``: counts for a period and an area, a year earlier side by side, charts
  (Chart.js, vendored in ``static/vendor/chartjs``) over tables that say the same;
* ``/stats/review.xlsx``: the nine-month or yearly review as a workbook;
* ``/stats/cases.csv``: the cases of the period for analysts;
* ``/stats/accidents``: supervisors (their province) and admins enter accident figures
  per district and month, or import a CSV/XLSX sheet.

Who sees what: reviewers their districts, supervisors their province, admins all
(:func:`server.services.accounts.districts_of`); an ``area`` outside that is ignored.
Bad query arguments are ignored (the default is used), except a period that ends
before it starts or is longer than three years: 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
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
from werkzeug.datastructures import MultiDict

from ..models import User
from ..services import accidents, checkpoints, custody, districts, stats, stats_export, stats_rollup
from ..services.accounts import districts_of, province_districts
from ..services.stats import LOCAL_OFFSET, Period, PeriodError
from . import bp
from .auth import current_user, role_required
from .i18n import current_lang, label, t, violation_name

PRESETS = ("9m", "year")
MAX_UPLOAD = accidents.MAX_BYTES


def _user() -> User:
    user = current_user()
    assert user is not None  # the console's guard let only signed-in users through
    return user


def local_today() -> date:
    return (datetime.now(UTC) + LOCAL_OFFSET).date()


# The years statistics can be asked about (a year earlier is compared too).
MIN_YEAR, MAX_YEAR = 2000, 2100


def _year(value: str | None, default: int) -> int:
    ok = value and value.isdigit() and MIN_YEAR <= int(value) <= MAX_YEAR
    return int(value) if ok else default  # type: ignore[arg-type]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


@dataclass(frozen=True)
class StatsQuery:
    """What the dashboard is asked for: a period (a preset or two dates), an area, a base
    year for accident figures. Built from the query string; bad values are ignored."""

    period: Period
    kind: str  # "9m", "year" or "custom"
    area: str  # "" (everything the user may see), a district code, or "p:<province>"
    scope: set[str] | None
    base_year: int

    def args(self, **extra: Any) -> dict[str, Any]:
        """The query string that asks for this again (for links and exports)."""
        out: dict[str, Any] = {"base": self.base_year}
        if self.kind == "custom":
            out |= {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()}
        else:
            out |= {"preset": self.kind, "year": self.period.start.year}
        if self.area:
            out["area"] = self.area
        return out | extra


def parse_query(user: User, args: MultiDict[str, str], today: date) -> StatsQuery:
    """The query of the request; 400 only for a period that cannot be (backwards, too long)."""
    year = _year(args.get("year"), today.year)
    start, end = _day(args.get("from")), _day(args.get("to"))
    for day in (start, end):
        # Years far from ours (0001, 9999) cannot be compared with a year earlier or
        # counted to the day after: a clear 400, never a 500 (issue 28).
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            abort(400)
    try:
        if start and end:
            period, kind = Period(start, end), "custom"
        elif args.get("preset") == "year":
            period, kind = Period.whole_year(year), "year"
        else:
            period, kind = Period.nine_months(year), "9m"
    except PeriodError:
        abort(400)
    area, scope = _area(user, args.get("area", ""))
    base = _year(args.get("base"), period.start.year - 1)
    return StatsQuery(period, kind, area, scope, base)


def _area(user: User, asked: str) -> tuple[str, set[str] | None]:
    """The area asked for if the user may see all of it, else everything they may see."""
    mine = districts_of(user)
    asked = (asked or "").strip()[:20]
    if asked.startswith("p:"):
        codes = province_districts(asked[2:])
        if codes and (mine is None or codes <= mine):
            return asked, codes
    elif asked and districts.district_info(asked) is not None:
        if mine is None or asked in mine:
            return asked, {asked}
    return "", mine


def area_choices(user: User) -> list[tuple[str, str]]:
    """``(value, words)`` of the areas the user may pick, after "everything"."""
    mine = districts_of(user)
    index = districts.current_index()
    if mine is None:
        provinces = {(d.province_code, d.province_name) for d in index.districts()}
        return [(f"p:{code}", name) for code, name in sorted(provinces)]
    infos = [districts.district_info(code) for code in sorted(mine)]
    return [(i.code, f"{i.name} ({i.code})") for i in infos if i is not None]


def unit_words(user: User, query: StatsQuery) -> str:
    """Whose figures these are, in words: a district's police, a province, the country."""
    if query.area.startswith("p:"):
        names = {districts.district_info(c).province_name for c in query.scope or ()}
        return t("stats.unit_province", name=", ".join(sorted(n for n in names if n)))
    if query.area:
        unit = districts.unit_for(query.area)
        return unit.name if unit else query.area
    if query.scope is None:
        return t("stats.unit_all")
    if user.role == "supervisor" and user.province_code:
        info = next((districts.district_info(c) for c in sorted(query.scope)), None)
        return t("stats.unit_province", name=info.province_name if info else user.province_code)
    names = [districts.district_info(c) for c in sorted(query.scope)]
    return ", ".join(i.name for i in names if i is not None) or t("stats.unit_none")


def _charts(both: stats.Comparison, progress: accidents.Progress | None) -> dict[str, Any]:
    """The charts' data and words, for stats.js (the same figures are in the tables)."""
    cur, prev = both.current, both.previous
    months = both.aligned_months()
    top = sorted(cur.reports.by_violation.items(), key=lambda kv: -kv[1])[:10]
    data: dict[str, Any] = {
        "months": {
            "labels": [f"{m[5:]}/{m[:4]}" for m, _, _ in months],
            "series": [
                {"label": t("stats.this_period"), "data": [n for _, n, _ in months]},
                {"label": t("stats.year_earlier"), "data": [p for _, _, p in months]},
            ],
            "title": t("stats.chart_months"),
        },
        "violations": {
            "labels": [_short(violation_name(k)) for k, _ in top],
            "series": [
                {"label": t("stats.this_period"), "data": [n for _, n in top]},
                {
                    "label": t("stats.year_earlier"),
                    "data": [prev.reports.by_violation.get(k, 0) for k, _ in top],
                },
            ],
            "title": t("stats.chart_violations"),
        },
        "status": {
            "labels": [t("stats.verified"), t("stats.rejected"), t("stats.awaiting")],
            "series": [
                {
                    "label": t("stats.cases"),
                    "data": [cur.cases.verified, cur.cases.rejected, cur.cases.awaiting],
                }
            ],
            "title": t("stats.chart_status"),
        },
    }
    if progress is not None and (progress.entered or progress.entered_base):
        data["accidents"] = {
            "labels": [f"{m[5:]}/{m[:4]}" for m, _, _ in progress.months],
            "series": [
                {
                    "label": t("stats.this_period"),
                    "data": [c["crashes"] for _, c, _ in progress.months],
                },
                {
                    "label": t("stats.base_year", year=progress.base_period.start.year),
                    "data": [b["crashes"] for _, _, b in progress.months],
                },
            ],
            "title": t("stats.chart_accidents"),
        }
    return data


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@bp.route("/stats")
def stats_dashboard() -> str:
    user = _user()
    query = parse_query(user, request.args, local_today())
    both = stats_rollup.compare(query.scope, query.period)
    progress = accidents.progress(query.scope, query.period, query.base_year)
    return render_template(
        "console/stats.html",
        q=query,
        both=both,
        progress=progress,
        charts=_charts(both, progress),
        areas=area_choices(user),
        unit=unit_words(user, query),
        today=local_today(),
        district=districts.area_info,
        may_enter=user.role in ("supervisor", "admin"),
    )


@bp.route("/stats/review.xlsx")
def stats_workbook() -> Response:
    user = _user()
    query = parse_query(user, request.args, local_today())
    both = stats_rollup.compare(query.scope, query.period)
    progress = accidents.progress(query.scope, query.period, query.base_year)
    data = stats_export.workbook(
        both,
        progress,
        kind=query.kind,
        unit=unit_words(user, query),
        now=datetime.now(UTC),
        custody_head=custody.head(),
        server_key=checkpoints.public_current(),
    )
    name = f"roadwatch-{query.kind}-{query.period.start:%Y%m%d}-{query.period.end:%Y%m%d}.xlsx"
    response = Response(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/stats/cases.csv")
def stats_cases_csv() -> Response:
    user = _user()
    query = parse_query(user, request.args, local_today())
    rows = stats.case_export_rows(query.scope, query.period)
    name = f"roadwatch-cases-{query.period.start:%Y%m%d}-{query.period.end:%Y%m%d}.csv"
    response = Response(stream_with_context(stats_export.cases_csv(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------------------- numbers


def _decimal(text: str) -> str:
    """Vietnamese writes 3,5 and 1.234; English 3.5 and 1,234."""
    if current_lang() == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


@bp.app_template_filter("stat_num")
def stat_num(value: int | None) -> str:
    return "—" if value is None else _decimal(f"{value:,}")


@bp.app_template_filter("stat_pct")
def stat_pct(share: float | None) -> str:
    """A share (0..1) as a percentage with one decimal."""
    return "—" if share is None else _decimal(f"{share * 100:.1f}") + " %"


@bp.app_template_filter("stat_hours")
def stat_hours(hours: float | None) -> str:
    return "—" if hours is None else t("stats.hours", n=_decimal(f"{hours:.1f}"))


@bp.app_template_global()
def stat_share(part: int, total: int) -> str:
    return stat_pct(part / total if total else None)


@bp.app_template_global()
def stat_change(current: int, previous: int) -> str:
    """ "+12,5 %", "−3,0 %", or "—" when there is nothing to compare with."""
    if not previous:
        return "—"
    pct = (current - previous) / previous * 100
    sign = "+" if pct > 0 else ("−" if pct < 0 else "±")
    return f"{sign}{_decimal(f'{abs(pct):.1f}')} %"


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
        choices=area_choices_districts(user),
        errors=errors or [],
        form_error=form_error,
        form=request.form if request.method == "POST" else {},
        district=districts.area_info,
        today=local_today(),
    )
    return page, status


def area_choices_districts(user: User) -> list[tuple[str, str]]:
    """Every district the user may enter figures for, ``(code, "name (code)")``."""
    scope = districts_of(user)
    index = districts.current_index()
    infos = [d for d in index.districts() if scope is None or d.code in scope]
    return [
        (d.code, f"{d.name}, {d.province_name} ({d.code})")
        for d in sorted(infos, key=lambda d: d.code)
    ]


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

MAP_DISTRICTS = 40  # district outlines drawn under the cells: those with the most reports


@bp.route("/stats/hotspots")
def stats_hotspots() -> str:
    """Where violations cluster: reports per grid cell over our own district outlines."""
    from ..services.queue import violation_choices
    from .maps import boundary_feature, place_words

    user = _user()
    query = parse_query(user, request.args, local_today())
    violation = request.args.get("violation", "")
    choices = violation_choices()
    if violation not in choices:
        violation = ""
    cell = request.args.get("cell", "500")
    if cell not in stats.CELL_SIZES:
        cell = "500"
    cells = stats.hotspots(
        query.scope, query.period, violation=violation or None, size=stats.CELL_SIZES[cell]
    )
    counts: dict[str, int] = {}
    for c in cells:
        if c.district_code:
            counts[c.district_code] = counts.get(c.district_code, 0) + c.count
    busiest = sorted(counts, key=lambda k: -counts[k])[:MAP_DISTRICTS]
    outlines = [f for f in (boundary_feature(code) for code in busiest) if f is not None]
    return render_template(
        "console/hotspots.html",
        q=query,
        cells=cells,
        top=cells[:20],
        cell=cell,
        cell_sizes=list(stats.CELL_SIZES),
        violation=violation,
        violations=choices,
        areas=area_choices(user),
        unit=unit_words(user, query),
        place=place_words,
        map_data={
            "cells": [{"s": c.south, "w": c.west, "size": c.size, "n": c.count} for c in cells],
            "outlines": {"type": "FeatureCollection", "features": outlines},
        },
    )
