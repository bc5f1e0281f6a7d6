"""`flask --app wsgi districts …` commands: boundaries, police units, the unrouted queue.

    districts import [FILE] [--provinces FILE] [--replace] [--district-code PROP …]
    districts list
    districts set-unit DISTRICT_CODE UNIT_CODE [--name NAME]
    districts unrouted [--limit N]
    districts route-by-hand REPORT_ID DISTRICT_CODE [--note TEXT]

Thin wrappers over :mod:`server.services.districts` and :mod:`server.services.cases`.
"""

from __future__ import annotations

import getpass

import click
from flask.cli import AppGroup

from ..district_index import DEFAULT_PROPS, PropertyNames
from ..extensions import db
from ..models import Report
from ..services import cases, districts

cli = AppGroup("districts", help="District boundaries, police units and unrouted reports.")


def _actor(value: str | None) -> str:
    if value:
        return value
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


_actor_option = click.option("--actor", default=None, help="Recorded as who did it.")


@cli.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--provinces",
    "provinces_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Province (ADM1) polygons for the province_nearest rule. Default: the shipped "
    "provinces file when FILE is omitted, else the provinces table is left as it is.",
)
@click.option("--replace", is_flag=True, help="Delete districts (provinces) not in the file.")
@click.option("--district-code", default=DEFAULT_PROPS.district_code, show_default=True)
@click.option("--district-name", default=DEFAULT_PROPS.district_name, show_default=True)
@click.option(
    "--district-province-code", default=DEFAULT_PROPS.district_province_code, show_default=True
)
@click.option(
    "--district-province-name", default=DEFAULT_PROPS.district_province_name, show_default=True
)
@click.option("--province-code", default=DEFAULT_PROPS.province_code, show_default=True)
@click.option("--province-name", default=DEFAULT_PROPS.province_name, show_default=True)
@_actor_option
def import_command(
    file: str | None,
    provinces_file: str | None,
    replace: bool,
    district_code: str,
    district_name: str,
    district_province_code: str,
    district_province_name: str,
    province_code: str,
    province_name: str,
    actor: str | None,
) -> None:
    """Load district polygons from a GeoJSON file (.geojson or .geojson.gz), idempotently.

    Without FILE, the pre-2025 boundaries shipped in data/boundaries are loaded (see
    data/boundaries/PROVENANCE.md). Property names are configurable.
    """
    if file is None:
        file = str(districts.DEFAULT_DISTRICTS_PATH)
        provinces_file = provinces_file or str(districts.DEFAULT_PROVINCES_PATH)
    props = PropertyNames(
        district_code=district_code,
        district_name=district_name,
        district_province_code=district_province_code,
        district_province_name=district_province_name,
        province_code=province_code,
        province_name=province_name,
    )
    try:
        result = districts.import_boundaries(
            districts.read_geojson(file),
            districts.read_geojson(provinces_file) if provinces_file else None,
            props,
            source=file if not provinces_file else f"{file} + {provinces_file}",
            actor=_actor(actor),
            replace=replace,
        )
    except districts.RoutingError as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"districts: {result.inserted} inserted, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.removed} removed"
    )
    if provinces_file:
        click.echo(
            f"provinces: {result.provinces_inserted} inserted, {result.provinces_updated} "
            f"updated, {result.provinces_unchanged} unchanged, {result.provinces_removed} removed"
        )
    click.echo(f"police units created: {result.units_created}")
    click.echo(f"boundary version: {result.token} ({'changed' if result.changed else 'same'})")


@cli.command("list")
def list_command() -> None:
    """Districts of the current boundary set with their police unit."""
    for d in districts.current_index().districts():
        unit = districts.unit_for(d.code)
        unit_text = f"{unit.code}\t{unit.name}" if unit else "-"
        click.echo(f"{d.code}\t{d.name}\t{d.province_name}\t{unit_text}")


@cli.command("set-unit")
@click.argument("district_code")
@click.argument("unit_code")
@click.option("--name", default=None, help="Name of the unit (e.g. 'Công an Quận 1').")
@_actor_option
def set_unit_command(
    district_code: str, unit_code: str, name: str | None, actor: str | None
) -> None:
    """Make UNIT_CODE the police unit handling DISTRICT_CODE's reports."""
    try:
        unit, moved = districts.set_unit(district_code, unit_code, name, _actor(actor))
    except districts.RoutingError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{district_code} -> {unit.code} ({unit.name}); open cases moved: {moved}")


@cli.command("unrouted")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def unrouted_command(limit: int) -> None:
    """Reports that no rule could place in a district (oldest first)."""
    rows = districts.unrouted_reports(limit)
    if not rows:
        click.echo("no unrouted reports")
        return
    click.echo("report_id\treceived_at\tlat\tlon\tlocation_source\tcase_id")
    for r in rows:
        click.echo(
            f"{r.id}\t{r.received_at.isoformat()}\t{r.lat:.6f}\t{r.lon:.6f}\t"
            f"{r.route_location_source or r.location_source}\t{r.case_id or '-'}"
        )


@cli.command("route-by-hand")
@click.argument("report_id")
@click.argument("district_code")
@click.option("--note", default=None)
@_actor_option
def route_by_hand_command(
    report_id: str, district_code: str, note: str | None, actor: str | None
) -> None:
    """Place REPORT_ID in DISTRICT_CODE (and its case, if the case has no district)."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise click.ClickException(f"no report {report_id}")
    try:
        case = cases.route_by_hand(report, district_code, _actor(actor), note)
    except (districts.RoutingError, cases.CaseError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(
        f"{report_id} -> {district_code}"
        + (f"; case {case.id} is with {case.district_code}" if case else "")
    )
