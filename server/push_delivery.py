"""Web Push without a worker (``PUSH_DELIVERY=inline``, development): after a request.

After each request, the push messages it queued are delivered right away; after a
successful write, the reviewers' digests that are due are queued too (at most every
:data:`server.services.digests.INLINE_DIGEST_SECONDS` per process). In production
(``PUSH_DELIVERY=worker``) ``flask --app wsgi push-worker`` does both.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

from .extensions import db
from .services import digests, push
from .settings import current_settings

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Deliver inline after every request of ``app`` (when the settings say so)."""
    app.after_request(deliver_after_request)


def deliver_after_request(response: Response) -> Response:
    """Deliver what this request queued; delivery problems never fail the request (the
    messages stay in the outbox, and the next round retries them)."""
    pending = g.pop("push_pending", False)
    if current_settings().push_delivery != "inline":
        return response
    try:
        if request.method in WRITE_METHODS and response.status_code < 400:
            pending = digests.run_inline_if_due(current_app._get_current_object()) or pending
        if pending:
            push.deliver_due()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("inline push delivery failed")
    return response
