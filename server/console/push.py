"""Notifications of the console: the VAPID key, a signed-in user's push subscription,
and the console's own service worker (scope ``/console/``, apart from the PWA's at ``/``).

Subscribing is a POST of the console (session and CSRF token, form-encoded), always for
the signed-in user: nobody can subscribe on another's behalf. What is sent is only the
user's digest of new cases in their districts (:mod:`server.services.digests`).
"""

from __future__ import annotations

from pathlib import Path

from flask import jsonify, request, send_from_directory
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from sync.schemas import PushSubscriptionSchema

from ..services import push
from . import bp
from .auth import current_user

STATIC = Path(__file__).resolve().parents[1] / "static"
_schema = PushSubscriptionSchema()


@bp.route("/sw.js")
def service_worker() -> Response:
    """Public (the browser re-fetches it to update, signed in or not); no secrets in it."""
    response = send_from_directory(STATIC, "console-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/push/key")
def push_key() -> Response:
    return jsonify({"public_key": push.public_key_b64()})


@bp.route("/push/subscription", methods=["POST"])
def push_subscribe() -> tuple[Response, int]:
    user = current_user()
    assert user is not None  # the console's guard let only signed-in users through
    form = request.form
    body = {
        "endpoint": form.get("endpoint", ""),
        "keys": {"p256dh": form.get("p256dh", ""), "auth": form.get("auth", "")},
        "lang": form.get("lang") or "vi",
    }
    try:
        data = _schema.load(body)
    except ValidationError as err:
        return jsonify({"error": "validation_failed", "errors": err.messages}), 422
    if not push.endpoint_allowed(data["endpoint"]):
        return jsonify({"error": "push_endpoint_not_allowed"}), 422
    keys = data["keys"]
    try:
        created = push.subscribe_user(
            user, data["endpoint"], keys["p256dh"], keys["auth"], data["lang"]
        )
    except push.EndpointTaken:
        return jsonify({"error": "push_endpoint_not_allowed"}), 422
    return jsonify({"subscribed": True}), 201 if created else 200


@bp.route("/push/subscription/delete", methods=["POST"])
def push_unsubscribe() -> tuple[str, int]:
    user = current_user()
    assert user is not None
    push.unsubscribe_user(user, request.form.get("endpoint", ""))
    return "", 204
