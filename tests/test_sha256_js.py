"""The PWA's plain-JavaScript SHA-256 (pwa/js/sha256-js.js), the hasher used where the
Content-Security-Policy keeps WebAssembly from compiling (Safari before 16): its digests
equal hashlib's for lengths around the block and padding edges, fed in uneven pieces.
Run in Node; skipped where there is no ``node``."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[1] / "pwa" / "js" / "sha256-js.js"
LENGTHS = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 70_000]

SCRIPT = """
import { createJsSha256 } from %(module)s;
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(([hex, pieces]) => {
  const data = Uint8Array.from(Buffer.from(hex, 'hex'));
  const h = createJsSha256();
  let at = 0;
  for (const n of pieces) { h.update(data.subarray(at, at + n)); at += n; }
  return h.digest('hex');
});
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="no node")
def test_js_sha256_equals_hashlib() -> None:
    rng = random.Random(17)
    cases, wanted = [], []
    for n in LENGTHS:
        data = rng.randbytes(n)
        pieces, left = [], n
        while left:
            pieces.append(min(left, rng.randint(1, 200)))
            left -= pieces[-1]
        cases.append([data.hex(), pieces])
        wanted.append(hashlib.sha256(data).hexdigest())
    script = SCRIPT % {"module": json.dumps(MODULE.as_uri())}
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout) == wanted
