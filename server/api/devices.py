"""Device registration."""

from flask import g, request, url_for
from marshmallow import ValidationError

from sync.schemas import DeviceKeyInSchema, DeviceKeyOutSchema, DeviceOutSchema

from ..auth import device_required, register_device
from ..services import errors, rate_limits, signing
from ..services.reports import field_errors
from . import bp
from .body import json_object
from .operations import Reply, operation


@bp.post("/devices")
@operation(
    operation_id="registerDevice",
    summary="Register a device",
    responses={201: Reply("Registered", DeviceOutSchema)},
    problems=(429,),
)
def create_device():
    """Register a phone: ``{device_id, token}``. The token is shown only this once."""
    rate_limits.device_registration(request.remote_addr or "-")
    device, token = register_device()
    body = {"device_id": device.id, "token": token}
    return body, 201, {"Location": url_for("api.create_device") + "/" + device.id}


_key_in = DeviceKeyInSchema()


@bp.put("/devices/key")
@operation(
    operation_id="putDeviceKey",
    summary="Register the device's signing key once (ECDSA P-256)",
    request=DeviceKeyInSchema,
    responses={
        201: Reply("Registered", DeviceKeyOutSchema),
        200: Reply("Already registered, same key", DeviceKeyOutSchema),
    },
    problems=(400, 409, 415, 422),
    device=True,
)
@device_required
def put_device_key():
    """Register the public key that signs this device's captures: ``{spki}`` or ``{jwk}``.

    Once: the same key again is a 200; another key is a 409 (register a new device)."""
    try:
        body = _key_in.load(json_object())
    except ValidationError as err:
        raise errors.ValidationFailed(field_errors(err.messages)) from None
    key = signing.load_key(body.get("spki"), body.get("jwk"))
    stored, created = signing.register_key(g.device, key)
    return {"device_id": stored.device_id, "key_id": stored.key_id}, 201 if created else 200
