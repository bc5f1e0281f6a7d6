"""How server/web.py serves the PWA: types, caching, the service-worker scope, gzip,
the precache list, the manifest and icons, the vendored licences, the size budget.
No browser needed; SQLite only, like the rest of this folder."""

from __future__ import annotations

import gzip
import io
import json
import re

import pytest
from PIL import Image

from server.web import PWA_DIR
from tests.browser.pages import SQLITE_ONLY

SHELL_BUDGET = 150 * 1024  # HTML + JS + CSS + vendor, gzipped


def version_of(client) -> str:
    return client.get("/").headers["X-RoadWatch-Shell"]


@SQLITE_ONLY
def test_shell_page_is_revalidated_and_points_at_this_release(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    version = resp.headers["X-RoadWatch-Shell"]
    html = resp.get_data(as_text=True)
    assert "__RW_VERSION__" not in html
    assert f'src="/a/{version}/js/app.js"' in html
    assert '<html lang="vi"' in html
    assert client.get("/index.html").get_data() == resp.get_data()


@SQLITE_ONLY
def test_service_worker_is_a_module_scoped_to_the_root_and_never_cached(client):
    resp = client.get("/sw.js")
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["Cache-Control"] == "no-cache"
    text = resp.get_data(as_text=True)
    version = version_of(client)
    assert f"const VERSION = '{version}'" in text
    assert f"from './a/{version}/sw/cache.js'" in text
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", text).group(1))
    assert "/" in precache and "/api/v1/violations" in precache
    assert f"/a/{version}/js/app.js" in precache
    assert f"/a/{version}/vendor/exifr/lite.esm.js" in precache
    # Every page module (screens/, ui/, outbox/...): one missing and the app fails offline.
    modules = sorted((PWA_DIR / "js").rglob("*.js"))
    assert len(modules) > 20
    for path in modules:
        assert f"/a/{version}/{path.relative_to(PWA_DIR).as_posix()}" in precache, path
    for url in precache:  # an install fails if any one of them is missing
        assert client.get(url).status_code == 200, url


@SQLITE_ONLY
def test_versioned_assets_are_immutable_and_old_versions_revalidate(client):
    version = version_of(client)
    resp = client.get(f"/a/{version}/js/app.js")
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = client.get("/a/000000000000/js/app.js")
    assert old.status_code == 200 and old.headers["Cache-Control"] == "no-cache"
    assert client.get(f"/a/{version}/css/app.css").headers["Content-Type"].startswith("text/css")
    again = client.get(f"/a/{version}/js/app.js", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


@SQLITE_ONLY
@pytest.mark.parametrize(
    "path", ["/a/v/tools/make_icons.py", "/a/v/../server/web.py", "/a/v/nope.js", "/icons/x.png"]
)
def test_nothing_outside_the_app_is_served(client, path):
    assert client.get(path).status_code == 404


@SQLITE_ONLY
def test_text_is_gzipped_for_clients_that_accept_it(client):
    version = version_of(client)
    plain = client.get(f"/a/{version}/js/app.js")
    packed = client.get(f"/a/{version}/js/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data()) / 2


@SQLITE_ONLY
def test_manifest_names_the_app_in_vietnamese_with_installable_icons(client):
    resp = client.get("/manifest.webmanifest")
    assert resp.headers["Content-Type"] == "application/manifest+json"
    manifest = json.loads(resp.get_data())
    assert manifest["lang"] == "vi"
    assert manifest["name"].startswith("Phản ánh vi phạm giao thông")
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.headers["Content-Type"] == "image/png"
        w, h = Image.open(io.BytesIO(image.get_data())).size
        assert f"{w}x{h}" == icon["sizes"]


def test_every_vendored_library_has_its_licence_and_is_listed():
    vendor = PWA_DIR / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    for lib in [p for p in vendor.iterdir() if p.is_dir()]:
        assert (lib / "LICENSE").is_file(), lib
        assert f"`{lib.name}`" in readme, lib.name


@SQLITE_ONLY
def test_app_shell_fits_the_budget(client):
    """HTML + JS + CSS + vendor, as sent gzipped: under 150 KB (icons not counted, nor
    Leaflet, which only the map picker loads; bench/bench_pwa.py measures the first
    screen itself: 62.8 KB)."""
    text = client.get("/sw.js").get_data(as_text=True)
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", text).group(1))
    shell = [
        u for u in precache if not u.startswith(("/icons/", "/api/")) and "/leaflet/" not in u
    ] + ["/sw.js"]
    total = sum(len(client.get(u, headers={"Accept-Encoding": "gzip"}).get_data()) for u in shell)
    assert total < SHELL_BUDGET, total
