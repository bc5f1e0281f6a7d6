"""Device registration."""

from flask import request, url_for

from sync.schemas import DeviceOutSchema

from ..auth import register_device
from ..services import rate_limits
from . import bp
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
