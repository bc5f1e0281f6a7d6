"""The Content-Security-Policy breaks nothing: Debian's Chromium opens the console's
main pages (login, queue, case with its map, statistics with Chart.js, the hotspot map)
and the PWA (shell, WebAssembly hasher, map picker), and no ``securitypolicyviolation``
event fires, no console error is logged, no script throws.

Issue 17, item 6; the headers themselves are checked in tests/test_security_headers.py.
"""

from __future__ import annotations

from flask import Flask

from tests.browser.conftest import RoadWatchServer
from tests.browser.pages import BROWSER, phone_context_options
from tests.browser.test_console_map import _offline_context
from tests.test_console import PASSWORD, build_world

pytestmark = BROWSER

# Records every CSP violation in every document of the context (before any page script).
WATCH = """
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__rwCsp && window.__rwCsp(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def _watch(context) -> tuple[list[str], list[str]]:
    """(CSP violations, console errors and uncaught exceptions) of every page of the context."""
    violations: list[str] = []
    errors: list[str] = []
    context.expose_function("__rwCsp", lambda text: violations.append(text))
    context.add_init_script(WATCH)

    def on_page(page) -> None:
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    context.on("page", on_page)
    return violations, errors


def test_console_pages_run_under_the_csp(app: Flask, rw_server: RoadWatchServer, browser) -> None:
    world = build_world(app, app.test_client())
    refused: list[str] = []
    context = _offline_context(browser, rw_server.url, refused)
    violations, errors = _watch(context)
    page = context.new_page()

    page.goto("/console/login")
    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    page.fill("input[name=username]", "sup_hn")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/console/queue")
    page.wait_for_load_state("networkidle")

    page.goto(f"/console/cases/{world.cases['A']}")
    page.wait_for_selector(".leaflet-container", state="attached")  # console.js drew the map
    page.evaluate("() => document.querySelectorAll('figure img').forEach(i => i.loading = 'eager')")
    page.wait_for_function(  # the evidence shows (img-src 'self')
        "() => [...document.querySelectorAll('figure img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=10_000,
    )
    page.wait_for_load_state("networkidle")

    page.goto("/console/stats?preset=year&year=2026")
    page.wait_for_function(
        "() => !!window.Chart && !!window.Chart.getChart(document.querySelector('canvas'))"
    )

    page.goto("/console/stats/hotspots?preset=year&year=2026")
    page.wait_for_selector("#hotspot-map .leaflet-overlay-pane path", state="attached")
    page.wait_for_load_state("networkidle")

    context.close()
    assert violations == []
    assert errors == []
    assert refused == []


def test_pwa_runs_under_the_csp(rw_server: RoadWatchServer, browser) -> None:
    context = browser.new_context(**phone_context_options(rw_server.url))
    violations, errors = _watch(context)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("#btn-map")
    # hash-wasm compiles under 'wasm-unsafe-eval': a digest comes out.
    digest = page.evaluate(
        """async () => {
          const m = await import(document.querySelector('script[type=module]').src
            .replace('app.js', 'hash.js'));
          const h = await m.streamingSha256();
          h.update(new TextEncoder().encode('abc'));
          return h.hex();
        }"""
    )
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    # The map picker: Leaflet and the outlines. (A predicate given as a function:
    # Playwright evaluates a bare expression with eval(), which the policy refuses.)
    page.locator("#btn-map").click()
    page.wait_for_selector("#map-dialog[open]")
    page.wait_for_function(
        "() => document.querySelector('#map-place').textContent.trim().length > 0"
    )
    page.wait_for_load_state("networkidle")
    context.close()
    assert violations == []
    assert errors == []


# Safari before 16 does not know 'wasm-unsafe-eval' and refuses WebAssembly under the
# policy; here WebAssembly is refused the same way before the app starts.
NO_WASM = """
for (const name of ['compile', 'instantiate']) {
  WebAssembly[name] = () => Promise.reject(new WebAssembly.CompileError('refused by CSP'));
}
"""


def test_pwa_hashes_evidence_where_webassembly_is_refused(
    rw_server: RoadWatchServer, browser
) -> None:
    context = browser.new_context(**phone_context_options(rw_server.url))
    context.add_init_script(NO_WASM)
    violations, errors = _watch(context)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("#btn-map")
    digest = page.evaluate(
        """async () => {
          const m = await import(document.querySelector('script[type=module]').src
            .replace('app.js', 'hash.js'));
          const h = await m.streamingSha256();
          const bytes = new TextEncoder().encode('abc'.repeat(50000));
          for (let i = 0; i < bytes.length; i += 4099) h.update(bytes.subarray(i, i + 4099));
          return [await m.warmUp(), h.hex()];
        }"""
    )
    import hashlib

    assert digest == [False, hashlib.sha256(b"abc" * 50000).hexdigest()]
    context.close()
    assert violations == []
    assert errors == []
