"""The PWA accepts exactly the media content types the server accepts: the list in
``pwa/js/content-types.js`` equals ``sync.content_types.ACCEPTED_CONTENT_TYPES``.

No browser: the JavaScript array literal is read as text. It must stay a plain list of
string literals (that is all this parser takes), so a change to either side that is not
made to the other fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.content_types import ACCEPTED_CONTENT_TYPES

JS_FILE = Path(__file__).resolve().parents[1] / "pwa" / "js" / "content-types.js"
DECLARATION = re.compile(
    r"export\s+const\s+ACCEPTED_CONTENT_TYPES\s*=\s*(?:Object\.freeze\(\s*)?\[(?P<body>[^\]]*)\]"
)
STRING = re.compile(r"""\s*(?:'(?P<single>[^'\\\n]*)'|"(?P<double>[^"\\\n]*)")\s*(?:,|$)""")


def js_list(source: str) -> tuple[str, ...]:
    """The strings of the one ACCEPTED_CONTENT_TYPES array literal in ``source``."""
    found = DECLARATION.findall(source)
    if len(found) != 1:
        raise ValueError(f"expected one ACCEPTED_CONTENT_TYPES array, found {len(found)}")
    body = re.sub(r"//[^\n]*", "", found[0]).strip()
    items: list[str] = []
    pos = 0
    while pos < len(body):
        match = STRING.match(body, pos)
        if not match or match.end() == pos:
            raise ValueError(f"not a string literal at {body[pos : pos + 30]!r}")
        items.append(match["single"] if match["single"] is not None else match["double"])
        pos = match.end()
    return tuple(items)


def test_js_list_equals_the_python_list() -> None:
    assert js_list(JS_FILE.read_text("utf-8")) == ACCEPTED_CONTENT_TYPES


def test_the_list_has_no_duplicates() -> None:
    assert len(set(ACCEPTED_CONTENT_TYPES)) == len(ACCEPTED_CONTENT_TYPES)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("export const ACCEPTED_CONTENT_TYPES = ['a/b', \"c/d\"];", ("a/b", "c/d")),
        (
            "export const ACCEPTED_CONTENT_TYPES = Object.freeze([\n  'a/b', // one\n  'c/d',\n]);",
            ("a/b", "c/d"),
        ),
    ],
)
def test_the_parser_reads_plain_lists(source: str, expected: tuple[str, ...]) -> None:
    assert js_list(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "export const OTHER = ['a/b'];",
        "export const ACCEPTED_CONTENT_TYPES = ['a/b', EXTRA];",
        "export const ACCEPTED_CONTENT_TYPES = ['a/b', ...more];",
    ],
)
def test_the_parser_refuses_what_it_cannot_compare(source: str) -> None:
    with pytest.raises(ValueError):
        js_list(source)
