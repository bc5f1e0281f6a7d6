"""The change feed: ``GET /api/v1/changes?since=<cursor>`` (sync/PROTOCOL.md §3.6)."""

from flask import g, request

from ..auth import device_required
from ..services import changes
from . import bp


@bp.get("/changes")
@device_required
def list_changes():
    since = changes.parse_cursor(request.args.get("since"))
    limit = changes.parse_limit(request.args.get("limit"))
    resp = changes.changes_for(g.device, since, limit)
    return resp, 200, {"Cache-Control": "no-store"}
