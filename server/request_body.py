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
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from .storage import Body, IncompleteBody, StreamBody

__all__ = ["Body", "GunicornSocketBody", "StreamBody", "request_body"]


class GunicornSocketBody:
    """The body of a request with a Content-Length, received from gunicorn's socket.

    Built from gunicorn's ``Body`` (``wsgi.input``), its ``LengthReader`` and its
    ``SocketUnreader`` (gunicorn 20–23: ``gunicorn/http/body.py``, ``unreader.py``).
    """

    def __init__(self, body: Any, reader: Any, unreader: Any, sock: Any) -> None:
        self._reader = reader
        self._sock = sock
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
            return n
        remaining = self._reader.length
        if remaining <= 0:
            return 0
        try:
            n = self._sock.recv_into(buf, min(len(buf), remaining))
        except OSError as exc:  # reset, or the socket's timeout
            raise IncompleteBody() from exc
        if n == 0:  # the client closed before sending the whole body
            raise IncompleteBody()
        self._reader.length -= n
        return n


def _gunicorn_body(environ: dict[str, Any]) -> GunicornSocketBody | None:
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
    return GunicornSocketBody(wsgi_input, reader, unreader, sock)


def request_body(environ: dict[str, Any], stream: BinaryIO) -> Body:
    """The body of the current request: from gunicorn's socket when that is safe, else
    from ``stream`` (Flask's ``request.stream``)."""
    return _gunicorn_body(environ) or StreamBody(stream)
