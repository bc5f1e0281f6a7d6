"""Content-Security-Policy for the console and the PWA, HSTS over HTTPS, and ``Vary``
where the body depends on the language (problem+json: Accept-Language; console pages:
the language and session cookies).

The console's policy (every response under ``/console``)::

    default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:
    [tile host]; connect-src 'self'; font-src 'self'; media-src 'self' blob:;
    worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self';
    frame-ancestors 'none'; form-action 'self'

No inline script, no inline event handler, no ``javascript:`` URL, no ``style``
attribute or ``<style>`` element: the templates load their code from
``server/static`` and hand data over in ``data-*`` attributes or
``<script type="application/json">`` blocks that the scripts read with ``JSON.parse``.
Leaflet and Chart.js set styles through the CSSOM (``element.style``), which
``style-src 'self'`` allows.

The PWA's pages get the same shape with ``script-src 'self' 'wasm-unsafe-eval'``:
hash-wasm compiles its SHA-256 as WebAssembly. The tile host (``MAP_TILE_URL``) is
added to ``img-src`` when one is configured (the console map and the PWA's map picker).

``Strict-Transport-Security`` is sent only when the request came over HTTPS, as the
socket says or as a trusted proxy says (``TRUSTED_PROXY_HOPS``, ProxyFix): a browser
that got it over plain http would ignore it anyway, and a development server on http
must never pin a name to HTTPS.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, request

from .settings import current_settings

HSTS = "max-age=31536000; includeSubDomains"
_HOST_LABEL = re.compile(r"^[A-Za-z0-9-]+$")


def tile_source(url: str) -> str | None:
    """The CSP source expression of a Leaflet tile URL template, or None when it is
    empty or relative (then 'self' covers it). ``https://{s}.tile.example.org/{z}/...``
    becomes ``https://*.tile.example.org``; a port is kept."""
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    # Template labels ({s}, {r}...) become one wildcard in front; a template further
    # right than the first label cannot be written in CSP, so the host is left out.
    if labels and "{" in labels[0]:
        labels[0] = "*"
    if not all(_HOST_LABEL.match(label) for label in labels[1:] if label) or any(
        "{" in label for label in labels
    ):
        return None
    if port and not port.isdigit():
        return None
    return f"{parts.scheme}://{'.'.join(labels)}" + (f":{port}" if port else "")


def _policy(script_src: str) -> str:
    tiles = tile_source(current_settings().map_tile_url)
    img = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            f"img-src {img}",
            "connect-src 'self'",
            "font-src 'self'",
            "media-src 'self' blob:",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )


def console_csp() -> str:
    """The console's Content-Security-Policy."""
    return _policy("'self'")


def pwa_csp() -> str:
    """The PWA's Content-Security-Policy: WebAssembly (hash-wasm) may compile."""
    return _policy("'self' 'wasm-unsafe-eval'")


def _after(response: Response) -> Response:
    if response.mimetype == "application/problem+json":
        # The title (and Content-Language) follow Accept-Language.
        response.vary.add("Accept-Language")
    if request.path == "/console" or request.path.startswith("/console/"):
        response.headers["Content-Security-Policy"] = console_csp()
        if response.mimetype == "text/html":
            # The page's language and its user come from cookies (rw_lang, the session),
            # never from Accept-Language; the pages are no-store as well.
            response.vary.add("Cookie")
    elif response.mimetype == "text/html" and "Content-Security-Policy" not in response.headers:
        # Any other page (Werkzeug's plain 404 or 405 page, an error page): the strict
        # policy too, and no type sniffing.
        response.headers["Content-Security-Policy"] = console_csp()
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    app.after_request(_after)
