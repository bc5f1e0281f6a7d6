"""The JSON API, version 1: ``/api/v1``."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401
    changes,
    devices,
    openapi,
    places,
    push,
    reports,
    uploads,
    violations,
)
