"""A fault-injecting HTTP proxy for the sync fault tests.

It sits between a client and the server on loopback, reads the client's byte stream
request by request (HTTP/1.1 with Content-Length bodies, keep-alive included), and
applies the next planned :class:`Fault` for that request's method: pass it through,
cut the connection after N bytes of the request, flip one byte of it, answer 503
itself, let it reach the server and then lose the response (the server has
committed, the client never hears), or hold it after N bytes and call
:attr:`FaultProxy.on_hold` (the server has been sent exactly that much of the
request, and no more, while the hook runs: a test can act at a precise point of an
upload, e.g. kill the server). It counts the bytes clients sent, which is how the
tests and benchmarks measure re-sent bytes.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str = "pass"  # pass | cut | flip | refuse | drop_response | hold
    at: int = 0  # cut/flip/hold: the byte offset within the request (head included)
    method: str | None = None  # only for a request with this method (None: any)


PASS = Fault()
REFUSE_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 5\r\nConnection: close\r\n\r\nbusy\n"
)


class _Closed(Exception):
    pass


class FaultProxy:
    """``127.0.0.1:<port>`` forwarding to ``127.0.0.1:<upstream_port>``."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.plan: deque[Fault] = deque()
        self.bytes_up = 0
        self.requests = 0
        self.faults_done: list[Fault] = []
        # A "hold" fault calls this with the count of the request's body bytes sent
        # upstream; the rest of the request waits until it returns.
        self.on_hold: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.close()
        except OSError:
            pass

    def _next_fault(self, method: str) -> Fault:
        """The first planned fault for this request method, else pass."""
        with self._lock:
            self.requests += 1
            for fault in self.plan:
                if fault.method in (None, method):
                    self.plan.remove(fault)
                    return fault
            return PASS

    def _done(self, fault: Fault) -> None:
        with self._lock:
            self.faults_done.append(fault)

    def _count(self, n: int) -> None:
        with self._lock:
            self.bytes_up += n

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        drop_next_response = threading.Event()
        try:
            reader = _Reader(client)
            while True:
                head = reader.head()  # raises _Closed at the end of the stream
                method = head.split(b" ", 1)[0].decode("latin-1")
                fault = self._next_fault(method)
                body_len = _content_length(head)
                if fault.kind == "refuse":
                    reader.take(body_len)
                    client.sendall(REFUSE_503)
                    self._done(fault)
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                    threading.Thread(
                        target=self._downstream,
                        args=(upstream, client, drop_next_response),
                        daemon=True,
                    ).start()
                if fault.kind == "drop_response":
                    drop_next_response.set()
                self._forward(head + reader.take_iter(body_len), upstream, fault, len(head))
        except (_Closed, OSError):
            pass
        finally:
            _close(client, upstream)

    def _forward(self, chunks, upstream: socket.socket, fault: Fault, head_len: int) -> None:
        """Send one request upstream, applying a cut, a flip or a hold at its offset."""
        sent = 0
        held = False
        for data in chunks:
            if fault.kind == "hold" and not held and sent + len(data) >= fault.at:
                keep = max(0, fault.at - sent)
                upstream.sendall(data[:keep])
                sent += keep
                self._count(keep)
                data = data[keep:]
                held = True
                self._done(fault)
                if self.on_hold is not None:
                    self.on_hold(max(0, sent - head_len))
            if fault.kind == "cut" and sent + len(data) >= fault.at:
                keep = max(0, fault.at - sent)
                upstream.sendall(data[:keep])
                self._count(keep)
                self._done(fault)
                raise _Closed()
            if fault.kind == "flip" and sent <= fault.at < sent + len(data):
                i = fault.at - sent
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
                self._done(fault)
            upstream.sendall(data)
            sent += len(data)
            self._count(len(data))

    def _downstream(self, upstream: socket.socket, client: socket.socket, drop: threading.Event):
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if drop.is_set():
                    # The server answered: it has done its work. The client never hears.
                    self._done(Fault("drop_response"))
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, upstream)


class _Reader:
    """Reads a client's stream: request heads, then exactly the body's bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise _Closed()
        self.buf += data

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end], self.buf[end:]
        return head

    def take_iter(self, n: int):
        """A generator of the next ``n`` bytes, in pieces as they arrive."""

        def gen():
            remaining = n
            while remaining > 0:
                if not self.buf:
                    self._fill()
                piece, self.buf = self.buf[:remaining], self.buf[remaining:]
                remaining -= len(piece)
                yield piece

        return _Chain(gen())

    def take(self, n: int) -> None:
        for _ in self.take_iter(n):
            pass


class _Chain:
    """``head + body_iter``: the head as the first piece, then the body's pieces."""

    def __init__(self, it) -> None:
        self.it = it

    def __radd__(self, head: bytes):
        def gen():
            yield head
            yield from self.it

        return gen()

    def __iter__(self):
        return self.it


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    if b"transfer-encoding: chunked" in head.lower():
        raise NotImplementedError("chunked request bodies are not proxied")
    return 0


def _close(*socks: socket.socket | None) -> None:
    for s in socks:
        if s is None:
            continue
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
