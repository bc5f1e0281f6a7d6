"""Content-Security-Policy on every console page and on the PWA's shell, pages whose
HTML carries no inline script, handler, ``javascript:`` URL or inline style, and HSTS
only when the request came over HTTPS (directly or through a trusted proxy).

Issue 17, item 6. The browser side (nothing the policy blocks is needed) is
tests/browser/test_csp.py.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import create_app
from server.security_headers import HSTS, tile_source
from tests.test_console import World, build_world, session_for


class InlineCode(HTMLParser):
    """Everything in a page that a strict CSP (script-src/style-src 'self') would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_data_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k.lower(): (v or "") for k, v in attrs}
        for name, value in named.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            kind = named.get("type", "").lower()
            if kind == "application/json":
                self._in_data_script = True  # data, read with JSON.parse; CSP allows it
            elif "src" not in named:
                self.found.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def test_the_checker_finds_what_it_looks_for() -> None:
    """The HTML check itself: each kind of inline code is caught; data blocks are not."""
    assert inline_code('<script>alert(1)</script><button onclick="x()">b</button>') == [
        "inline <script>",
        "<button onclick=...>",
    ]
    assert inline_code('<a href=" JavaScript:void(0)">x</a><p style="color:red">') == [
        "<a href=javascript:>",
        "<p style=...>",
    ]
    assert inline_code('<script type="application/json">{"a":1}</script>') == []
    assert inline_code('<script src="/console/static/console.js"></script>') == []


# page -> (user or None, path builder)
CONSOLE_PAGES: dict[str, tuple[str | None, Callable[[World], str]]] = {
    "login": (None, lambda w: "/console/login"),
    "queue": ("rev_a", lambda w: "/console/queue"),
    "case": ("rev_a", lambda w: f"/console/cases/{w.cases['A']}"),
    "case-other-language": ("rev_a", lambda w: f"/console/cases/{w.cases['A']}?lang=en"),
    "reveal": ("sup_hn", lambda w: f"/console/reports/{w.reports['a1']}/reveal"),
    "reveals": ("sup_hn", lambda w: "/console/reveals"),
    "audit": ("admin", lambda w: "/console/audit"),
    "stats": ("sup_hn", lambda w: "/console/stats?preset=9m&year=2026"),
    "hotspots": ("sup_hn", lambda w: "/console/stats/hotspots?preset=year&year=2026"),
    "accidents": ("sup_hn", lambda w: "/console/stats/accidents"),
    "error-404": ("rev_a", lambda w: "/console/cases/00000000-0000-0000-0000-000000000000"),
}


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


@pytest.mark.parametrize("page", sorted(CONSOLE_PAGES))
def test_console_page_has_a_strict_csp_and_no_inline_code(
    app: Flask, world: World, page: str
) -> None:
    user, path = CONSOLE_PAGES[page]
    c = session_for(app, user) if user else app.test_client()
    resp = c.get(path(world))
    assert resp.status_code == (404 if page.startswith("error") else 200), page
    assert resp.mimetype == "text/html"
    policy = directives(resp.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]  # no tile server configured
    assert "Strict-Transport-Security" not in resp.headers  # plain http
    assert inline_code(resp.get_data(as_text=True)) == [], page


@pytest.mark.parametrize("path", ["/", "/index.html"])
def test_pwa_shell_has_a_csp_and_no_inline_code(client: FlaskClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    policy = directives(resp.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]  # hash-wasm
    assert policy["connect-src"] == ["'self'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["style-src"] == ["'self'"]
    assert inline_code(resp.get_data(as_text=True)) == []


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.vn/{z}/{x}/{y}.png", "https://tiles.example.vn"),
        ("https://tiles.example.vn:8443/t/{z}/{x}/{y}.png", "https://tiles.example.vn:8443"),
        ("/tiles/{z}/{x}/{y}.png", None),  # same origin: 'self'
        ("", None),
        ("javascript:alert(1)", None),
        ("https://a.{s}.example.vn/{z}.png", None),  # not writable in CSP: left out
    ],
)
def test_tile_host_as_a_csp_source(url: str, source: str | None) -> None:
    assert tile_source(url) == source


def test_configured_tile_host_may_serve_images(tmp_path, db_url: str) -> None:
    tiled = _app_with(db_url, tmp_path, MAP_TILE_URL="https://{s}.tile.example.vn/{z}/{x}/{y}.png")
    for path in ("/console/login", "/"):
        policy = directives(tiled.test_client().get(path).headers["Content-Security-Policy"])
        assert policy["img-src"] == ["'self'", "data:", "blob:", "https://*.tile.example.vn"], path
        assert policy["connect-src"] == ["'self'"]


def _app_with(db_url: str, tmp_path, **extra: object) -> Flask:
    from tests.conftest import _test_config

    return create_app({**_test_config(db_url, tmp_path), **extra})


@pytest.mark.parametrize(
    ("hops", "base_url", "forwarded_proto", "hsts"),
    [
        (0, "http://rw.test", None, False),  # plain http
        (0, "https://rw.test", None, True),  # TLS straight to the server
        (0, "http://rw.test", "https", False),  # a client's claim, no trusted proxy
        (1, "http://rw.test", "https", True),  # the trusted proxy terminated TLS
        (1, "http://rw.test", "http", False),  # the trusted proxy says plain http
    ],
)
@pytest.mark.parametrize("path", ["/console/login", "/", "/api/v1/violations", "/healthz"])
def test_hsts_only_over_https(
    db_url: str, tmp_path, hops: int, base_url: str, forwarded_proto, hsts: bool, path: str
) -> None:
    app = _app_with(db_url, tmp_path, TRUSTED_PROXY_HOPS=hops)
    headers = {"X-Forwarded-Proto": forwarded_proto, "X-Forwarded-For": "203.0.113.9"}
    resp = app.test_client().get(
        path, base_url=base_url, headers={k: v for k, v in headers.items() if v}
    )
    assert resp.status_code < 500
    assert resp.headers.get("Strict-Transport-Security") == (HSTS if hsts else None)
