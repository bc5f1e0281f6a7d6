"""HTTP caching and language headers (issue 17, item 9): ``Vary: Accept-Language`` on
every problem+json (its title follows the language), ``Vary: Cookie`` on console pages
(their language and user come from cookies), and ``no-store`` on every private read: a
device's report, the change feed, an upload's HEAD, console pages, evidence downloads.

(The catalogue's ETag and 304 are tested in tests/test_violations_synonyms.py.)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import Api, photo
from tests.test_console import World, build_world, session_for
from tests.test_tus import Tus, declare


def _cache_control(resp) -> set[str]:
    return {part.strip() for part in resp.headers.get("Cache-Control", "").split(",") if part}


# name -> request made by a registered device's Api
PROBLEMS: dict[str, Callable[[Api], object]] = {
    "unknown report (404)": lambda api: api.get_report("00000000-0000-4000-8000-000000000000"),
    "not a uuid (400)": lambda api: api.get_report("nope"),
    "no token (401)": lambda api: api.client.get("/api/v1/changes"),
    "bad json (400)": lambda api: api.client.put(
        "/api/v1/reports/00000000-0000-4000-8000-000000000001",
        data=b"{not json",
        headers={**api.auth, "Content-Type": "application/json"},
    ),
    "unknown path (404)": lambda api: api.client.get("/api/v1/nothing-here"),
}


@pytest.mark.parametrize("case", sorted(PROBLEMS))
def test_problem_json_varies_on_accept_language(client: FlaskClient, case: str) -> None:
    api = Api.register(client)
    resp = PROBLEMS[case](api)
    assert resp.mimetype == "application/problem+json", resp.status_code
    assert "accept-language" in {v.strip().lower() for v in resp.headers["Vary"].split(",")}


def test_problem_title_follows_accept_language(client: FlaskClient) -> None:
    """What the Vary header stands for: the same URL, two bodies."""
    path = "/api/v1/nothing-here"
    vi = client.get(path, headers={"Accept-Language": "vi"})
    en = client.get(path, headers={"Accept-Language": "en"})
    assert vi.get_json()["title"] != en.get_json()["title"]
    assert {vi.headers["Content-Language"], en.headers["Content-Language"]} == {"vi", "en"}


def test_a_devices_report_is_private_and_not_stored(client: FlaskClient) -> None:
    api = Api.register(client)
    rid = declare(api, photo())
    resp = api.get_report(rid)
    assert resp.status_code == 200
    assert {"private", "no-store"} <= _cache_control(resp)


def test_change_feed_is_not_stored(client: FlaskClient) -> None:
    api = Api.register(client)
    resp = api.client.get("/api/v1/changes", headers=api.auth)
    assert resp.status_code == 200
    assert "no-store" in _cache_control(resp)


def test_upload_head_is_not_stored(client: FlaskClient) -> None:
    api = Api.register(client)
    media = photo()
    rid = declare(api, media)
    tus = Tus(api)
    created = tus.create(rid, media)
    assert created.status_code == 201
    resp = tus.head(created.headers["Location"])
    assert resp.status_code in (200, 204)
    assert "no-store" in _cache_control(resp)


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


@pytest.mark.parametrize(
    ("what", "path", "html"),
    [
        ("queue", lambda w: "/console/queue", True),
        ("case", lambda w: f"/console/cases/{w.cases['A']}", True),
        ("evidence", lambda w: f"/console/media/{w.media['a1']}", False),
    ],
)
def test_console_reads_are_private_and_not_stored(
    app: Flask, world: World, what: str, path, html: bool
) -> None:
    resp = session_for(app, "rev_a").get(path(world))
    assert resp.status_code == 200, what
    assert "no-store" in _cache_control(resp), what
    if html:
        assert "cookie" in {v.strip().lower() for v in resp.headers["Vary"].split(",")}
    else:
        assert "private" in _cache_control(resp)
