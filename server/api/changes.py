"""The change feed: ``GET /api/v1/changes?since=<cursor>`` (sync/PROTOCOL.md §3.6)."""

from flask import g, request

from sync.schemas import ChangesSchema

from ..auth import device_required
from ..problems import ApiError
from ..services import changes
from . import bp
from .operations import Reply, operation


@bp.get("/changes")
@operation(
    operation_id="listChanges",
    summary="Status changes of the device's reports after a cursor",
    parameters=(
        {
            "name": "since",
            "in": "query",
            "description": "the `next` cursor of an earlier page",
            "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"},
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": changes.MAX_LIMIT},
        },
    ),
    responses={200: Reply("Changes in order", ChangesSchema)},
    problems=(400, 422),
    device=True,
)
@device_required
def list_changes():
    since = parse_cursor(request.args.get("since"))
    limit = parse_limit(request.args.get("limit"))
    resp = changes.changes_for(g.device, since, limit)
    return resp, 200, {"Cache-Control": "no-store"}


def parse_cursor(raw: str | None) -> int:
    """``since``: a cursor from an earlier page (0 when absent), or a 400 problem."""
    if raw in (None, ""):
        return 0
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError("invalid_cursor")
    return int(raw)


def parse_limit(raw: str | None) -> int:
    """``limit``: events per page, 1 to MAX_LIMIT, or a 422 problem."""
    if raw in (None, ""):
        return changes.DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= changes.MAX_LIMIT:
        raise ApiError(
            "validation_failed", errors={"limit": [f"Must be between 1 and {changes.MAX_LIMIT}."]}
        )
    return int(raw)
