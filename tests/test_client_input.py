"""What a client can send never gets a 500 (issue 28): a raw 0xFF byte in the query
string on every route, years 0001 and 9999 in the statistics' period."""

from __future__ import annotations

import re
import uuid

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.test_console import session_for
from tests.test_stats import build_fixture

# A query string as a WSGI server hands it over: bytes as latin-1 code points.
RAW_FF = b"lang=\xff&from=\xff".decode("latin-1")


def _path(rule: str) -> str:
    """A concrete path for a URL rule: each variable filled with something plausible."""

    def fill(m: re.Match[str]) -> str:
        name = m.group(1).split(":")[-1]
        return "json" if name == "fmt" else str(uuid.uuid4())

    return re.sub(r"<([^>]+)>", fill, rule)


def _send(app: Flask, method: str, path: str, query: str, cookie: str | None = None):
    env = EnvironBuilder(path=path, method=method).get_environ()
    env["QUERY_STRING"] = query
    if cookie:
        env["HTTP_COOKIE"] = cookie
    _body, status, headers = run_wsgi_app(app, env, buffered=True)
    return int(status.split()[0]), headers


def test_a_raw_0xff_in_the_query_string_is_a_400_on_every_route(app: Flask) -> None:
    routes = [
        (method, _path(rule.rule))
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) > 50
    answers = {(m, p): _send(app, m, p, RAW_FF)[0] for m, p in routes}
    assert {k: v for k, v in answers.items() if v != 400} == {}


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/console/login", "text/html"),
        ("/open311/v2/services.json", "application/problem+json"),
        ("/open311/v2/requests.json", "application/problem+json"),
        ("/api/v1/changes", "application/problem+json"),
    ],
)
def test_the_400_for_a_bad_query_string_is_the_routes_own_error_page(
    app: Flask, path: str, mimetype: str
) -> None:
    status, headers = _send(app, "GET", path, RAW_FF)
    assert status == 400
    assert headers["Content-Type"].startswith(mimetype)
    if mimetype == "text/html":
        assert "Content-Security-Policy" in headers


def test_a_query_string_of_utf8_text_still_works(app: Flask) -> None:
    query = "lang=en&q=%C4%90%E1%BB%91ng+%C4%90a&raw=Đống".encode().decode("latin-1")
    assert _send(app, "GET", "/console/login", query)[0] == 200


STATS = [
    "/console/stats",
    "/console/stats/review.xlsx",
    "/console/stats/cases.csv",
    "/console/stats/hotspots",
]


OUT_OF_RANGE = [
    "from=0001-01-01&to=0001-12-31",
    "from=0001-01-01&to=0001-01-01",
    "from=9999-01-01&to=9999-12-31",
    "from=9999-12-31&to=9999-12-31",
    "from=1999-12-31&to=2000-01-31",
    "from=2100-12-01&to=2101-01-01",
]


@pytest.mark.parametrize("path", STATS)
def test_statistics_for_years_out_of_range_are_a_400_page(app: Flask, path: str):
    build_fixture(app)
    c = session_for(app, "sup_01")
    for query in OUT_OF_RANGE:
        resp = c.get(f"{path}?{query}")
        assert resp.status_code == 400, query
        assert "text/html" in resp.content_type  # the console's error page


@pytest.mark.parametrize("path", STATS)
def test_statistics_at_the_edges_of_the_range_answer(app: Flask, path: str):
    build_fixture(app)
    c = session_for(app, "sup_01")
    for query in ("from=2000-01-01&to=2000-03-31", "from=2100-10-01&to=2100-12-31"):
        assert c.get(f"{path}?{query}").status_code == 200, query
