"""Web Push in the PWA (issue #7, the browser half; PROTOCOL §3.7).

Headless Chromium on a closed network cannot reach Google's push service, so an init
script replaces ``PushManager.prototype.subscribe/getSubscription`` in the page with a
fake whose subscription is one of tests/push_service.py's subscribers: the server then
really delivers (VAPID-signed, aes128gcm-encrypted) to our push service on loopback,
which checks and decrypts it; the decrypted payload is handed to the service worker
through the DevTools protocol (``ServiceWorker.deliverPushMessage``), as Chromium's push
service would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.models.push import PushSubscription
from server.services import push
from server.services.status import set_status
from server.settings import override
from tests.browser.pages import BROWSER, App, file_payload, phone_context_options, photo
from tests.push_service import PushService, Subscriber

pytestmark = BROWSER

SUBSCRIPTION_API = "/api/v1/push/subscription"

# The page's PushManager, faked: the subscription is kept in localStorage (so a second
# app start finds it), the applicationServerKey passed is recorded for the test.
FAKE_PUSH = """(sub) => {
  if (typeof PushManager === 'undefined') return;
  const KEY = 'rw-test-push-sub';
  const make = (json) => ({
    endpoint: json.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true },
    getKey: () => null,
    toJSON: () => ({ endpoint: json.endpoint, expirationTime: null, keys: json.keys }),
    unsubscribe: async () => { localStorage.removeItem(KEY); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const bytes = new Uint8Array(options.applicationServerKey);
    const b64 = btoa(String.fromCharCode(...bytes))
      .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    const seen = { userVisibleOnly: options.userVisibleOnly, key: b64 };
    localStorage.setItem('rw-test-push-options', JSON.stringify(seen));
    localStorage.setItem(KEY, JSON.stringify(sub));
    return make(sub);
  };
  PushManager.prototype.getSubscription = async function () {
    const stored = localStorage.getItem(KEY);
    return stored ? make(JSON.parse(stored)) : null;
  };
}"""


@pytest.fixture
def push_server(rw_server):
    """The live server, allowed to deliver to our push service on loopback (by a call)."""
    override(rw_server.app, PUSH_ALLOW_HTTP_LOOPBACK=True, PUSH_DELIVERY="worker")
    return rw_server


@pytest.fixture
def push_context(browser, push_server, push_service) -> Iterator[tuple[Any, Subscriber]]:
    """A phone (browser context) as :func:`push_phone` makes it, closed after the test."""
    svc, url = push_service
    context, sub = push_phone(browser, push_server, svc, url)
    yield context, sub
    context.close()


def push_phone(browser, server, svc: PushService, url: str, name: str = "phone-1"):
    """A phone that may show notifications, with the page's PushManager faked."""
    options = phone_context_options(server.url, geolocation=True)
    options["permissions"].append("notifications")
    context = browser.new_context(**options)
    sub = svc.subscriber(name)
    script = f"({FAKE_PUSH})({json.dumps(sub.subscription_json(url))})"
    context.add_init_script(script=script)
    return context, sub


def stored_subscriptions(server) -> list[dict]:
    with server.app.app_context():
        rows = db.session.scalars(sa.select(PushSubscription).order_by(PushSubscription.id))
        return [
            {"endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth, "lang": s.lang}
            for s in rows
        ]


def wait_until(page, check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(100)


def send_first_report(app: App, seed: int) -> str:
    report_id = app.capture([file_payload("xe.jpg", photo(60_000, seed=seed))])
    app.show_reports()
    app.wait_state(report_id, "sent")
    return report_id


def offer(page):
    return page.locator("#push-offer")


def accept_offer(page, server, endpoint: str) -> None:
    offer(page).wait_for(state="visible", timeout=10_000)
    page.locator("#push-on").click()
    wait_until(page, lambda: any(s["endpoint"] == endpoint for s in stored_subscriptions(server)))


def worker_registration_id(context, page, base_url: str) -> tuple[object, str]:
    cdp = context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    wait_until(page, lambda: any(r["scopeURL"] == base_url + "/" for r in registrations), 10)
    reg = next(r for r in registrations if r["scopeURL"] == base_url + "/")
    return cdp, reg["registrationId"]


def notifications(page) -> list[dict]:
    return page.evaluate(
        """async () => (await (await navigator.serviceWorker.ready).getNotifications())
             .map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data,
                            lang: n.lang }))"""
    )


def subscribed_app(push_server, push_context, url: str, seed: int) -> tuple[Any, App]:
    """A page of the app, under its worker, whose first report (photo ``seed``) is sent
    and whose push offer was accepted: the subscription is stored."""
    context, sub = push_context
    page = context.new_page()
    app = App(page).open()
    app.wait_controlled()
    send_first_report(app, seed=seed)
    accept_offer(page, push_server, sub.subscription_json(url)["endpoint"])
    return page, app


def tap_notification(context, worker_script: str) -> None:
    """Tap the notification shown by the worker whose script URL ends with ``worker_script``.

    No DevTools command clicks a notification: ``notificationclick`` is dispatched in the
    worker with the notification the worker showed.
    """
    [worker] = [w for w in context.service_workers if w.url.endswith(worker_script)]
    worker.evaluate(
        """async () => {
            const [notification] = await self.registration.getNotifications();
            const event = new ExtendableEvent('notificationclick');
            Object.defineProperty(event, 'notification', { value: notification });
            self.dispatchEvent(event);
        }"""
    )


def test_push_shows_the_notification_and_the_new_status(
    push_server, push_service, push_context, screenshots_dir
):
    svc, url = push_service
    context, sub = push_context
    page = context.new_page()
    app = App(page).open()
    app.wait_controlled()
    page.wait_for_timeout(500)
    assert offer(page).is_hidden()  # never on first load

    report_id = send_first_report(app, seed=71)
    offer(page).wait_for(state="visible", timeout=10_000)
    assert offer(page).inner_text().startswith("Nhận thông báo khi phản ánh được xử lý?")
    page.wait_for_timeout(150)
    page.screenshot(path=str(screenshots_dir / "vi-15-push-offer.png"))

    endpoint = sub.subscription_json(url)["endpoint"]
    accept_offer(page, push_server, endpoint)
    assert offer(page).is_hidden()
    [stored] = stored_subscriptions(push_server)
    assert stored == {
        "endpoint": endpoint,
        "p256dh": sub.p256dh,
        "auth": sub.subscription_json(url)["keys"]["auth"],
        "lang": "vi",
    }
    options = page.evaluate("JSON.parse(localStorage.getItem('rw-test-push-options'))")
    with push_server.app.app_context():
        assert options == {"userVisibleOnly": True, "key": push.public_key_b64()}

    # A reviewer rejects the report; the server's worker delivers the push.
    with push_server.app.app_context():
        report = db.session.get(Report, report_id)
        set_status(report, "rejected", reason_code="plate_unreadable")
        db.session.commit()
        stats = push.deliver_due()
    assert stats.sent == 1, stats
    assert sub.rejected == []
    [payload] = sub.received  # checked (VAPID) and decrypted by our push service
    assert payload["report_id"] == report_id
    assert payload["status"] == "rejected"
    assert payload["body"] == "Không được chấp nhận: Không đọc được biển số xe"

    row = app.item(report_id)
    assert row.locator(".server[data-status=rejected]").count() == 0
    page.evaluate("window.__sameDocument = true")  # a reload would lose it
    pulls_before = push_server.traffic.count("GET", "/api/v1/changes")

    # What Chromium does when its push service hands it the message.
    cdp, registration_id = worker_registration_id(context, page, push_server.url)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": push_server.url,
            "registrationId": registration_id,
            "data": json.dumps(payload, ensure_ascii=False),
        },
    )

    wait_until(page, lambda: len(notifications(page)) == 1)
    [shown] = notifications(page)
    assert shown == {
        "title": "RoadWatch",
        "body": "Không được chấp nhận: Không đọc được biển số xe",
        "tag": report_id,
        "data": {"report_id": report_id},
        "lang": "vi",
    }
    # The worker pulled the change feed; the open list shows the status, no reload.
    row.locator(".server[data-status=rejected]").wait_for(timeout=10_000)
    assert "Không được chấp nhận" in row.inner_text()
    assert "Không đọc được biển số xe" in row.inner_text()
    assert page.evaluate("window.__sameDocument") is True
    assert push_server.traffic.count("GET", "/api/v1/changes") > pulls_before
    stored_status = app.report(report_id)["server"]
    assert stored_status["status"] == "rejected"
    assert stored_status["reason_code"] == "plate_unreadable"
    page.wait_for_timeout(150)
    page.screenshot(path=str(screenshots_dir / "vi-16-push-status.png"))

    # Tapping the notification opens the report's details in the open app.
    tap_notification(context, "/sw.js")
    page.wait_for_function(f"() => location.hash === '#report/{report_id}'")
    page.wait_for_selector(f"#detail .detail[data-report-id='{report_id}']")
    assert "Không đọc được biển số xe" in page.locator("#detail").inner_text()
    wait_until(page, lambda: notifications(page) == [])  # closed once tapped
    assert page.evaluate("window.__sameDocument") is True


def test_subscription_is_sent_again_on_every_start(push_server, push_service, push_context):
    svc, url = push_service
    context, sub = push_context
    page, _ = subscribed_app(push_server, push_context, url, seed=72)
    traffic = push_server.traffic
    assert traffic.count("PUT", SUBSCRIPTION_API) == 1
    page.close()

    # The next start: no offer (already subscribed), the subscription is PUT again.
    page = context.new_page()
    App(page).open()
    wait_until(page, lambda: traffic.count("PUT", SUBSCRIPTION_API) == 2)
    with traffic.lock:
        puts = [h for h in traffic.hits if h.method == "PUT" and h.path == SUBSCRIPTION_API]
    wait_until(page, lambda: puts[-1].status is not None)
    assert [h.status for h in puts] == [201, 200]  # new, then refreshed
    assert len(stored_subscriptions(push_server)) == 1
    page.wait_for_timeout(500)
    assert offer(page).is_hidden()

    # A message that is not JSON (not ours, or mangled) still shows something.
    cdp, registration_id = worker_registration_id(context, page, push_server.url)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": push_server.url, "registrationId": registration_id, "data": "xin chào"},
    )
    wait_until(page, lambda: len(notifications(page)) == 1)
    [shown] = notifications(page)
    assert (shown["title"], shown["body"], shown["tag"]) == (
        "RoadWatch",
        "xin chào",
        "rw-status",
    )


def test_later_is_remembered_and_the_card_speaks_english(
    push_server, push_service, push_context, screenshots_dir
):
    svc, url = push_service
    context, _ = push_context
    page = context.new_page()
    app = App(page).open("/?lang=en")
    app.wait_controlled()
    send_first_report(app, seed=73)
    offer(page).wait_for(state="visible", timeout=10_000)
    assert offer(page).inner_text().startswith("Get a notification when your report is reviewed?")
    page.wait_for_timeout(150)
    page.screenshot(path=str(screenshots_dir / "en-15-push-offer.png"))
    page.locator("#push-later").click()
    assert offer(page).is_hidden()

    page.reload()
    app.wait_ready()
    page.locator("nav.tabs a[data-tab=capture]").click()
    report_id = app.capture([file_payload("xe2.jpg", photo(60_000, seed=74))])
    app.show_reports()
    app.wait_state(report_id, "sent")
    page.wait_for_timeout(1000)
    assert offer(page).is_hidden()  # "later" holds for a week
    assert push_server.traffic.count("PUT", SUBSCRIPTION_API) == 0


def test_settings_toggle_turns_notifications_off(push_server, push_service, push_context):
    svc, url = push_service
    context, sub = push_context
    page, app = subscribed_app(push_server, push_context, url, seed=75)

    page.locator("nav.tabs a[data-tab=settings]").click()
    toggle = page.locator("#push-toggle")
    page.wait_for_function("() => document.querySelector('#push-toggle').checked")
    toggle.uncheck()
    wait_until(page, lambda: stored_subscriptions(push_server) == [])
    assert push_server.traffic.count("DELETE", SUBSCRIPTION_API) == 1
    assert page.evaluate("localStorage.getItem('rw-test-push-sub')") is None
    assert not toggle.is_checked()

    # Off means off: the next start sends nothing.
    page.reload()
    app.wait_ready()
    page.wait_for_timeout(1000)
    assert push_server.traffic.count("PUT", SUBSCRIPTION_API) == 1


def test_pushsubscriptionchange_sends_the_new_subscription(push_server, push_service, push_context):
    """Chromium does not fire `pushsubscriptionchange` on its own (and the test cannot
    make its push service rotate a subscription): the event is dispatched in the
    service worker by script, with the old and new subscriptions the browser would give."""
    svc, url = push_service
    context, sub = push_context
    page, _ = subscribed_app(push_server, push_context, url, seed=76)
    old_endpoint = sub.subscription_json(url)["endpoint"]

    fresh = svc.subscriber("phone-1-rotated").subscription_json(url)
    [worker] = [w for w in context.service_workers if w.url.endswith("/sw.js")]
    worker.evaluate(
        """([oldEndpoint, fresh]) => {
            const event = new ExtendableEvent('pushsubscriptionchange');
            const old = { endpoint: oldEndpoint };
            Object.defineProperty(event, 'oldSubscription', { value: old });
            Object.defineProperty(event, 'newSubscription', {
              value: { endpoint: fresh.endpoint, toJSON: () => fresh },
            });
            self.dispatchEvent(event);
        }""",
        [old_endpoint, fresh],
    )
    wait_until(
        page,
        lambda: [s["endpoint"] for s in stored_subscriptions(push_server)] == [fresh["endpoint"]],
    )
    [stored] = stored_subscriptions(push_server)
    assert stored["p256dh"] == fresh["keys"]["p256dh"] and stored["lang"] == "vi"
