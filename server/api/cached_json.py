"""A public JSON body that is the same for every caller until something changes (the
catalogue, the district outlines): sent as prepared once, gzipped when accepted,
revalidated with an ETag (a 2G phone pays a 304, not the body)."""

from __future__ import annotations

from flask import Response, request

MAX_AGE_SECONDS = 3600


def cached_json(raw: bytes, gz: bytes, etag: str) -> Response:
    """The response for ``raw`` (JSON) and its gzip ``gz``, with ``etag`` of the JSON."""
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(gz if use_gzip else raw, mimetype="application/json")
    if use_gzip:
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    resp.set_etag(etag + ("-gz" if use_gzip else ""))
    return resp.make_conditional(request)
