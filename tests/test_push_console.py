"""Web Push for console users: subscriptions through the console, reviewers' digests.

End to end through a push service of our own on loopback (tests/push_service.py),
which checks the VAPID JWT and decrypts each message as a browser would. Districts:
006 Đống Đa and 001 Ba Đình (province 01, Hà Nội), 024 (province 02, Hà Giang).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Case, DigestCursor, PushMessage, PushSubscription, Report, User
from server.services import accounts, digests, push
from server.settings import override
from tests.factories import SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE, Api
from tests.push_service import PushService, Subscriber
from tests.test_console import BA_DINH, DONG_DA, HA_GIANG, PASSWORD, post, send, session_for

USERS = {  # username -> (role, districts, province)
    "rev_a": ("reviewer", ["006"], None),
    "rev_b": ("reviewer", ["001"], None),
    "sup_hn": ("supervisor", [], "01"),
    "sup_hg": ("supervisor", [], "02"),
}


@pytest.fixture
def setup(app: Flask, client: FlaskClient, push_service) -> tuple[PushService, str, Api]:
    """Console accounts, a citizen's phone, delivery by the worker, no settle time."""
    override(
        app,
        PUSH_ALLOW_HTTP_LOOPBACK=True,
        PUSH_DELIVERY="worker",
        REVIEWER_DIGEST_SETTLE_SECONDS=0,
        REVIEWER_DIGEST_MINUTES=10,
    )
    with app.app_context():
        for name, (role, districts, province) in USERS.items():
            accounts.create_user(name, PASSWORD, role, districts=districts, province=province)
    svc, url = push_service
    return svc, url, Api.register(client)


def subscribe(app: Flask, svc: PushService, url: str, username: str, lang: str = "vi"):
    """Sign ``username`` in to the console and subscribe a browser of theirs."""
    c = session_for(app, username)
    sub = svc.subscriber(f"{username}-{lang}")
    resp = post(c, "/console/push/subscription", form(sub, url, lang))
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return sub, c


def form(sub: Subscriber, url: str, lang: str = "vi") -> dict[str, str]:
    data = sub.subscription_json(url)
    return {"endpoint": data["endpoint"], **data["keys"], "lang": lang}


def run_digests(app: Flask) -> digests.DigestStats:
    with app.app_context():
        return digests.enqueue_reviewer_digests()


def deliver(app: Flask) -> push.DeliveryStats:
    with app.app_context():
        return push.deliver_due()


def digest_round(app: Flask) -> tuple[digests.DigestStats, push.DeliveryStats]:
    return run_digests(app), deliver(app)


def case_of(app: Flask, report_id: str) -> str:
    with app.app_context():
        return db.session.get(Report, report_id).case_id


def age_last_digest(app: Flask, minutes: float) -> None:
    """As if every last digest had been sent ``minutes`` earlier."""
    with app.app_context():
        for cursor in db.session.scalars(sa.select(DigestCursor)):
            if cursor.last_sent_at is not None:
                cursor.last_sent_at -= timedelta(minutes=minutes)
        db.session.commit()


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


# ---------------------------------------------------------------------- subscribing


def test_a_console_user_subscribes_through_the_console_with_its_csrf_token(app, setup):
    svc, url, citizen = setup
    sub = svc.subscriber("rev_a")
    data = form(sub, url)
    c = session_for(app, "rev_a")
    assert c.post("/console/push/subscription", data=data).status_code == 400  # no token
    forged = {**data, "csrf_token": "forged"}
    assert c.post("/console/push/subscription", data=forged).status_code == 400
    # A citizen's device token, or nobody, is not a console session.
    anonymous = app.test_client()
    assert anonymous.post("/console/push/subscription", data=data).status_code == 401
    assert (
        anonymous.post("/console/push/subscription", data=data, headers=citizen.auth).status_code
        == 401
    )
    assert post(c, "/console/push/subscription", data).status_code == 201
    assert post(c, "/console/push/subscription", {**data, "lang": "en"}).status_code == 200
    uid = user_id(app, "rev_a")
    with app.app_context():
        subs = db.session.scalars(sa.select(PushSubscription)).all()
        assert [(s.user_id, s.device_id, s.lang) for s in subs] == [(uid, None, "en")]
        assert db.session.get(DigestCursor, uid) is not None
    key = c.get("/console/push/key").get_json()["public_key"]
    with app.app_context():
        assert key == push.public_key_b64()


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("https://evil.example.com/push/1", "not a push service"),
        ("http://10.0.0.5/push/1", "plain http outside loopback"),
        ("https://fcm.googleapis.com.evil.example/x", "suffix trick"),
        ("not a url", "not a URL"),
    ],
)
def test_endpoints_outside_known_push_services_are_refused(app, setup, endpoint, why):
    c = session_for(app, "rev_a")
    data = {"endpoint": endpoint, "p256dh": "B" * 87, "auth": "A" * 22, "lang": "vi"}
    assert post(c, "/console/push/subscription", data).status_code == 422, why
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_a_device_and_a_console_user_cannot_take_each_others_subscription(app, setup):
    svc, url, citizen = setup
    phone, console = svc.subscriber("phone"), svc.subscriber("console")
    resp = citizen.client.put(
        "/api/v1/push/subscription", json=phone.subscription_json(url), headers=citizen.auth
    )
    assert resp.status_code == 201
    c = session_for(app, "rev_a")
    assert post(c, "/console/push/subscription", form(phone, url)).status_code == 422
    assert post(c, "/console/push/subscription", form(console, url)).status_code == 201
    resp = citizen.client.put(
        "/api/v1/push/subscription", json=console.subscription_json(url), headers=citizen.auth
    )
    assert resp.status_code == 422 and resp.get_json()["code"] == "push_endpoint_not_allowed"
    uid = user_id(app, "rev_a")
    with app.app_context():
        owners = {
            s.endpoint.rsplit("/", 1)[1]: (s.device_id, s.user_id)
            for s in db.session.scalars(sa.select(PushSubscription))
        }
    assert owners == {
        "phone": (citizen.device_id, None),
        "console": (None, uid),
    }


def test_another_reviewer_cannot_unsubscribe_a_reviewers_browser(app, setup):
    svc, url, _ = setup
    sub, a = subscribe(app, svc, url, "rev_a")
    b = session_for(app, "rev_b")
    endpoint = sub.subscription_json(url)["endpoint"]
    assert post(b, "/console/push/subscription/delete", {"endpoint": endpoint}).status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 1
    assert post(a, "/console/push/subscription/delete", {"endpoint": endpoint}).status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_the_browser_follows_whoever_signs_in_to_the_console(app, setup):
    """A shared computer: A's subscription moves to B when B signs in and sends it."""
    svc, url, citizen = setup
    sub, _ = subscribe(app, svc, url, "rev_a")
    b = session_for(app, "rev_b")
    assert post(b, "/console/push/subscription", form(sub, url)).status_code == 200
    send(citizen.client, DONG_DA, api=citizen)  # A's district: not B's business
    assert digest_round(app)[1].sent == 0
    send(citizen.client, BA_DINH, plate="30F-777.88", api=citizen)
    assert digest_round(app)[1].sent == 1
    assert [m["count"] for m in sub.received] == [1]


# ---------------------------------------------------------------------- digests


@pytest.mark.parametrize(
    ("lang", "body"),
    [
        ("vi", "2 vụ việc mới ở Đống Đa"),
        ("en", "2 new cases in Đống Đa"),
    ],
)
def test_new_cases_make_one_digest_for_the_districts_reviewers_only(app, setup, lang, body):
    svc, url, citizen = setup
    send(citizen.client, DONG_DA, plate="29A-999.99", minutes=-120, api=citizen)  # before
    a, _ = subscribe(app, svc, url, "rev_a", lang)
    b, _ = subscribe(app, svc, url, "rev_b")
    hg, _ = subscribe(app, svc, url, "sup_hg")
    r1, _ = send(citizen.client, DONG_DA, plate="30A-123.45", minutes=0, api=citizen)
    r2, _ = send(citizen.client, DONG_DA, plate="30A-123.45", minutes=3, api=citizen)
    r3, _ = send(citizen.client, DONG_DA, plate="29B-555.66", minutes=60, api=citizen)
    assert case_of(app, r1) == case_of(app, r2) != case_of(app, r3)  # 3 reports, 2 cases
    queued, delivered = digest_round(app)
    assert (queued.users, queued.messages, delivered.sent) == (1, 1, 1)
    [message] = a.received
    assert message["type"] == "new_cases" and message["count"] == 2
    assert message["body"] == body
    assert message["case_ids"] == [case_of(app, r1), case_of(app, r3)]
    assert message["url"] == "/console/queue"
    for secret in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE, "30A", "29B"):
        assert secret not in str(message)  # ids and a short text only
    assert b.received == [] and hg.received == []
    assert not (b.rejected or a.rejected)
    # Nothing new: nothing more, however long one waits.
    age_last_digest(app, 60)
    assert digest_round(app)[0].messages == 0
    assert len(a.received) == 1


def test_a_later_case_waits_for_the_interval_then_makes_a_new_digest(app, setup):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    send(citizen.client, DONG_DA, plate="30A-123.45", api=citizen)
    assert digest_round(app)[1].sent == 1
    later, _ = send(citizen.client, DONG_DA, plate="29B-555.66", minutes=60, api=citizen)
    assert digest_round(app)[0].messages == 0  # within REVIEWER_DIGEST_MINUTES of the last
    age_last_digest(app, 9)
    assert digest_round(app)[0].messages == 0
    age_last_digest(app, 1.5)
    assert digest_round(app)[1].sent == 1
    assert [m["count"] for m in a.received] == [1, 1]
    assert a.received[1]["case_ids"] == [case_of(app, later)]
    assert a.received[1]["url"] == f"/console/cases/{case_of(app, later)}"


@pytest.mark.parametrize(
    ("username", "count", "body"),
    [
        ("sup_hn", 2, "2 vụ việc mới ở Ba Đình, Đống Đa"),
        ("rev_a", 1, "1 vụ việc mới ở Đống Đa"),
        ("rev_b", 1, "1 vụ việc mới ở Ba Đình"),
        ("sup_hg", 1, "1 vụ việc mới ở Hà Giang"),  # Thành phố Hà Giang (024)
    ],
)
def test_a_supervisor_hears_of_every_district_of_the_province(app, setup, username, count, body):
    svc, url, citizen = setup
    sub, _ = subscribe(app, svc, url, username)
    send(citizen.client, DONG_DA, plate="30A-123.45", api=citizen)
    send(citizen.client, BA_DINH, plate="30F-777.88", api=citizen)
    send(citizen.client, HA_GIANG, plate="23A-111.22", api=citizen)
    digest_round(app)
    assert [(m["count"], m["body"]) for m in sub.received] == [(count, body)]


def test_a_case_forwarded_into_a_district_is_new_there(app, setup):
    svc, url, citizen = setup
    a, a_console = subscribe(app, svc, url, "rev_a")
    b, _ = subscribe(app, svc, url, "rev_b", "en")
    rid, _ = send(citizen.client, DONG_DA, api=citizen)
    assert digest_round(app)[1].sent == 1  # A's digest; nothing for B yet
    case_id = case_of(app, rid)
    resp = post(a_console, f"/console/cases/{case_id}/forward", {"to_district": "001"})
    assert resp.status_code == 302
    age_last_digest(app, 60)
    digest_round(app)
    assert [m["count"] for m in a.received] == [1]  # the case left A: no second digest
    assert [(m["case_ids"], m["body"]) for m in b.received] == [
        ([case_id], "1 new case in Ba Đình")
    ]


def test_the_push_service_answering_410_deletes_the_console_subscription(app, setup):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    a.answers.append(410)
    send(citizen.client, DONG_DA, api=citizen)
    queued, delivered = digest_round(app)
    assert (queued.messages, delivered.gone, delivered.sent) == (1, 1, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushMessage)) == 0
    assert a.received == []


def test_every_subscription_of_the_user_gets_the_digest_or_none_does(app, setup, monkeypatch):
    """Messages and cursor are one transaction: a failure half-way leaves no trace."""
    svc, url, citizen = setup
    laptop, _ = subscribe(app, svc, url, "rev_a", "vi")
    phone, _ = subscribe(app, svc, url, "rev_a", "en")
    send(citizen.client, DONG_DA, api=citizen)
    real = digests.payload
    calls = []

    def crash_on_second(arrived, lang):
        calls.append(lang)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(arrived, lang)

    monkeypatch.setattr(digests, "payload", crash_on_second)
    assert run_digests(app).messages == 0  # logged; the other users' digests go on
    uid = user_id(app, "rev_a")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PushMessage)) == 0
        assert db.session.get(DigestCursor, uid).last_sent_at is None
    monkeypatch.setattr(digests, "payload", real)
    assert digest_round(app)[1].sent == 2
    assert [m["body"] for m in laptop.received + phone.received] == [
        "1 vụ việc mới ở Đống Đa",
        "1 new case in Đống Đa",
    ]
    assert digest_round(app)[0].messages == 0  # once


def test_cases_younger_than_the_settle_time_wait_for_the_next_round(app, setup):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    override(app, REVIEWER_DIGEST_SETTLE_SECONDS=60)
    rid, _ = send(citizen.client, DONG_DA, api=citizen)
    assert run_digests(app).messages == 0
    case_id, uid = case_of(app, rid), user_id(app, "rev_a")
    with app.app_context():  # as if the case had been opened (with its photo) 2 minutes ago
        case = db.session.get(Case, case_id)
        case.created_at -= timedelta(minutes=2)
        case.evidence_at -= timedelta(minutes=2)  # a case is new when it holds evidence
        cursor = db.session.get(DigestCursor, uid)
        cursor.watermark -= timedelta(minutes=3)  # subscribed before that
        db.session.commit()
    assert digest_round(app)[1].sent == 1
    assert a.received[0]["case_ids"] == [case_id]


def test_a_deactivated_user_gets_no_digest(app, setup):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    with app.app_context():
        accounts.deactivate("rev_a")
    send(citizen.client, DONG_DA, api=citizen)
    assert digest_round(app)[0].messages == 0 and a.received == []


# ---------------------------------------------------------------------- running it


def test_digest_command_and_worker_send_once(app, setup, runner):
    svc, url, citizen = setup
    a, _ = subscribe(app, svc, url, "rev_a")
    send(citizen.client, DONG_DA, api=citizen)
    result = runner.invoke(args=["push", "digest"])
    assert result.exit_code == 0, result.output
    assert "digests queued: 1 messages for 1 users" in result.output
    result = runner.invoke(args=["push-worker", "--once"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    send(citizen.client, DONG_DA, plate="29B-555.66", minutes=60, api=citizen)
    age_last_digest(app, 60)
    result = runner.invoke(args=["push-worker", "--once"])  # the worker queues digests too
    assert "digests queued: 1 messages" in result.output and "sent 1" in result.output
    assert [m["count"] for m in a.received] == [1, 1]


def test_in_development_a_write_request_runs_the_digest_inline(app, setup):
    svc, url, citizen = setup
    override(app, PUSH_DELIVERY="inline")
    a, _ = subscribe(app, svc, url, "rev_a")
    rid, photo = send(citizen.client, DONG_DA, api=citizen, upload=False)
    assert a.received == []  # a report without evidence is no news (issue 17.3)
    app.extensions.pop("roadwatch.inline_digest_at", None)  # the PUT report ran one
    assert citizen.put_media(rid, photo).status_code == 201  # its photo: the digest, delivered
    assert [m["count"] for m in a.received] == [1]


# ---------------------------------------------------------------------- the page


def test_the_console_service_worker_is_public_and_handles_push_and_clicks(app, client):
    resp = client.get("/console/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Cache-Control"] == "no-cache"
    source = resp.get_data(as_text=True)
    for handler in ("'push'", "'notificationclick'", "showNotification", "openWindow"):
        assert handler in source
    assert "'fetch'" not in source  # the console is never served from a cache


def test_the_queue_page_offers_notifications(app, setup):
    page = session_for(app, "rev_a").get("/console/queue").get_data(as_text=True)
    assert ">Bật thông báo</button>" in page
    assert 'data-sw="/console/sw.js"' in page and 'data-scope="/console/"' in page
    assert "console-push.js" in page
