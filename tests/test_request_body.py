"""Request bodies read straight from gunicorn's socket (server/request_body.py).

gunicorn's real parser runs over a socket pair: the body must come out byte for byte,
whatever gunicorn had buffered, and the connection must then carry the next request.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gunicorn
import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.http.parser import RequestParser

from server.request_body import GunicornSocketBody, StreamBody, request_body
from server.storage import IncompleteBody

NEXT = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"


def _head(length: int) -> bytes:
    return (
        b"PATCH /api/v1/uploads/x HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/offset+octet-stream\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n"
    )


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    server.settimeout(10)  # a changed gunicorn that waits for more fails, not hangs
    yield server, client
    server.close()
    client.close()


def _send(sock: socket.socket, data: bytes, close: bool = False) -> threading.Thread:
    def run() -> None:
        sock.sendall(data)
        if close:
            sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _read_all(body: GunicornSocketBody | StreamBody, piece: int = 1 << 20) -> bytes:
    buf = memoryview(bytearray(piece))
    out = bytearray()
    while n := body.readinto(buf):
        out += buf[:n]
    return bytes(out)


def _environ(req, sock: socket.socket) -> dict:
    return {"wsgi.input": req.body, "gunicorn.socket": sock}


@pytest.mark.parametrize("size", [0, 1, 5000, 3_000_001])
@pytest.mark.parametrize("piece", [7, 1 << 20])
def test_body_then_next_request_on_the_same_connection(pair, size: int, piece: int) -> None:
    server, client = pair
    payload = os.urandom(size)
    sender = _send(client, _head(size) + payload + NEXT)
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    req = next(parser)
    body = request_body(_environ(req, server), req.body)
    assert isinstance(body, GunicornSocketBody)
    assert _read_all(body, piece) == payload
    assert body.readinto(memoryview(bytearray(10))) == 0
    assert req.body.read() == b""  # gunicorn sees the body consumed
    nxt = next(parser)  # keep-alive: the pipelined request is intact
    assert nxt.method == "GET" and nxt.path == "/next"
    sender.join()


def test_bytes_gunicorn_read_ahead_come_first(pair) -> None:
    server, client = pair
    payload = os.urandom(200_000)
    sender = _send(client, _head(len(payload)) + payload + NEXT)
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    req = next(parser)
    start = req.body.read(10)  # read through wsgi.input first: gunicorn buffers more
    body = request_body(_environ(req, server), req.body)
    assert start + _read_all(body) == payload
    assert next(parser).path == "/next"
    sender.join()


def test_cut_raises_after_delivering_what_arrived(pair) -> None:
    server, client = pair
    payload = os.urandom(100_000)
    _send(client, _head(1_000_000) + payload, close=True).join()
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    req = next(parser)
    body = request_body(_environ(req, server), req.body)
    buf = memoryview(bytearray(1 << 20))
    got = bytearray()
    with pytest.raises(IncompleteBody):
        while True:
            n = body.readinto(buf)
            assert n, "the body ended short of its Content-Length without IncompleteBody"
            got += buf[:n]
    assert bytes(got) == payload


def test_chunked_and_other_servers_read_wsgi_input(pair) -> None:
    server, client = pair
    head = b"PATCH /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    sender = _send(client, head + b"5\r\nhello\r\n0\r\n\r\n" + NEXT)
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    req = next(parser)
    body = request_body(_environ(req, server), req.body)
    assert isinstance(body, StreamBody)
    assert _read_all(body) == b"hello"
    assert next(parser).path == "/next"
    sender.join()

    class Other:
        def read(self, size: int = -1) -> bytes:
            return b""

    assert isinstance(request_body({"wsgi.input": Other()}, Other()), StreamBody)  # type: ignore[arg-type]


# -- gunicorn's private internals that server/request_body.py relies on -----------------
#
# request_body.py reaches into gunicorn's Body, LengthReader and SocketUnreader
# (gunicorn/http/body.py, unreader.py) and into what its sync and gthread workers put in
# the WSGI environ. If an upgrade changes any of that, the fast path either stops being
# taken (silently slower uploads) or corrupts bodies. Each check below names what it
# relies on, so a failure says what changed in gunicorn.

ROOT = Path(__file__).resolve().parents[1]


def _pinned_gunicorn() -> str:
    """The gunicorn version requirements.txt pins (``gunicorn==X``)."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"\s*gunicorn\s*==\s*([^\s#;]+)", line)
        if match:
            return match.group(1)
    raise AssertionError("requirements.txt no longer pins gunicorn (gunicorn==X)")


def _changed(what: str, detail: str) -> str:
    """The failure message: which gunicorn internal changed, and what to do."""
    return (
        f"gunicorn {gunicorn.__version__}: {what} changed: {detail}. "
        "server/request_body.py (GunicornSocketBody, _gunicorn_body) relies on it; "
        "adapt it to the new gunicorn (or drop the socket fast path) before upgrading."
    )


def _parsed(pair, data: bytes):
    """gunicorn's parser over one end of ``pair``, ``data`` sent from the other."""
    server, client = pair
    sender = _send(client, data)
    parser = RequestParser(Config(), server, ("127.0.0.1", 1))
    return parser, next(parser), sender


def _assert_length_is_an_int(reader: object) -> None:
    length = getattr(reader, "length", None)
    assert type(length) is int, _changed("LengthReader.length", f"is {length!r}, not an int")


def test_gunicorn_is_the_pinned_version() -> None:
    pinned = _pinned_gunicorn()
    assert gunicorn.__version__ == pinned, (
        f"gunicorn {gunicorn.__version__} is installed but requirements.txt pins {pinned}: "
        "server/request_body.py reads gunicorn's private internals; run this file against "
        "the version production runs (and pin the one it passes with)"
    )


def _internal(module: str, name: str) -> Any:
    """``module.name`` from gunicorn, or a failure naming what is gone."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        pytest.fail(_changed(f"module {module}", f"cannot be imported ({exc})"))
    if found is None:
        pytest.fail(_changed(f"{module}.{name}", "no such name any more"))
    return found


INTERNALS = [  # what request_body.py imports, and what these tests drive
    ("gunicorn.http.body", "Body"),
    ("gunicorn.http.body", "LengthReader"),
    ("gunicorn.http.unreader", "SocketUnreader"),
    ("gunicorn.http.wsgi", "create"),
    ("gunicorn.workers.sync", "SyncWorker"),
    ("gunicorn.workers.gthread", "ThreadWorker"),
    ("gunicorn.workers.gthread", "TConn"),
]


@pytest.mark.parametrize(("module", "name"), INTERNALS)
def test_the_gunicorn_internals_still_exist(module: str, name: str) -> None:
    _internal(module, name)


def test_a_length_body_is_a_body_over_a_length_reader_over_the_socket(pair) -> None:
    server, _ = pair
    _, req, sender = _parsed(pair, _head(5000) + os.urandom(5000))
    body = req.body
    Body = _internal("gunicorn.http.body", "Body")
    LengthReader = _internal("gunicorn.http.body", "LengthReader")
    SocketUnreader = _internal("gunicorn.http.unreader", "SocketUnreader")
    assert type(body) is Body, _changed(
        "Request.body", f"is a {type(body).__qualname__}, not gunicorn.http.body.Body"
    )
    reader = getattr(body, "reader", None)
    assert type(reader) is LengthReader, _changed(
        "Body.reader", f"is {reader!r}, not the LengthReader of a Content-Length body"
    )
    unreader = getattr(reader, "unreader", None)
    assert type(unreader) is SocketUnreader, _changed(
        "LengthReader.unreader", f"is {unreader!r}, not a SocketUnreader"
    )
    assert getattr(unreader, "sock", None) is server, _changed(
        "SocketUnreader.sock", "is not the socket the parser was given"
    )
    for owner, obj in (("Body.buf", body), ("SocketUnreader.buf", unreader)):
        buf = getattr(obj, "buf", None)
        assert isinstance(buf, io.BytesIO), _changed(owner, f"is {buf!r}, not an io.BytesIO")
    _assert_length_is_an_int(reader)
    sender.join()


def test_length_counts_the_body_bytes_not_yet_taken_from_the_unreader(pair) -> None:
    """LengthReader.length + what Body read ahead + what was read = Content-Length, and
    the bytes past the head wait in SocketUnreader.buf (read before the socket)."""
    payload = os.urandom(5000)
    _, req, sender = _parsed(pair, _head(len(payload)) + payload + NEXT)
    reader, unreader = req.body.reader, req.body.reader.unreader
    _assert_length_is_an_int(reader)
    assert reader.length == len(payload), _changed(
        "LengthReader.length", f"is {reader.length} before any read, not the Content-Length"
    )
    sender.join()
    start = req.body.read(10)
    ahead = req.body.buf.getvalue()
    assert start + ahead == payload[: 10 + len(ahead)], _changed(
        "Body.buf", "does not hold the body bytes read ahead, in order, after Body.read"
    )
    assert reader.length == len(payload) - len(start) - len(ahead), _changed(
        "LengthReader.length",
        "is not decremented by every byte LengthReader.read hands out",
    )
    buffered = unreader.buf.getvalue()
    assert buffered == (payload + NEXT)[len(start) + len(ahead) :][: len(buffered)], _changed(
        "SocketUnreader.buf", "does not hold the bytes received past those handed out"
    )


def test_a_reader_with_no_length_left_reads_nothing_and_the_next_request_parses(pair) -> None:
    """What GunicornSocketBody does to signal 'body consumed': empty Body.buf and
    SocketUnreader.buf of the body, set LengthReader.length to 0; gunicorn must then read
    nothing more as body and parse the next request from what is left."""
    payload = os.urandom(3000)
    parser, req, sender = _parsed(pair, _head(len(payload)) + payload + NEXT)
    sender.join()
    _assert_length_is_an_int(req.body.reader)
    req.body.read(1)  # let gunicorn buffer some of the body
    req.body.buf = io.BytesIO()
    req.body.reader.length = 0
    unreader = req.body.reader.unreader
    rest = unreader.buf.getvalue()
    tail = rest[rest.index(NEXT) :] if NEXT in rest else b""
    if not tail:  # the next request was not buffered yet: drain the body off the socket
        left = len(payload) - 1 - len(rest)
        while left > 0:
            left -= len(pair[0].recv(left))
    unreader.buf = io.BytesIO()
    unreader.buf.write(tail)
    assert req.body.reader.read(1024) == b"", _changed(
        "LengthReader.read", "returns data when LengthReader.length is 0"
    )
    assert req.body.read() == b"", _changed(
        "Body.read", "returns data when Body.buf is empty and LengthReader.length is 0"
    )
    nxt = next(parser)
    assert (nxt.method, nxt.path) == ("GET", "/next"), _changed(
        "RequestParser.__next__",
        "does not parse the next request from SocketUnreader.buf once the body is consumed",
    )


def test_the_environ_carries_the_socket_and_the_body(pair) -> None:
    server, _ = pair
    _, req, sender = _parsed(pair, _head(10) + os.urandom(10))
    create = _internal("gunicorn.http.wsgi", "create")
    _, environ = create(req, server, ("127.0.0.1", 1), ("127.0.0.1", 8000), Config())
    assert environ.get("gunicorn.socket") is server, _changed(
        "environ['gunicorn.socket']", "is not the client socket (gunicorn.http.wsgi.create)"
    )
    assert environ.get("wsgi.input") is req.body, _changed(
        "environ['wsgi.input']", "is not the request's Body (gunicorn.http.wsgi.create)"
    )
    sender.join()


class _Recorder:
    """A WSGI app that reads its body through request_body and records what it got."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, type, bytes]] = []
        self.errors: list[str] = []

    def __call__(self, environ: dict, start_response):
        try:
            body = request_body(environ, environ["wsgi.input"])
            self.seen.append((environ["PATH_INFO"], type(body), _read_all(body, 1 << 16)))
        except Exception as exc:  # gunicorn would answer 500 and log it: keep it for the test
            self.errors.append(repr(exc))
            raise
        start_response("204 No Content", [])
        return []

    def kinds(self) -> str:
        """What the bodies were read through, and why that is not the socket."""
        names = [k.__name__ for _, k, _ in self.seen]
        if self.errors:
            return f"{names}, then failed with {self.errors}"
        return (
            f"{names}, not GunicornSocketBody: the parser's socket and "
            "environ['gunicorn.socket'] are no longer the same object, or the body is no "
            "longer a Body(LengthReader(SocketUnreader)) request_body.py can import"
        )


class _Listener:
    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8000)


def _worker(kind: Any, app: _Recorder) -> Any:
    cfg = Config()
    cfg.set("threads", 4)
    worker = kind(0, os.getpid(), [], None, 30, cfg, Logger(cfg))
    worker.wsgi = app
    return worker


def test_the_sync_worker_serves_the_body_from_its_socket(pair) -> None:
    server, client = pair
    payload = os.urandom(300_000)
    sender = _send(client, _head(len(payload)) + payload)
    app = _Recorder()
    worker = _worker(_internal("gunicorn.workers.sync", "SyncWorker"), app)
    try:
        worker.handle(_Listener(), server, ("127.0.0.1", 1))
    finally:
        worker.tmp.close()
    sender.join(10)  # not forever: a changed gunicorn may leave the body unread
    assert [k for _, k, _ in app.seen] == [GunicornSocketBody], _changed(
        "SyncWorker.handle/handle_request", f"the app read its body through {app.kinds()}"
    )
    assert app.seen[0][2] == payload


def test_the_gthread_worker_serves_the_body_and_keeps_the_connection(pair) -> None:
    """The gthread worker (gunicorn --threads, a supported choice) serves the body."""
    server, client = pair
    payload = os.urandom(300_000)
    sender = _send(client, _head(len(payload)) + payload + NEXT)
    app = _Recorder()
    worker = _worker(_internal("gunicorn.workers.gthread", "ThreadWorker"), app)
    try:
        conn = _internal("gunicorn.workers.gthread", "TConn")(
            worker.cfg, server, ("127.0.0.1", 1), ("127.0.0.1", 8000)
        )
        conn.init()
        server.settimeout(10)  # TConn.init made it blocking: fail, not hang
        keepalive, _ = worker.handle(conn)
        if keepalive:
            worker.handle(conn)
    finally:
        worker.tmp.close()
    sender.join(10)  # not forever: a changed gunicorn may leave the body unread
    assert [k for _, k, _ in app.seen] == [GunicornSocketBody, GunicornSocketBody], _changed(
        "ThreadWorker.handle/TConn", f"the app read its bodies through {app.kinds()}"
    )
    assert keepalive, _changed("ThreadWorker.handle", "closed a keep-alive connection")
    assert [(p, b) for p, _, b in app.seen] == [("/api/v1/uploads/x", payload), ("/next", b"")]
