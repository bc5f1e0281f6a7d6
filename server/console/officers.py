"""``POST /api/v1/officers/login``: an officer's device token for the sync protocol."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from sync.schemas import OfficerLoginSchema

from ..auth import register_device
from ..extensions import db
from ..models.accounts import OfficerDevice
from ..problems import ApiError
from ..services import accounts
from ..services.reports import field_errors

bp = Blueprint("officers", __name__, url_prefix="/api/v1/officers")
_login_in = OfficerLoginSchema()


@bp.post("/login")
def login() -> tuple[Response, int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("json_object_required")
    try:
        data = _login_in.load(body)
    except ValidationError as err:
        raise ApiError("validation_failed", errors=field_errors(err.messages)) from None
    username, password = data["username"], data["password"]
    try:
        user = accounts.authenticate(username.strip(), password, request.remote_addr or "-")
    except accounts.RateLimited:
        raise ApiError("rate_limited", headers={"Retry-After": "900"}) from None
    if user is None or user.role != "officer":
        raise ApiError("invalid_credentials")
    device, token = register_device()
    db.session.add(OfficerDevice(device_id=device.id, user_id=user.id))
    accounts.audit(user, "officer_device_issued", detail=device.id)
    db.session.commit()
    return jsonify(
        {"device_id": device.id, "token": token, "officer": {"display_name": user.display_name}}
    ), 201
