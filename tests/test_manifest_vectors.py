"""One capture manifest everywhere (issue 27, item 6): the shared vectors of
tests/data/capture_manifest_vectors.json are what sync/seal.py (the clients' and the
server's one Python implementation), the server's check of a validated report
(server/services/signing.py) and the PWA's pwa/js/signing.js (in Node) all produce, byte
for byte, so the three cannot drift."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from server.services import signing
from sync import seal

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "data" / "capture_manifest_vectors.json").read_text())[
    "vectors"
]
IDS = [v["name"] for v in VECTORS]


def _body(v: dict) -> dict:
    return {"captured_at": v["captured_at"], "location": v["location"], "media": v["media"]}


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_the_client_library_builds_each_vector(v: dict) -> None:
    assert seal.manifest(v["report_id"], _body(v), v["app_version"]) == v["manifest"]


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_the_server_expects_each_vector_from_the_validated_report(v: dict) -> None:
    # The validated body holds an aware datetime, as ReportInSchema loads it.
    data = {
        **_body(v),
        "captured_at": datetime.fromisoformat(v["captured_at"].replace("Z", "+00:00")),
    }
    expected = signing.expected_manifest(v["report_id"], data, v["app_version"])
    assert seal.canonical(expected) == v["manifest"]


SCRIPT = """
import { manifestOf } from %(module)s;
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const vectors = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = vectors.map((v) => manifestOf(
  { id: v.report_id, body: { captured_at: v.captured_at, location: v.location }, media: v.media },
  v.app_version,
));
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_the_pwa_builds_each_vector() -> None:
    module = (ROOT / "pwa" / "js" / "signing.js").as_uri()
    out = subprocess.run(
        ["node", "--input-type=module", "-e", SCRIPT % {"module": json.dumps(module)}],
        input=json.dumps(VECTORS), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == [v["manifest"] for v in VECTORS]
