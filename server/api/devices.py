"""Device registration."""

from flask import url_for

from sync.schemas import DeviceOutSchema

from ..auth import register_device
from . import bp
from .operations import Reply, operation


@bp.post("/devices")
@operation(
    operation_id="registerDevice",
    summary="Register a device",
    responses={201: Reply("Registered", DeviceOutSchema)},
)
def create_device():
    """Register a phone: ``{device_id, token}``. The token is shown only this once."""
    device, token = register_device()
    body = {"device_id": device.id, "token": token}
    return body, 201, {"Location": url_for("api.create_device") + "/" + device.id}
