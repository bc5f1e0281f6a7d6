"""Words on the console's pages (issue 26, item 6): walking every page a reviewer and an
admin read, in Vietnamese, the text on screen holds no raw code, internal id or machine
format: no snake_case code, no UUID, no ISO date, no "KiB", no MIME type; dates are
dd/mm/yyyy HH:MM. (Attributes, links and form values may hold codes: they are not read.)
"""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_console import World, build_world, post, session_for

RAW = {
    "snake_case code": re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),
    "UUID or long id": re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"),
    "ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "ISO week": re.compile(r"\b\d{4}-W\d{2}\b"),
    "KiB": re.compile(r"\bKiB\b"),
    "MIME type": re.compile(r"\b(?:image|video)/[a-z0-9.+-]+\b"),
}
USERNAMES = ("rev_a", "rev_b", "sup_hn", "sup_hg")
DATE = re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b")


class _Text(HTMLParser):
    """The text a person reads: no script, style or <template>, no attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def raw_codes(text: str) -> dict[str, list[str]]:
    found = {name: sorted(set(p.findall(text))) for name, p in RAW.items()}
    return {name: hits for name, hits in found.items() if hits}


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    w = build_world(app, client)
    rev = session_for(app, "rev_a")
    post(
        rev,
        f"/console/cases/{w.cases['A3']}/decide",
        {"kind": "needs_info", "reason_code": "need_video", "public_note": "Cần video"},
    )
    w.citizen.client.put(
        f"/api/v1/reports/{w.reports['a3']}/answers/{uuid.uuid4()}",
        json={"text": "Xe vẫn đỗ ở đó"},
        headers=w.citizen.auth,
    )
    post(rev, f"/console/cases/{w.cases['A']}/decide", {"kind": "verify", "confirm_count": "2"})
    return w


def test_every_console_page_speaks_words_not_codes(app: Flask, world: World) -> None:
    pages = {
        "rev_a": [
            "/console/queue",
            "/console/queue?state=all",
            f"/console/cases/{world.cases['A']}",
            f"/console/cases/{world.cases['A3']}",
            "/console/stats",
        ],
        "admin": ["/console/audit", "/console/reveals"],
    }
    problems = {}
    for user, paths in pages.items():
        c = session_for(app, user)
        for path in paths:
            resp = c.get(path)
            assert resp.status_code == 200, path
            text = visible(resp.get_data(as_text=True))
            for name in USERNAMES:  # login names are the people's own words for themselves
                text = text.replace(name, "")
            found = raw_codes(text)
            if found:
                problems[path] = found
    assert problems == {}


def test_the_case_page_writes_dates_one_way(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    text = visible(c.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True))
    assert DATE.search(text)  # "Mở lúc 20/11/2026 08:00", the answer's time ...
    assert not re.search(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b", text)
