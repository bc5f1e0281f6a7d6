"""``flask`` commands of RoadWatch (``flask --app wsgi …``)."""

from __future__ import annotations

from flask import Flask

from .commands import (
    audit,
    boundaries,
    districts,
    doctor,
    evidence,
    push,
    reports,
    stats,
    uploads,
    users,
)


def init_app(app: Flask) -> None:
    """Register the command groups of each area."""
    for module in (uploads, reports, districts, push, users, audit, stats, evidence):
        app.cli.add_command(module.cli)
    app.cli.add_command(boundaries.cli)
    app.cli.add_command(boundaries.units_cli)
    app.cli.add_command(push.push_worker)
    app.cli.add_command(doctor.doctor)
