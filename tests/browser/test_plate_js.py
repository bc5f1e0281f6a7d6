"""pwa/js/plate.js (shown while typing) agrees with server/plates.py (what is stored):
all 40 vectors of tests/data/plate_examples.json, then ~900 variants and random strings
compared field by field with the Python module, run in the browser itself."""

from __future__ import annotations

import json
import random
from pathlib import Path

from server.plates import normalize_plate
from tests.browser.pages import BROWSER, App

pytestmark = BROWSER

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "plate_examples.json").read_text("utf-8")
)
CLASSES = [None, "car", "motorbike", "truck", "bicycle", "other"]
ALPHABET = "0123456789ABCDĐEFGHKLMNOPQSTUVXYZ OQILSBG-.·/аАВЕКМНОРСТХУ　３０"


def variants(raw: str) -> list[str]:
    compact = "".join(c for c in raw if c.isalnum())
    return [
        raw.lower(),
        compact,
        " ".join(raw),
        raw.replace("A", "А").replace("B", "В"),  # Cyrillic look-alikes
        raw.replace("0", "O").replace("1", "I"),  # OCR confusions
        raw.replace("-", " ").replace(".", ""),
        f"  {raw}  ",
        compact[:3] + "-" + compact[3:],
        compact[:4] + " " + compact[4:],
    ]


def cases() -> list[tuple[str, str | None]]:
    rng = random.Random(5)
    out = [(v["raw"], None) for v in VECTORS]
    for v in VECTORS:
        for raw in variants(v["raw"]):
            out.append((raw, rng.choice(CLASSES)))
    for _ in range(500):
        raw = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
        out.append((raw, rng.choice(CLASSES)))
    return out


def test_js_plate_port_matches_the_vectors_and_the_python_module(phone, rw_server):
    page = phone.new_page()
    App(page).open()
    version = page.evaluate("document.documentElement.dataset.version")
    all_cases = cases()
    results = page.evaluate(
        """async ([url, cases]) => {
            const { normalizePlate } = await import(url);
            return cases.map(([raw, vclass]) => normalizePlate(raw, vclass));
        }""",
        [f"/a/{version}/js/plate.js", all_cases],
    )
    for vector, got in zip(VECTORS, results[: len(VECTORS)], strict=True):
        expected = (vector["vehicle_class"], vector["match_key"], vector["display"] or None)
        assert (got["kind"], got["compact"], got["display"]) == expected, vector
    mismatches = []
    for (raw, vclass), got in zip(all_cases, results, strict=True):
        p = normalize_plate(raw, vclass)
        if (got["kind"], got["compact"], got["display"]) != (p.kind, p.compact, p.display):
            mismatches.append((raw, vclass, got, p))
    assert not mismatches, mismatches[:5]
    assert len(all_cases) > 800
