"""Device registration."""

from flask import url_for

from sync.schemas import DeviceOutSchema

from ..auth import register_device
from . import bp

_device_out = DeviceOutSchema()


@bp.post("/devices")
def create_device():
    """Register a phone: ``{device_id, token}``. The token is shown only this once."""
    device, token = register_device()
    body = _device_out.dump({"device_id": device.id, "token": token})
    return body, 201, {"Location": url_for("api.create_device") + "/" + device.id}
