"""Flood limits (issue 17, "queue spam"): device registrations per client address, new
reports per address and per device, each a 429 ``rate_limited`` problem with
``Retry-After``. Retries of a stored report are never refused, and nothing of a refused
report is written. The window itself is tested with a hand-driven clock.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from server import create_app
from server.extensions import db
from server.models import Report
from server.services.errors import RateLimited
from server.services.rate_limits import SlidingWindow
from tests.conftest import _test_config
from tests.factories import Api, photo, report_body

ADDR_A = "198.51.100.7"
ADDR_B = "203.0.113.9"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_refuses_past_the_limit_and_says_how_long_to_wait() -> None:
    clock = Clock()
    window = SlidingWindow(window=60.0, clock=clock)
    for _ in range(3):
        clock.now += 5  # events at 1005, 1010, 1015
        window.hit("a", 3)
    clock.now = 1020.0
    with pytest.raises(RateLimited) as err:
        window.hit("a", 3)
    assert err.value.retry_after == 45  # the event at 1005 leaves at 1065
    window.hit("b", 3)  # another key has its own budget
    clock.now = 1065.0
    window.hit("a", 3)  # the oldest event left the window


def test_a_refused_attempt_is_not_counted() -> None:
    clock = Clock()
    window = SlidingWindow(window=60.0, clock=clock)
    window.hit("a", 1)
    for _ in range(5):
        with pytest.raises(RateLimited):
            window.hit("a", 1)
    clock.now += 60.0
    window.hit("a", 1)


def test_limit_zero_is_off() -> None:
    window = SlidingWindow(clock=Clock())
    for _ in range(1000):
        window.hit("a", 0)


@pytest.fixture
def limited_app(db_url: str, tmp_path: Path):
    config = {
        **_test_config(db_url, tmp_path),
        "RATE_LIMIT_DEVICES_PER_MINUTE": 3,
        "RATE_LIMIT_REPORTS_PER_MINUTE": 4,
        "RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE": 2,
    }
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _register(app: Flask, addr: str):
    return app.test_client().post("/api/v1/devices", environ_overrides={"REMOTE_ADDR": addr})


def _api(app: Flask, addr: str) -> Api:
    resp = _register(app, addr)
    assert resp.status_code == 201
    body = resp.get_json()
    return Api(app.test_client(), body["device_id"], body["token"])


def _put(api: Api, addr: str, report_id: str, body=None):
    return api.put_report(
        report_id,
        body or report_body([photo()]),
        environ_overrides={"REMOTE_ADDR": addr},
    )


def _assert_429(resp) -> None:
    assert resp.status_code == 429
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "rate_limited"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60


def test_device_registrations_are_limited_per_address(limited_app: Flask) -> None:
    for _ in range(3):
        assert _register(limited_app, ADDR_A).status_code == 201
    _assert_429(_register(limited_app, ADDR_A))
    assert _register(limited_app, ADDR_B).status_code == 201


def test_new_reports_are_limited_per_device_and_retries_still_answer(
    limited_app: Flask,
) -> None:
    api = _api(limited_app, ADDR_A)
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    body = report_body([photo()])
    assert _put(api, ADDR_A, first, body).status_code == 201
    assert _put(api, ADDR_A, second).status_code == 201
    refused = _put(api, ADDR_A, third)
    _assert_429(refused)
    # The retry of a stored report is a 200, whatever the limits say.
    assert _put(api, ADDR_A, first, body).status_code == 200
    with limited_app.app_context():
        stored = set(db.session.scalars(sa.select(Report.id)))
    assert stored == {first, second}  # nothing of the refused report was written
    # Another device at the same address has its own per-device budget.
    other = _api(limited_app, ADDR_A)
    assert _put(other, ADDR_A, third).status_code == 201


def test_new_reports_are_limited_per_address_across_devices(limited_app: Flask) -> None:
    phones = [_api(limited_app, ADDR_A) for _ in range(3)]
    statuses = [
        _put(phone, ADDR_A, str(uuid.uuid4())).status_code for phone in phones for _ in range(2)
    ]
    assert statuses == [201, 201, 201, 201, 429, 429]
    assert _put(phones[2], ADDR_B, str(uuid.uuid4())).status_code == 201
