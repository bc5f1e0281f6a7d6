"""Benchmark: the violation search answers within one frame (< 16 ms) on a budget phone.

    python bench/bench_violation_search.py [--rate 4] [--repeat 20]

Debian's Chromium with the CPU throttled (DevTools ``Emulation.setCPUThrottlingRate``,
4x by default: a budget Android phone), the full catalogue as GET /api/v1/violations
serves it (39 violations with their short names, synonyms and fines).

Figures:

1. Building the search index once, when the catalogue is loaded.
2. One search per keystroke: every prefix of every phrasing of the test table
   (tests/browser/test_violation_search.py), as typed letter by letter; each call
   repeated --repeat times and averaged (the timer's resolution is 0.1 ms); median, p95
   and the slowest keystroke.
3. The capture form's whole keystroke on the real app: the input event, the search,
   the result list rebuilt, and the layout it causes (a forced reflow), per keystroke.
4. What it costs on the wire, as the server sends it (gzip): the catalogue response
   (with synonyms and fines) and the three modules (search, fines, the form's picker).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.bench_pwa import cpu, fetch, start_server  # noqa: E402
from tests.browser.pages import CHROMIUM_LAUNCH, App, phone_context_options  # noqa: E402
from tests.browser.test_violation_search import PHRASINGS  # noqa: E402

FRAME_MS = 16.0

_PURE = """async ([queries, repeat]) => {
  const s = await import(document.documentElement.dataset.base + 'js/violation-search.js');
  const body = await (await fetch('/api/v1/violations')).json();
  let t0 = performance.now();
  let index;
  for (let i = 0; i < repeat; i++) index = s.buildIndex(body.violations);
  const build = (performance.now() - t0) / repeat;
  const single = [];
  const averaged = [];
  for (const q of queries) {
    t0 = performance.now();
    s.search(index, q, 8);
    single.push(performance.now() - t0);
    t0 = performance.now();
    for (let i = 0; i < repeat; i++) s.search(index, q, 8);
    averaged.push((performance.now() - t0) / repeat);
  }
  return { build, single, averaged, entries: body.violations.length };
}"""

_FORM = """async (queries) => {
  const input = document.querySelector('input[name=violation_search]');
  const times = [];
  for (const q of queries) {
    const t0 = performance.now();
    input.value = q;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    void document.body.offsetHeight;  // the layout the new list causes
    times.push(performance.now() - t0);
  }
  return times;
}"""


def keystrokes() -> list[str]:
    """Every prefix of every phrasing, as typed letter by letter."""
    return [q[:i] for q, _ in PHRASINGS for i in range(1, len(q) + 1)]


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "max": ordered[-1],
    }


def measure(base: str, rate: float, repeat: int) -> dict:
    queries = keystrokes()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(**CHROMIUM_LAUNCH)
        context = browser.new_context(**phone_context_options(base))
        page = context.new_page()
        App(page).open()
        App(page).wait_catalogue()
        version = page.evaluate("document.documentElement.dataset.version")
        page.evaluate(f"document.documentElement.dataset.base = '/a/{version}/'")
        cpu(page, rate)
        pure = page.evaluate(_PURE, [queries, repeat])
        form = page.evaluate(_FORM, queries)
        browser.close()
    return {"queries": len(queries), "pure": pure, "form": form, "version": version}


def wire_sizes(base: str, version: str) -> dict[str, int]:
    return {
        "catalogue_gzip": len(fetch(base + "/api/v1/violations")),
        "catalogue_raw": len(fetch(base + "/api/v1/violations", gz=False)),
        "search_module_gzip": len(fetch(f"{base}/a/{version}/js/violation-search.js")),
        "fines_module_gzip": len(fetch(f"{base}/a/{version}/js/fines.js")),
        "picker_module_gzip": len(fetch(f"{base}/a/{version}/js/capture/violation-picker.js")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=4.0, help="CPU throttling rate")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _, server, base = start_server(Path(tmp))
        try:
            got = measure(base, args.rate, args.repeat)
            sizes = wire_sizes(base, got["version"])
        finally:
            server.shutdown()
    pure, form = got["pure"], got["form"]
    per_key = summary(pure["averaged"])
    single = summary(pure["single"])
    whole = summary(form)
    print(
        f"CPU throttled {args.rate:g}x; {pure['entries']} violations; "
        f"{got['queries']} keystrokes"
    )
    print(f"build the index (once per catalogue): {pure['build']:.2f} ms")
    print(
        "search per keystroke, averaged over {r}: median {median:.3f} ms, p95 {p95:.3f} ms, "
        "max {max:.3f} ms".format(r=args.repeat, **per_key)
    )
    print("search per keystroke, single calls: p95 {p95:.2f} ms, max {max:.2f} ms".format(**single))
    print(
        "whole keystroke in the form (search + list + layout): median {median:.2f} ms, "
        "p95 {p95:.2f} ms, max {max:.2f} ms".format(**whole)
    )
    verdict = "met" if per_key["max"] < FRAME_MS else "NOT met"
    print(f"goal: every keystroke's search within one frame (< {FRAME_MS:g} ms): {verdict}")
    within = sum(t < FRAME_MS for t in form) / len(form)
    print(f"whole keystrokes within one frame: {100 * within:.1f} %")
    print("wire (gzip):", json.dumps(sizes))


if __name__ == "__main__":
    main()
