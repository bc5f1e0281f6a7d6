"""Secrecy and scope, small items of issue 28: no redirect to a foreign Referer, a CSP
on every HTML page, X-Forwarded-Proto only through trusted proxies, and a push
subscription moves to another device only with its keys."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask

from server.extensions import db
from server.models import PushSubscription
from server.settings import override
from tests.factories import Api
from tests.faults.server import ServerProcess
from tests.push_service import PushService
from tests.test_console import World, build_world, session_for

# -- /console/queue/reject goes back to the queue, never elsewhere -----------------------


@pytest.fixture
def world(app: Flask, client) -> World:
    return build_world(app, client)


def _reject(c, referer: str | None):
    with c.session_transaction() as s:
        token = s.get("csrf", "")
    headers = {"Referer": referer} if referer is not None else {}
    return c.post(
        "/console/queue/reject",
        data={"case": [], "reason_code": "duplicate", "csrf_token": token},
        headers=headers,
    )


@pytest.mark.parametrize(
    ("referer", "location"),
    [
        ("https://evil.example/console/queue", "/console/queue"),
        ("//evil.example/console/queue", "/console/queue"),
        ("http://localhost/console/audit", "/console/queue"),  # not the queue
        ("javascript:alert(1)", "/console/queue"),
        (None, "/console/queue"),
        (
            "http://localhost/console/queue?district=001&page=2",
            "/console/queue?district=001&page=2",
        ),
    ],
)
def test_bulk_reject_goes_back_to_the_queue_page_it_came_from_only(
    app: Flask, world: World, referer: str | None, location: str
) -> None:
    c = session_for(app, "rev_a")
    resp = _reject(c, referer)
    assert resp.status_code == 302
    assert resp.headers["Location"] in (location, f"http://localhost{location}")


# -- every HTML page carries the CSP ------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page", "/console-nope", "/api-x/y"])
def test_the_plain_404_page_carries_the_csp(client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


# -- X-Forwarded-Proto only through trusted proxies (gunicorn too) -----------------------


@pytest.mark.parametrize(("hops", "hsts"), [("0", False), ("1", True)])
def test_x_forwarded_proto_from_loopback_is_believed_only_with_trusted_hops(
    tmp_path: Path, hops: str, hsts: bool
) -> None:
    """gunicorn trusted X-Forwarded-Proto from 127.0.0.1 by default: with no trusted
    proxy a local client could claim HTTPS (HSTS, secure cookies on plain http)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    server = ServerProcess(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'db.sqlite3'}",
            "MEDIA_ROOT": str(instance / "media"),
            "SECRET_KEY": "proxy-tests",
            "IDENTITY_KEY": Fernet.generate_key().decode(),
            "TRUSTED_PROXY_HOPS": hops,
        },
        workers=1,
    )
    port = server.start()
    try:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/console/login",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            assert ("Strict-Transport-Security" in resp.headers) is hsts
    finally:
        server.stop()


# -- moving a push subscription to another device needs its keys ------------------------


@pytest.fixture
def devices(app, client) -> tuple[Api, Api]:
    override(app, PUSH_ALLOW_HTTP_LOOPBACK=True)
    return Api.register(client), Api.register(client)


def _put(api: Api, body: dict):
    return api.client.put("/api/v1/push/subscription", json=body, headers=api.auth)


def _owner(app, endpoint: str) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(PushSubscription.device_id).where(PushSubscription.endpoint == endpoint)
        )


def test_a_known_endpoint_does_not_move_to_another_device_without_its_keys(
    app, devices, push_service: tuple[PushService, str]
) -> None:
    first, second = devices
    svc, url = push_service
    body = {**svc.subscriber("phone").subscription_json(url), "lang": "vi"}
    assert _put(first, body).status_code == 201
    endpoint = body["endpoint"]

    other_keys = {**svc.subscriber("attacker").subscription_json(url)["keys"]}
    stolen = {**body, "keys": other_keys}
    resp = _put(second, stolen)
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "push_endpoint_not_allowed"
    assert _owner(app, endpoint) == first.device_id

    # The same browser (it holds the keys) re-registered as a new device: it moves.
    assert _put(second, body).status_code == 200
    assert _owner(app, endpoint) == second.device_id
    # The owner itself may refresh its keys (the browser renewed its subscription).
    assert _put(second, {**body, "keys": other_keys}).status_code == 200
