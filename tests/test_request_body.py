"""Request bodies read straight from gunicorn's socket (server/request_body.py).

gunicorn's real parser runs over a socket pair: the body must come out byte for byte,
whatever gunicorn had buffered, and the connection must then carry the next request.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from gunicorn.config import Config
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
