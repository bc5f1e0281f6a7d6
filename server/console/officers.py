"""``POST /api/v1/officers/login``: an officer's device token for the sync protocol."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from marshmallow import ValidationError

from sync.schemas import OfficerDeviceOutSchema, OfficerLoginSchema

from ..api.body import require_unicode_text
from ..api.operations import Reply, operation
from ..auth import register_device
from ..extensions import db
from ..models.accounts import OfficerDevice
from ..problems import ApiError
from ..services import accounts
from ..services.reports import field_errors

bp = Blueprint("officers", __name__, url_prefix="/api/v1/officers")
_login_in = OfficerLoginSchema()


def _json_or_none() -> Any:
    """The JSON body, None when it is not JSON; too deep a body is a 400, not a 500."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ApiError("json_too_deep") from None
    require_unicode_text(body)
    return body


@bp.post("/login")
@operation(
    operation_id="officerLogin",
    summary="A patrol officer's device token (PROTOCOL §3.3a)",
    request=OfficerLoginSchema,
    responses={201: Reply("Signed in", OfficerDeviceOutSchema)},
    problems=(400, 401, 422, 429),
)
def login() -> tuple[dict[str, Any], int]:
    body = _json_or_none()
    if not isinstance(body, dict):
        raise ApiError("json_object_required")
    try:
        data = _login_in.load(body)
    except ValidationError as err:
        raise ApiError("validation_failed", errors=field_errors(err.messages)) from None
    username, password = data["username"], data["password"]
    # Too many failures: accounts.RateLimited, a 429 with Retry-After (server.problems).
    user = accounts.authenticate(username.strip(), password, request.remote_addr or "-")
    if user is None or user.role != "officer":
        raise ApiError("invalid_credentials")
    device, token = register_device()
    db.session.add(OfficerDevice(device_id=device.id, user_id=user.id))
    accounts.audit(user, "officer_device_issued", detail=device.id)
    db.session.commit()
    body = {"device_id": device.id, "token": token, "officer": {"display_name": user.display_name}}
    return body, 201
