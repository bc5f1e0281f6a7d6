"""`flask --app wsgi boundaries …` and `units …`: boundary versions and police units.

    boundaries list
    boundaries import FILE --effective YYYY-MM-DD [--id ID] [--name NAME]
    boundaries reroute [--dry-run | --apply]
    boundaries unmapped [--limit N]
    units list [--province CODE]
    units create CODE NAME [--province CODE] [--area CODE …]
    units assign CODE AREA_CODE …
    units import FILE.csv
    units members USERNAME UNIT_CODE …

Thin wrappers over :mod:`server.services.boundary_sets` and :mod:`server.services.units`.
"""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from ..models import User
from ..services import boundary_sets, districts, units
from .districts import _actor, _actor_option

cli = AppGroup("boundaries", help="Boundary versions: import, re-route open cases, unmapped.")
units_cli = AppGroup("units", help="Police units and the areas they cover.")


@cli.command("list")
def list_command() -> None:
    """Boundary sets (the current one routes new reports)."""
    current = districts.current_set_id() or districts.shipped_set()
    for s in boundary_sets.list_sets():
        mark = "*" if s.id == current else " "
        eff = s.effective_date.isoformat() if s.effective_date else "-"
        click.echo(f"{mark} {s.id}\t{s.kind}\t{eff}\t{s.name}\t{s.source}")


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--effective", required=True, help="Date the boundaries take effect (YYYY-MM-DD).")
@click.option("--id", "set_id", default=None, help="Id of the set (default: the date).")
@click.option("--name", default=None, help="Name of the set.")
@_actor_option
def import_command(
    file: str, effective: str, set_id: str | None, name: str | None, actor: str | None
) -> None:
    """Import FILE (GeoJSON of areas: code, name, province_code, province_name, type,
    aliases) as a new boundary set; new reports are routed with it at once."""
    try:
        day = datetime.strptime(effective, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--effective") from None
    try:
        result = boundary_sets.import_set(
            districts.read_geojson(file),
            set_id=set_id or day.isoformat(),
            name=name or f"Ranh giới từ {day:%d/%m/%Y}",
            effective=day,
            source=file,
            actor=_actor(actor),
        )
    except districts.RoutingError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"boundary set {result.set_id}: {result.areas} areas; version {result.token}")
    click.echo("open cases keep their area until `flask boundaries reroute --apply`")


@cli.command("reroute")
@click.option("--dry-run/--apply", default=True, help="List (default) or move the cases.")
@_actor_option
def reroute_command(dry_run: bool, actor: str | None) -> None:
    """Open cases whose area differs in the current boundary set."""
    found = boundary_sets.reroute(apply=not dry_run, actor=_actor(actor))
    click.echo("case_id\tfrom_area\tto_area\tfrom_unit\tto_unit")
    for m in found:
        click.echo(
            f"{m.case_id}\t{m.from_area or '-'}\t{m.to_area or '-'}\t"
            f"{m.from_unit or '-'}\t{m.to_unit or '-'}"
        )
    verb = "would move" if dry_run else "moved"
    click.echo(f"{len(found)} open cases {verb}")


@cli.command("unmapped")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
def unmapped_command(limit: int) -> None:
    """Reports of the pre-2025 map that no area of today's map takes (kept, unrouted)."""
    rows = boundary_sets.unmapped(limit)
    click.echo("report_id\tlegacy_district\tlat\tlon\tcase_id")
    for r in rows:
        click.echo(
            f"{r.id}\t{r.legacy_district_code}\t{r.lat:.6f}\t{r.lon:.6f}\t{r.case_id or '-'}"
        )
    click.echo(f"{len(rows)} unmapped reports")


@units_cli.command("list")
@click.option("--province", default=None, help="Only the units of this province code.")
def units_list_command(province: str | None) -> None:
    """Units with their areas (an area without a unit row has its own police CA-<code>)."""
    for u in units.list_units(province):
        click.echo(f"{u.code}\t{u.name}\t{u.province_code or '-'}\t{' '.join(u.areas)}")


def _summary(s: units.ImportSummary) -> str:
    return (
        f"units created: {s.created}, renamed: {s.updated}, areas assigned: "
        f"{s.areas_assigned}, open cases moved: {s.cases_moved}"
    )


@units_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--province", default="", help="Province code of the unit.")
@click.option("--area", "areas", multiple=True, help="An area it covers (repeat).")
@_actor_option
def units_create_command(
    code: str, name: str, province: str, areas: tuple[str, ...], actor: str | None
) -> None:
    """Create (or rename) unit CODE named NAME, covering the --area codes."""
    try:
        click.echo(_summary(units.create_unit(code, name, province, areas, _actor(actor))))
    except units.UnitError as e:
        raise click.ClickException(str(e)) from None


@units_cli.command("assign")
@click.argument("code")
@click.argument("areas", nargs=-1, required=True)
@_actor_option
def units_assign_command(code: str, areas: tuple[str, ...], actor: str | None) -> None:
    """Make unit CODE cover (and handle) the AREAS; their open cases move to it."""
    try:
        click.echo(_summary(units.assign(code, areas, _actor(actor))))
    except units.UnitError as e:
        raise click.ClickException(str(e)) from None


@units_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@_actor_option
def units_import_command(file, actor: str | None) -> None:  # noqa: ANN001 (click file)
    """Import a CSV of units: code,name,areas[,province_code] (all or nothing)."""
    try:
        click.echo(_summary(units.import_csv(file.read(), _actor(actor))))
    except units.UnitError as e:
        raise click.ClickException(str(e)) from None


@units_cli.command("members")
@click.argument("username")
@click.argument("unit_codes", nargs=-1)
def units_members_command(username: str, unit_codes: tuple[str, ...]) -> None:
    """Make USERNAME (a reviewer) belong to exactly UNIT_CODES."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    try:
        units.set_user_units(user, unit_codes)
    except units.UnitError as e:
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"{username}: {' '.join(sorted(set(unit_codes))) or '(no units)'}")
