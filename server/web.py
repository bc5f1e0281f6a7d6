"""Serves the PWA (``pwa/``) at ``/``: the app shell, its service worker, versioned assets.

URLs (everything else under ``/`` is the API's or a 404):

``/`` and ``/index.html``
    The shell page. ``no-cache``: the browser revalidates it every time it is online.
``/sw.js``
    The service worker (an ES module). ``no-cache`` and ``Service-Worker-Allowed: /``.
``/manifest.webmanifest``, ``/icons/<file>``
    Stable URLs (the installed app keeps them); revalidated, or cached for a day.
``/a/<version>/<path>``
    Any file of ``pwa/`` (not ``tools/``). Immutable for a year when ``<version>`` is the
    current one. Modules import each other by relative paths, so the whole module graph
    of one release lives under one prefix and two releases never mix in a cache.

The version is a digest of every served file, so any change to the shell is a new
version. It is written into ``index.html`` and ``sw.js`` where they say
``__RW_VERSION__``, and the service worker's precache list replaces
``['__RW_PRECACHE__']``: no build step, the files in ``pwa/`` stay plain ES modules.
Text files are gzipped once in memory and sent compressed to clients that accept it
(gunicorn serves the app directly; rural 2G makes the ~3x difference matter).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, request

from .security_headers import pwa_csp
from .settings import current_settings

bp = Blueprint("web", __name__)

PWA_DIR = Path(__file__).resolve().parents[1] / "pwa"
VERSION_TOKEN = "__RW_VERSION__"
PRECACHE_TOKEN = "['__RW_PRECACHE__']"
# Not part of the served app.
EXCLUDED_DIRS = {"tools"}
EXCLUDED_SUFFIXES = {".py", ".pyc"}

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".md": "text/markdown; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE files
}
COMPRESSIBLE = (".html", ".js", ".mjs", ".css", ".json", ".webmanifest", ".svg", ".md", "")
# Precached by the service worker: what the app needs to start and capture offline.
PRECACHE_DIRS = ("js", "css", "vendor")
PRECACHE_SUFFIXES = (".js", ".mjs", ".css")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Every file gets the Content-Security-Policy of server.security_headers.pwa_csp()
# (script-src 'self' 'wasm-unsafe-eval': hash-wasm compiles WebAssembly). The shell
# builds its DOM with textContent only.


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    mimetype: str
    etag: str


@dataclass(frozen=True)
class Shell:
    """One release of the app shell, read from disk once."""

    version: str
    files: dict[str, bytes]  # relative path -> bytes (as on disk)

    @property
    def precache(self) -> list[str]:
        urls = ["/", "/manifest.webmanifest", "/api/v1/violations"]
        urls += [f"/icons/{Path(p).name}" for p in sorted(self.files) if p.startswith("icons/")]
        urls += [
            f"/a/{self.version}/{p}"
            for p in sorted(self.files)
            if p.split("/", 1)[0] in PRECACHE_DIRS and p.endswith(PRECACHE_SUFFIXES)
        ]
        return urls


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, Shell]] = {}
_assets: dict[tuple[str, str, bool], Asset] = {}


def pwa_dir() -> Path:
    return Path(current_settings().pwa_dir or PWA_DIR)


def _served_files(root: Path) -> list[Path]:
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in EXCLUDED_DIRS:
            continue
        if path.suffix in EXCLUDED_SUFFIXES or any(p.startswith(".") for p in rel.parts):
            continue
        out.append(path)
    return sorted(out)


def shell() -> Shell:
    """The current release. Re-read when a file's size or mtime changes (a deploy)."""
    root = pwa_dir()
    paths = _served_files(root)
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    key = str(root)
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in paths}
        digest = hashlib.sha256()
        for rel, data in sorted(files.items()):
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        current = Shell(version=digest.hexdigest()[:12], files=files)
        _cache[key] = (stamp, current)
        return current


def _render(current: Shell, rel: str) -> bytes:
    """The file as served: index.html and sw.js get the version and precache list."""
    data = current.files[rel]
    if rel in ("index.html", "sw.js", "manifest.webmanifest"):
        text = data.decode("utf-8").replace(VERSION_TOKEN, current.version)
        if rel == "sw.js":
            text = text.replace(PRECACHE_TOKEN, json.dumps(current.precache))
        data = text.encode("utf-8")
    return data


def _asset(current: Shell, rel: str) -> Asset:
    key = (current.version, rel, False)
    with _lock:
        found = _assets.get(key)
    if found is not None:
        return found
    body = _render(current, rel)
    suffix = Path(rel).suffix
    gz = gzip.compress(body, 9, mtime=0) if suffix in COMPRESSIBLE and len(body) > 512 else None
    asset = Asset(
        body=body,
        gzipped=gz if gz is not None and len(gz) < len(body) else None,
        mimetype=MIME_TYPES.get(suffix, "application/octet-stream"),
        etag=hashlib.sha256(body).hexdigest()[:20],
    )
    with _lock:
        if len(_assets) > 512:  # old releases of a long-running process
            _assets.clear()
        _assets[key] = asset
    return asset


def _send(rel: str, cache_control: str, extra: dict[str, str] | None = None) -> Response:
    current = shell()
    if rel not in current.files:
        abort(404)
    asset = _asset(current, rel)
    use_gzip = asset.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", "")
    resp = Response(asset.gzipped if use_gzip else asset.body, mimetype=None)
    resp.headers["Content-Type"] = asset.mimetype
    if use_gzip:
        resp.headers["Content-Encoding"] = "gzip"
    if asset.gzipped is not None:
        resp.headers["Vary"] = "Accept-Encoding"
    resp.set_etag(asset.etag + ("-gz" if use_gzip else ""))
    resp.headers["Cache-Control"] = cache_control
    resp.headers["X-RoadWatch-Shell"] = current.version
    resp.headers.update(SECURITY_HEADERS)
    resp.headers["Content-Security-Policy"] = pwa_csp()
    if extra:
        resp.headers.update(extra)
    return resp.make_conditional(request)


@bp.get("/")
@bp.get("/index.html")
def index() -> Response:
    """The SPA shell; screens are chosen by the URL fragment (#capture, #reports...)."""
    return _send("index.html", REVALIDATE)


@bp.get("/sw.js")
def service_worker() -> Response:
    return _send("sw.js", REVALIDATE, {"Service-Worker-Allowed": "/"})


@bp.get("/.well-known/roadwatch-checkpoint-keys.json")
def checkpoint_keys() -> Response:
    """The server's public signing keys (Ed25519), current and retired (PROTOCOL §8)."""
    from .services import checkpoints

    resp = jsonify(checkpoints.published())
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    return _send("manifest.webmanifest", REVALIDATE)


@bp.get("/icons/<name>")
def icons(name: str) -> Response:
    return _send(f"icons/{name}", "public, max-age=86400")


@bp.get("/screenshots/<name>")
def screenshots(name: str) -> Response:
    """The manifest's screenshots (the richer install dialog); not precached."""
    return _send(f"screenshots/{name}", "public, max-age=86400")


@bp.get("/a/<version>/<path:rel>")
def asset(version: str, rel: str) -> Response:
    """A file of one release. An old page asking for an old version gets today's file,
    revalidated, rather than a 404 that would break it until the next reload."""
    if ".." in rel.split("/"):
        abort(404)
    current = shell()
    return _send(rel, IMMUTABLE if version == current.version else REVALIDATE)
