"""`flask --app wsgi reports …` commands."""

import click
from flask.cli import AppGroup

cli = AppGroup("reports", help="Reports commands.")


@cli.command("expire")
def expire_command() -> None:
    """Expire reports whose evidence never started arriving.

    A report still waiting for its files REPORT_EVIDENCE_EXPIRY_HOURS (default 72) after
    it was received, with no file received and no resumable upload holding bytes,
    becomes 'expired' (a status event the phone sees), leaves its case (a case left
    empty is closed) and takes no file any more (410 report_expired). `uploads expire`
    runs this too. Safe to run at any time; a second run changes nothing more.
    """
    from ..services.evidence_expiry import expire_reports

    result = expire_reports()
    click.echo(
        f"Expired {result.expired_reports} report(s) without evidence, "
        f"closed {result.closed_cases} empty case(s)."
    )
