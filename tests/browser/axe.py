"""axe-core in the browser tests: the pinned copy vendored in tests/browser/vendor/axe-core
(no npm at run time), injected into a page as it stands, and its findings shortened.

Used by the console's and the PWA's accessibility tests; neither may have a violation of
impact "critical" or "serious".
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

AXE_DIR = Path(__file__).resolve().parent / "vendor" / "axe-core"
AXE = AXE_DIR / "axe.min.js"
AXE_VERSION = "4.14.1"
# sha256 of axe.min.js 4.14.1 as published (the package's sri-history.json says the same).
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
BLOCKING = ("critical", "serious")

_RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def axe_violations(page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it stands; its violations, shortened."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # As the body of a function run through the DevTools protocol: a <script> tag
        # with the source inline (add_script_tag) is refused by the pages' CSP.
        page.evaluate("() => {\n" + AXE.read_text(encoding="utf-8") + "\n}")
    return page.evaluate(_RUN_AXE)


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations of impact "critical" or "serious"."""
    return [v for v in violations if v["impact"] in BLOCKING]


def assert_pinned_axe() -> None:
    """The vendored axe-core is the release named in its README, unchanged."""
    data = AXE.read_bytes()
    assert data.startswith(f"/*! axe v{AXE_VERSION}".encode())
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256
    assert (AXE_DIR / "LICENSE").read_text().startswith("Mozilla Public License")
    assert AXE_VERSION in (AXE_DIR / "README.md").read_text()
