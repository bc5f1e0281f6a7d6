"""Web Push in the review console, in Chromium: "Bật thông báo" (turn on notifications)
on the queue page registers the console's own service worker (scope ``/console/``, apart
from the PWA's at ``/``), subscribes, and a reviewer's digest is shown and opens the case.

As in test_push_pwa.py, the page's PushManager is faked with one of
tests/push_service.py's subscribers; the server really delivers to that push service on
loopback, and the decrypted payload is handed to the console's worker through the
DevTools protocol, as Chromium's push service would.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.models.push import PushSubscription
from server.services import accounts, digests, push
from server.settings import override
from tests.browser.pages import BROWSER, App, console_login
from tests.browser.test_push_pwa import notifications, push_phone, tap_notification, wait_until
from tests.factories import Api
from tests.test_console import DONG_DA, PASSWORD, send

pytestmark = BROWSER


def test_a_reviewer_enables_notifications_and_a_digest_opens_the_case(
    browser, rw_server, push_service
):
    app = rw_server.app
    override(
        app, PUSH_ALLOW_HTTP_LOOPBACK=True, PUSH_DELIVERY="worker", REVIEWER_DIGEST_SETTLE_SECONDS=0
    )
    with app.app_context():
        accounts.create_user("rev_a", PASSWORD, "reviewer", districts=["006"])
    svc, push_url = push_service
    context, sub = push_phone(browser, rw_server, svc, push_url, name="console-browser")
    try:
        cdp_page = context.new_page()
        App(cdp_page).open().wait_controlled()  # the PWA's worker, scope /
        cdp = context.new_cdp_session(cdp_page)
        registrations: dict[str, dict] = {}
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.update({r["scopeURL"]: r for r in e["registrations"]}),
        )
        cdp.send("ServiceWorker.enable")

        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        console_login(page, "rev_a")
        button = page.locator("#push-control button")
        button.wait_for(state="visible")
        assert button.inner_text() == "Bật thông báo"
        button.click()
        page.wait_for_function(
            "() => document.querySelector('#push-control').dataset.state === 'on'"
        )
        assert button.inner_text() == "Tắt thông báo"
        with app.app_context():
            [stored] = db.session.scalars(sa.select(PushSubscription)).all()
            uid = accounts.get_by_username("rev_a").id
            assert (stored.device_id, stored.user_id) == (None, uid)
            assert stored.endpoint == sub.subscription_json(push_url)["endpoint"]

        # Two registrations: the PWA's at / and the console's own at /console/.
        console_scope = rw_server.url + "/console/"
        wait_until(page, lambda: console_scope in registrations, 10)
        assert rw_server.url + "/" in registrations
        assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)") == console_scope

        # A new case in the reviewer's district; the worker's digest is delivered.
        citizen = Api.register(app.test_client())
        rid, _ = send(citizen.client, DONG_DA, api=citizen)
        with app.app_context():
            case_id = db.session.get(Report, rid).case_id
            assert digests.enqueue_reviewer_digests().messages == 1
            assert push.deliver_due().sent == 1
        [payload] = sub.received
        assert payload["body"] == "1 vụ việc mới ở Đống Đa"

        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": rw_server.url,
                "registrationId": registrations[console_scope]["registrationId"],
                "data": json.dumps(payload, ensure_ascii=False),
            },
        )
        wait_until(page, lambda: len(notifications(page)) == 1)
        [shown] = notifications(page)
        assert shown["title"] == "RoadWatch · Bàn xét duyệt"
        assert shown["body"] == "1 vụ việc mới ở Đống Đa"
        assert shown["tag"] == "rw-new-cases"
        assert shown["data"] == {"url": f"{rw_server.url}/console/cases/{case_id}"}

        # A tap opens the case in the open console window.
        tap_notification(context, "/console/sw.js")
        page.wait_for_url(f"**/console/cases/{case_id}")
        assert errors == []
    finally:
        context.close()
