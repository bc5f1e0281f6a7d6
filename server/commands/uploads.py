"""`flask --app wsgi uploads …` commands."""

import click
from flask.cli import AppGroup

cli = AppGroup("uploads", help="Uploads commands.")


@cli.command("expire")
def expire_command() -> None:
    """Remove expired incomplete uploads and their bytes; sweep leftover files.

    Expired means UPLOAD_EXPIRY_HOURS after the last PATCH (what Upload-Expires told
    the client). Also removes partial files that have no upload and are older than
    that, and files in MEDIA_ROOT/tmp older than a day. Received evidence is never
    touched. Safe to run at any time (e.g. hourly from cron): an upload being written
    right now is skipped. Then expires the reports whose evidence never started
    arriving (the same as `reports expire`).
    """
    from ..services.evidence_expiry import expire_reports
    from ..services.upload_expiry import expire

    result = expire()
    click.echo(
        f"Removed {result.expired_uploads} expired upload(s), "
        f"{result.orphan_partials} orphan partial file(s), "
        f"{result.stale_tmp_files} stale temporary file(s)."
    )
    reports = expire_reports()
    click.echo(
        f"Expired {reports.expired_reports} report(s) without evidence, "
        f"closed {reports.closed_cases} empty case(s)."
    )


__all__ = ["cli", "click"]
