"""``flask --app wsgi evidence export CASE [-o FILE]``: the evidence package of a case.

CASE is a case id or a report's quoted code. The package never holds an informant's
identity (there is no option for it): a reveal stays a separate, logged act.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..services import accounts
from ..services.evidence_package import CaseNotFound, find_case, write_package

cli = AppGroup("evidence", help="Evidence packages a court can verify offline.")


@cli.command("export")
@click.argument("case")
@click.option("-o", "--output", "output", metavar="FILE", help="default: evidence-<case>.zip")
def export_command(case: str, output: str | None) -> None:
    """Write the evidence package (ZIP) of CASE; check it with python -m sync.verify."""
    try:
        found = find_case(case)
    except CaseNotFound:
        raise click.ClickException(f"no case {case!r} (a case id or a report code)") from None
    path = output or f"evidence-{found.id}.zip"
    with open(path, "wb") as out:
        manifest = write_package(found, out)
    accounts.audit(None, "evidence_export", case_id=found.id, detail="cli")
    db.session.commit()
    click.echo(f"{path}: {len(manifest['files']) + 2} files, chain head {manifest['chain_head']}")
