"""sync/PROTOCOL.md stays true: every problem code the server can answer is documented."""

from pathlib import Path

from server.problems import MESSAGES
from sync.content_types import ACCEPTED_CONTENT_TYPES

DOC = (Path(__file__).resolve().parents[1] / "sync" / "PROTOCOL.md").read_text()


def test_every_problem_code_is_documented_with_what_a_client_does():
    missing = [code for code in MESSAGES if f"`{code}`" not in DOC]
    assert missing == []


def test_every_problem_has_a_vietnamese_and_an_english_message():
    for code, (status, vi, en) in MESSAGES.items():
        assert 400 <= status < 600, code
        assert vi and en and vi != en, code


def test_the_accepted_content_types_are_the_documented_ones():
    line = DOC.split("`content_type` one of", 1)[1].split("(`sync/content_types.py`)", 1)[0]
    documented = tuple(t.strip() for t in " ".join(line.split()).split(","))
    assert documented == ACCEPTED_CONTENT_TYPES
