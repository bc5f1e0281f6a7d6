"""``flask --app wsgi stats …``: the dashboard's pre-aggregated counts."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from ..services.stats import rollup_store

cli = AppGroup("stats", help="The dashboard's pre-aggregated counts (stats_rollup).")


@cli.command("refresh")
@click.option("--rebuild", is_flag=True, help="recompute every bucket, not only the stale ones")
def refresh_command(rebuild: bool) -> None:
    """Count again what changed since the last read (run it after an import, or from
    cron so that the first dashboard of the morning has nothing left to count)."""
    t0 = time.perf_counter()
    n = rollup_store.rebuild() if rebuild else rollup_store.refresh_all()
    click.echo(f"{n} district-months counted in {time.perf_counter() - t0:.1f} s")
