"""Web Push: VAPID keys, subscriptions, the durable outbox, delivery and its failures.

Delivered to a push service of our own on loopback (tests/push_service.py) that
checks the VAPID JWT and decrypts every message, as a browser would.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Report, utcnow
from server.models.push import PushMessage, PushSubscription
from server.services import push
from server.services.status import set_status
from server.settings import override
from tests.factories import Api, report_body
from tests.push_service import PushService


@pytest.fixture
def api(app, client) -> Api:
    override(app, PUSH_ALLOW_HTTP_LOOPBACK=True, PUSH_DELIVERY="worker")
    return Api.register(client)


def subscribe(api: Api, svc: PushService, url: str, name: str, lang: str = "vi"):
    sub = svc.subscriber(name)
    resp = api.client.put(
        "/api/v1/push/subscription",
        json={**sub.subscription_json(url), "expirationTime": None, "lang": lang},
        headers=api.auth,
    )
    return sub, resp


def decide(app, report_id: str, status: str, reason: str | None = None, note: str | None = None):
    with app.app_context():
        set_status(db.session.get(Report, report_id), status, reason_code=reason, public_note=note)
        db.session.commit()


def deliver(app) -> push.DeliveryStats:
    with app.app_context():
        return push.deliver_due()


def messages(app) -> list[PushMessage]:
    with app.app_context():
        return list(db.session.scalars(sa.select(PushMessage).order_by(PushMessage.id)))


def make_due(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(PushMessage).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_vapid_key_is_generated_once_kept_and_served(app, client, runner):
    result = runner.invoke(args=["push", "vapid-keys"])
    assert result.exit_code == 0, result.output
    public = client.get("/api/v1/push/vapid-public-key").get_json()["public_key"]
    assert public in result.output
    assert len(public) == 87  # an uncompressed P-256 point, base64url
    again = runner.invoke(args=["push", "vapid-keys"])
    assert "kept" in again.output and public in again.output


def test_subscribe_then_resubscribe_updates_the_same_row(app, api, push_service):
    svc, url = push_service
    _, first = subscribe(api, svc, url, "phone")
    _, again = subscribe(api, svc, url, "phone", lang="en")
    assert (first.status_code, again.status_code) == (201, 200)
    with app.app_context():
        subs = db.session.scalars(sa.select(PushSubscription)).all()
    assert [(s.lang, s.device_id) for s in subs] == [("en", api.device_id)]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example.com/push/1",  # not a push service: the server must not post there
        "http://10.0.0.5/push/1",  # plain http outside loopback
        "https://fcm.googleapis.com.evil.example/x",  # suffix trick
        "https://fcm.googleapis.com:8443/x",  # a known push host on another port
        "https://fcm.googleapis.com:22/x",  # ports other than 443 are refused
    ],
)
def test_endpoints_outside_known_push_services_are_refused(api, endpoint):
    body = {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    resp = api.client.put("/api/v1/push/subscription", json=body, headers=api.auth)
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "push_endpoint_not_allowed"


def test_a_decision_is_delivered_encrypted_with_ids_and_text_in_the_users_language(
    app, api, push_service
):
    svc, url = push_service
    vi, _ = subscribe(api, svc, url, "vi-phone", "vi")
    en, _ = subscribe(api, svc, url, "en-phone", "en")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "rejected", "plate_unreadable", note="Biển số bị che")
    assert deliver(app).sent == 2
    assert svc.vapid_keys_seen == [push_public_key(app)] * 2
    [vi_msg], [en_msg] = vi.received, en.received
    assert vi_msg["report_id"] == rid and vi_msg["status"] == "rejected"
    assert vi_msg["reason_code"] == "plate_unreadable"
    assert vi_msg["body"] == "Không được chấp nhận: Không đọc được biển số xe"
    assert en_msg["body"] == "Not accepted: The plate cannot be read"
    # Only ids and a short text: never the reviewer's note or anything else of the report.
    assert "Biển số bị che" not in str(vi_msg)
    # The cursor tells the app where the feed has the change.
    feed = api.client.get("/api/v1/changes", headers=api.auth).get_json()["changes"]
    assert vi_msg["cursor"] in [c["cursor"] for c in feed]
    assert deliver(app).sent == 0  # delivered once


def test_steps_of_the_sync_itself_are_not_pushed(app, api, push_service):
    svc, url = push_service
    subscribe(api, svc, url, "phone")
    api.put_report(str(uuid.uuid4()), report_body())  # awaiting_evidence
    assert messages(app) == []


def test_message_is_written_in_the_same_transaction_as_the_change(app, api, push_service):
    svc, url = push_service
    subscribe(api, svc, url, "phone")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    with app.app_context():
        set_status(db.session.get(Report, rid), "verified")
        db.session.rollback()  # the change did not happen: neither did its message
    assert messages(app) == []
    decide(app, rid, "verified")
    assert len(messages(app)) == 1


@pytest.mark.parametrize("gone", [404, 410])
def test_a_dead_subscription_is_deleted(app, api, push_service, gone):
    svc, url = push_service
    sub, _ = subscribe(api, svc, url, "phone")
    sub.answers.append(gone)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "verified")
    assert deliver(app).gone == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0
    assert messages(app) == []


@pytest.mark.parametrize("busy", [429, 500, 503])
def test_busy_push_service_is_retried_later_then_delivered_once(app, api, push_service, busy):
    svc, url = push_service
    sub, _ = subscribe(api, svc, url, "phone")
    sub.answers.extend([busy, busy])
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "needs_info", "need_plate_photo")
    assert deliver(app).retried == 1
    [msg] = messages(app)
    assert msg.next_attempt_at > utcnow() and msg.attempts == 1 and msg.last_status == busy
    assert deliver(app).sent == 0  # not due yet: backoff
    make_due(app)
    assert deliver(app).retried == 1
    make_due(app)
    assert deliver(app).sent == 1
    assert len(sub.received) == 1
    assert sub.received[0]["body"] == "Cần bổ sung thông tin: Cần ảnh rõ biển số xe"


def test_gives_up_after_too_many_attempts_and_on_a_permanent_error(app, api, push_service):
    svc, url = push_service
    sub, _ = subscribe(api, svc, url, "phone")
    sub.answers.extend([400])
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "verified")
    assert deliver(app).dead == 1
    [msg] = messages(app)
    assert msg.dead_at is not None and msg.sent_at is None


def test_a_worker_that_died_mid_send_lets_the_message_be_retried(app, api, push_service):
    """Claimed messages carry a lease; when it runs out they are due again."""
    svc, url = push_service
    subscribe(api, svc, url, "phone")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "verified")
    with app.app_context():
        assert push._claim(10)  # claimed, then the worker "dies"
        assert push._claim(10) == []  # leased to the dead worker for now
        db.session.execute(
            sa.update(PushMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert deliver(app).sent == 1


def test_push_worker_command_delivers_once(app, api, push_service, runner):
    svc, url = push_service
    sub, _ = subscribe(api, svc, url, "phone")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    decide(app, rid, "verified")
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(sub.received) == 1


def push_public_key(app) -> str:
    with app.app_context():
        return push.public_key_b64()
