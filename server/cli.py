"""``flask`` commands of RoadWatch (``flask --app wsgi …``)."""

from __future__ import annotations

from flask import Flask

from .commands import districts, uploads


def init_app(app: Flask) -> None:
    """Register the command groups of each area."""
    for module in (uploads, districts):
        app.cli.add_command(module.cli)
