"""The dash-cam client run as a command (issue 17, item 10): when the run cannot go on
it prints one line on stderr (no traceback) saying what happened and that the files stay
queued, exits with the documented status, and the outbox still holds every file.

Servers: a closed port, a stub that refuses (403) or rate-limits (429) everything, and
the real server with a storage quota too small for one photo (507).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from server import create_app
from sync.client import Outbox
from sync.client.__main__ import FULL, RATE_LIMITED, REFUSED, RETRY_LATER
from sync.client.http import NeedsAttention, RetryLater, raise_for
from tests.conftest import _test_config
from tests.live import serve
from tests.test_sync_client import dashcam_folder

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[1]
N = 2  # files in the folder


def run_client(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "sync.client", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )


def push(folder: Path, server: str, outbox: Path, *extra: str):
    return run_client(
        "push", str(folder), "--server", server, "--outbox", str(outbox),
        "--violation", "RED_LIGHT", "--max-attempts", "1", *extra,
    )  # fmt: skip


def assert_one_line_and_queued(proc, status: int, words: tuple[str, ...], outbox: Path) -> None:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in (*words, "stay queued for the next run"):
        assert word in lines[0], lines[0]
    assert proc.returncode == status, output
    states = [r["state"] for r in Outbox(outbox).reports()]
    assert len(states) == N and all(s in ("saved", "registering", "uploading") for s in states)
    assert len(Outbox(outbox).reports(("sent", "attention"))) == 0


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there now


def test_no_server_at_registration(tmp_path: Path) -> None:
    outbox = tmp_path / "o.sqlite3"
    proc = push(dashcam_folder(tmp_path, N), closed_port(), outbox)
    assert_one_line_and_queued(proc, RETRY_LATER, ("server unreachable",), outbox)
    again = push(tmp_path / "dashcam", closed_port(), outbox)  # a rerun queues nothing twice
    assert_one_line_and_queued(again, RETRY_LATER, ("server unreachable",), outbox)


@SQLITE
def test_server_gone_after_registration(app, live_server: str, tmp_path: Path) -> None:
    """Registered on an earlier run; now the server is away: backoff, then one line."""
    outbox = tmp_path / "o.sqlite3"
    Outbox(outbox).set("token", "a-token-from-an-earlier-run")
    Outbox(outbox).set("device_id", "00000000-0000-4000-8000-000000000000")
    Outbox(outbox).set("key_device_id", "00000000-0000-4000-8000-000000000000")
    proc = push(dashcam_folder(tmp_path, N), closed_port(), outbox)
    assert_one_line_and_queued(proc, RETRY_LATER, ("server unreachable",), outbox)


class Stub(BaseHTTPRequestHandler):
    """Answers every request with one status and a problem+json body."""

    status = 403
    code = "forbidden"
    headers_out: dict[str, str] = {}

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"status": self.status, "code": self.code}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in self.headers_out.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_HEAD = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


def stub(status: int, code: str, **headers: str) -> Iterator[str]:
    handler = type("H", (Stub,), {"status": status, "code": code, "headers_out": headers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def refusing() -> Iterator[str]:
    yield from stub(403, "forbidden")


@pytest.fixture
def rate_limiting() -> Iterator[str]:
    yield from stub(429, "rate_limited", **{"Retry-After": "60"})


def test_registration_refused(refusing: str, tmp_path: Path) -> None:
    outbox = tmp_path / "o.sqlite3"
    proc = push(dashcam_folder(tmp_path, N), refusing, outbox)
    assert_one_line_and_queued(proc, REFUSED, ("registration refused", "403"), outbox)


def test_rate_limited(rate_limiting: str, tmp_path: Path) -> None:
    outbox = tmp_path / "o.sqlite3"
    proc = push(dashcam_folder(tmp_path, N), rate_limiting, outbox)
    assert_one_line_and_queued(proc, RATE_LIMITED, ("rate-limited", "retry after 60s"), outbox)


@SQLITE
def test_login_refused(app, live_server: str, tmp_path: Path) -> None:
    from server.services import accounts

    with app.app_context():
        accounts.create_user("tuan", "mật khẩu đủ dài", "officer", display_name="Tuần")
    outbox = tmp_path / "o.sqlite3"
    env_password = {"RW_PASSWORD": "wrong password"}
    os.environ.update(env_password)
    try:
        proc = run_client(
            "login", "--server", live_server, "--outbox", str(outbox), "--username", "tuan"
        )
    finally:
        os.environ.pop("RW_PASSWORD", None)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "login refused by the server: 401 invalid_credentials"
    ]
    assert proc.returncode == REFUSED
    assert Outbox(outbox).get("username") is None


@SQLITE
def test_full_server(db_url: str, tmp_path: Path) -> None:
    """A storage quota smaller than one photo: the upload gets 507, the run stops."""
    full = create_app({**_test_config(db_url, tmp_path), "MEDIA_QUOTA_BYTES": 1000})
    outbox = tmp_path / "o.sqlite3"
    with serve(full) as url:
        proc = push(dashcam_folder(tmp_path, N), url, outbox)
    assert_one_line_and_queued(proc, FULL, ("server full", "507"), outbox)


class _Resp(requests.Response):
    def __init__(self, status: int, code: str) -> None:
        super().__init__()
        self.status_code = status
        self._content = json.dumps({"code": code}).encode()
        self.headers["Content-Type"] = "application/problem+json"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "upload_incomplete", "incomplete"),  # the server stopped waiting: resume
        (507, "storage_full", "full"),
        (429, "rate_limited", "rate_limited"),
        (503, "not_ready", "server"),
        (400, "bad_request", None),  # attention: retrying the same bytes cannot help
        (413, "too_large", None),  # the file is over the server's limit: attention
    ],
)
def test_answers_are_classified(status: int, code: str, kind: str | None) -> None:
    if kind is None:
        with pytest.raises(NeedsAttention):
            raise_for(_Resp(status, code))
    else:
        with pytest.raises(RetryLater) as caught:
            raise_for(_Resp(status, code))
        assert caught.value.kind == kind
