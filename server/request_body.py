"""Request bodies read into a caller's buffer, straight from gunicorn's socket when possible.

gunicorn's own body reader (``wsgi.input``) is pure Python: it receives 8 KiB at a time
and copies every piece through several ``BytesIO`` buffers, which made it two thirds of
the server's time for a large upload (bench/README.md). For an evidence upload, the
body is read here instead:

* under gunicorn's sync and gthread workers, with a ``Content-Length`` (no chunked
  encoding): what gunicorn already buffered is taken first, then the rest is received
  with ``recv_into`` straight into the caller's buffer (no copy in Python). gunicorn's
  own count of body bytes still to read is decremented by every byte taken, so when
  the body has been read to its end gunicorn sees it consumed and the connection can
  carry the next request (keep-alive); when the body is not read to its end (an error
  answered early), gunicorn discards the rest as it always does. Never more than the
  body is received, so a pipelined next request is left untouched on the socket.
* anywhere else (Flask's test client, another WSGI server, a chunked body): from
  ``wsgi.input``, copied in 64 KiB pieces.

A broken connection raises :class:`~server.storage.IncompleteBody` (or werkzeug's
``ClientDisconnected``, from its own stream); the bytes handed out before it are the
body's and were received in full.

A body read from the socket is also given a pace (:class:`Pace`, from the settings
``BODY_IDLE_TIMEOUT_SECONDS`` and ``BODY_MIN_BYTES_PER_SECOND``), like Apache's
``mod_reqtimeout`` ``MinRate`` and nginx's ``client_body_timeout``: it is ended with
:class:`BodyTooSlow` (an ``IncompleteBody``: what arrived is kept as for a broken
connection, and the client is told its offset) when no byte comes for the idle timeout,
or when, after a first idle timeout's worth of time, it has arrived slower on average
than the floor. A phone on 2G (2-8 KB/s) is twenty times above the default floor; a
client that trickles a byte every few seconds is let go after about a minute instead of
holding its connection for hours, and one that vanished without closing its connection
after a minute of silence.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from flask import has_app_context

from .settings import current_settings
from .storage import Body, IncompleteBody, StreamBody

__all__ = ["Body", "BodyTooSlow", "GunicornSocketBody", "Pace", "StreamBody", "request_body"]


class BodyTooSlow(IncompleteBody):
    """The client sent no byte of the body for too long, or sent it below the floor."""


@dataclass(frozen=True)
class Pace:
    """How slowly a body may arrive before it is ended."""

    idle_seconds: float  # the longest wait for the next bytes (> 0)
    min_bytes_per_second: float = 0.0  # the average floor, after ``idle_seconds``; 0: none

    def wait_limit(self, elapsed: float, received: int) -> float:
        """How long the next read may wait, ``elapsed`` seconds into a body of which
        ``received`` bytes arrived; <= 0: the body is too slow already."""
        limit = self.idle_seconds
        if self.min_bytes_per_second > 0:
            allowed = self.idle_seconds + received / self.min_bytes_per_second
            limit = min(limit, allowed - elapsed)
        return limit


class GunicornSocketBody:
    """The body of a request with a Content-Length, received from gunicorn's socket.

    Built from gunicorn's ``Body`` (``wsgi.input``), its ``LengthReader`` and its
    ``SocketUnreader`` (gunicorn 20–23: ``gunicorn/http/body.py``, ``unreader.py``).
    """

    def __init__(
        self,
        body: Any,
        reader: Any,
        unreader: Any,
        sock: Any,
        pace: Pace | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._sock = sock
        self._pace = pace
        self._clock = clock
        self._start = clock()
        self._received = 0
        # Bytes of the body gunicorn already holds: first what its Body read ahead
        # (already counted off reader.length), then what its Unreader received past
        # the request head. Whatever the Unreader holds beyond the body belongs to the
        # next request and stays there.
        ahead = body.buf.getvalue()
        body.buf = io.BytesIO()
        buffered = unreader.buf.getvalue()
        take = min(len(buffered), reader.length)
        unreader.buf = io.BytesIO()
        unreader.buf.write(buffered[take:])
        reader.length -= take
        self._pending = memoryview(ahead + buffered[:take])

    def readinto(self, buf: memoryview) -> int:
        if not len(buf):
            return 0
        if self._pending:
            n = min(len(buf), len(self._pending))
            buf[:n] = self._pending[:n]
            self._pending = self._pending[n:]
            self._received += n
            return n
        remaining = self._reader.length
        if remaining <= 0:
            return 0
        try:
            n = self._recv_into(buf, min(len(buf), remaining))
        except TimeoutError as exc:  # our pace, or a timeout the socket already had
            raise BodyTooSlow() from exc
        except OSError as exc:  # reset
            raise IncompleteBody() from exc
        if n == 0:  # the client closed before sending the whole body
            raise IncompleteBody()
        self._reader.length -= n
        self._received += n
        return n

    def _recv_into(self, buf: memoryview, size: int) -> int:
        """``recv_into`` waiting no longer than the pace allows (the socket's own
        timeout is kept when it is shorter, and put back afterwards)."""
        if self._pace is None:
            return self._sock.recv_into(buf, size)
        limit = self._pace.wait_limit(self._clock() - self._start, self._received)
        if limit <= 0:
            raise TimeoutError("the body arrives slower than the floor")
        previous = self._sock.gettimeout()
        self._sock.settimeout(limit if previous is None else min(limit, previous))
        try:
            return self._sock.recv_into(buf, size)
        finally:
            self._sock.settimeout(previous)


def _gunicorn_body(environ: dict[str, Any], pace: Pace | None) -> GunicornSocketBody | None:
    """A socket reader when gunicorn serves this request and the body has a length."""
    sock = environ.get("gunicorn.socket")
    wsgi_input = environ.get("wsgi.input")
    if sock is None or wsgi_input is None or not hasattr(sock, "recv_into"):
        return None
    try:
        from gunicorn.http.body import Body as GunicornBody
        from gunicorn.http.body import LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:
        return None
    # Exact types: anything else (chunked, a subclass, an iterator source) may buffer
    # differently, and is read through wsgi.input.
    if type(wsgi_input) is not GunicornBody:
        return None
    reader = getattr(wsgi_input, "reader", None)
    if type(reader) is not LengthReader:
        return None
    unreader = getattr(reader, "unreader", None)
    if type(unreader) is not SocketUnreader or unreader.sock is not sock:
        return None
    if not isinstance(getattr(wsgi_input, "buf", None), io.BytesIO) or not isinstance(
        getattr(unreader, "buf", None), io.BytesIO
    ):
        return None
    return GunicornSocketBody(wsgi_input, reader, unreader, sock, pace)


def request_body(environ: dict[str, Any], stream: BinaryIO) -> Body:
    """The body of the current request: from gunicorn's socket when that is safe (paced
    by the settings), else from ``stream`` (Flask's ``request.stream``)."""
    return _gunicorn_body(environ, settings_pace()) or StreamBody(stream)


def settings_pace() -> Pace | None:
    """The pace the settings ask for; None outside an app or when turned off."""
    if not has_app_context():
        return None
    settings = current_settings()
    if settings.body_idle_timeout_seconds <= 0:
        return None
    return Pace(settings.body_idle_timeout_seconds, max(0.0, settings.body_min_bytes_per_second))
