"""Web Push subscriptions: ``/api/v1/push/…``."""

from __future__ import annotations

from flask import g
from marshmallow import ValidationError

from sync.schemas import PushSubscriptionSchema, SubscribedSchema, VapidKeySchema

from ..auth import device_required
from ..problems import ApiError
from ..services import push
from . import bp
from .body import json_object
from .operations import Reply, operation

_sub_schema = PushSubscriptionSchema()


@bp.get("/push/vapid-public-key")
@operation(
    operation_id="getVapidPublicKey",
    summary="The VAPID application server key (PROTOCOL §3.7)",
    responses={200: Reply("base64url of the uncompressed P-256 public key", VapidKeySchema)},
)
def vapid_public_key():
    """The application server key the PWA passes to ``pushManager.subscribe``."""
    return {"public_key": push.public_key_b64()}


@bp.put("/push/subscription")
@operation(
    operation_id="putPushSubscription",
    summary="Store or refresh this device's push subscription",
    request=PushSubscriptionSchema,
    responses={
        201: Reply("Stored", SubscribedSchema),
        200: Reply("Refreshed (or moved to this device)", SubscribedSchema),
    },
    problems=(400, 413, 415, 422),
    device=True,
)
@device_required
def put_subscription():
    """Store the device's subscription (the PWA re-sends it on every start)."""
    try:
        data = _sub_schema.load(json_object())
    except ValidationError as err:
        raise ApiError("validation_failed", errors=err.messages) from None
    _check_endpoint(data["endpoint"])
    keys = data["keys"]
    try:
        created = push.subscribe(
            g.device, data["endpoint"], keys["p256dh"], keys["auth"], data["lang"]
        )
    except push.EndpointTaken:
        raise ApiError("push_endpoint_not_allowed") from None
    return {"subscribed": True}, 201 if created else 200


@bp.delete("/push/subscription")
@operation(
    operation_id="deletePushSubscription",
    summary="Forget a push subscription of this device",
    request={
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["endpoint"],
                # Forgetting an endpoint never stored (or "") is a no-op: any string.
                "properties": {"endpoint": {"type": "string"}},
            }
        }
    },
    responses={204: Reply("Gone")},
    problems=(400, 413, 415, 422),
    device=True,
)
@device_required
def delete_subscription():
    body = json_object()
    endpoint = body.get("endpoint")
    if not isinstance(endpoint, str):
        errors = {"endpoint": ["Missing data for required field."]}
        raise ApiError("validation_failed", errors=errors)
    push.unsubscribe(g.device, endpoint)
    return "", 204


def _check_endpoint(endpoint: str) -> None:
    if not push.endpoint_allowed(endpoint):
        raise ApiError("push_endpoint_not_allowed")
