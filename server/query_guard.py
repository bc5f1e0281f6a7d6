"""A query string that is not UTF-8 is a 400, never a 500 (issue 28).

Werkzeug decodes ``request.args`` strictly: a raw ``0xFF`` byte in the query string
(``/console/login?\\xff``) raised ``UnicodeDecodeError`` wherever the arguments were
first read, in a view or in an after-request hook, and the answer was a 500. The WSGI
middleware here takes such a query string away before the app sees it and marks the
request; a ``before_request`` hook then answers ``400`` through the app's own error
handlers (problem+json on the API and Open311, the console's page elsewhere, security
headers on both).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, abort, request

BAD_QUERY = "roadwatch.bad_query_string"


class QueryStringGuard:
    """WSGI middleware: a query string that does not decode as UTF-8 is removed and the
    request marked (:data:`BAD_QUERY`)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        query = environ.get("QUERY_STRING", "")
        if query and not query.isascii():
            try:
                # PEP 3333: the bytes as latin-1 code points.
                query.encode("latin-1").decode("utf-8")
            except UnicodeError:
                environ["QUERY_STRING"] = ""
                environ[BAD_QUERY] = True
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = QueryStringGuard(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def _refuse_bad_query_string() -> None:
        if request.environ.get(BAD_QUERY):
            abort(400)
