"""A second verifier of evidence packages, written from sync/PROTOCOL.md §8 alone (no code
shared with sync/verify.py or the server): the test suite checks that it and the reference
verifier agree on a real package and on every forgery of the tamper table.

``problems(zip_bytes, server_keys)`` returns a list of short reasons (empty: valid);
``server_keys`` maps key ids to Ed25519 public keys, or None to use the package's own.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_der_public_key

ZERO = "0" * 64


def _canon(v: Any) -> bytes:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _unb64(s: str) -> bytes:
    s = s.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _ok_name(n: str) -> bool:
    segs = n.split("/")
    return not (
        n.startswith("/") or "\\" in n or (len(n) > 1 and n[1] == ":")
        or any(s in ("", ".", "..") for s in segs)
    )  # fmt: skip


def problems(data: bytes, server_keys: dict[str, Ed25519PublicKey] | None) -> list[str]:
    out: list[str] = []
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = [i.filename for i in zf.infolist()]
    if len(set(names)) != len(names) or not all(_ok_name(n) for n in names):
        return ["refused"]
    z = {n: zf.read(n) for n in names}

    def ed25519(text: bytes, sig: dict) -> None:
        kid = sig.get("key_id", "")
        if server_keys is not None:
            key = server_keys.get(kid)
        else:
            der = _unb64(z.get(f"keys/server/{kid}.spki.b64", b"").decode())
            key = load_der_public_key(der) if der and _sha(der) == kid else None
        try:
            key.verify(_unb64(sig["signature"]), text)  # type: ignore[union-attr]
        except Exception:  # no key, or the signature fails
            out.append("server signature")

    raw = z["manifest.json"]
    man = json.loads(raw)
    ed25519(raw, json.loads(z["manifest.sig.json"]))
    cp = json.loads(z["custody/checkpoint.json"])
    ed25519(cp["signed"].encode(), cp)
    head = json.loads(cp["signed"])
    if man["chain_head"] != f"{head['seq']}:{head['hash']}":
        out.append("chain head")
    listed = set(man["files"])
    if set(z) - {"manifest.json", "manifest.sig.json"} != listed:
        out.append("file list")
    for n, meta in man["files"].items():
        if n in z and (_sha(z[n]) != meta["sha256"] or len(z[n]) != meta["size"]):
            out.append(f"hash {n}")

    entries = [json.loads(line) for line in z["custody/entries.jsonl"].decode().splitlines()]
    # answer_received entries: the files a reporter's answer declared (not in the phone's
    # signed capture manifest), media_id -> (answer_id, sha256, size), per report
    declared: dict[str, dict[str, tuple]] = {}
    for e in entries:
        if e["kind"] == "answer_received":
            c = e["content"]
            for m in c["media"]:
                declared.setdefault(e["subject"], {})[m["media_id"]] = (
                    c["answer_id"],
                    m["sha256"],
                    m["size"],
                )

    subjects = {man["case_id"]}
    for rid, b in man["reports"].items():
        subjects |= {rid, *b["media"]}
        base = f"reports/{rid}/"
        if sorted(n for n in z if n.startswith(base + "media/")) != sorted(b["files"]):
            out.append(f"files {rid}")
        rep = json.loads(z[base + "report.json"])
        for doc in (json.loads(z[base + "flags.json"]), rep):
            same = all(doc.get(k) == b[k] for k in ("signature_status", "signing_key_id", "flags"))
            if not same or [m["media_id"] for m in doc["media"]] != b["media"]:
                out.append(f"binding {rid}")
        answered = declared.get(rid, {})
        for n in b["files"]:
            d = answered.get(n.split("/")[-1].split(".")[0])
            if d is not None and n in z and (_sha(z[n]), len(z[n])) != d[1:]:
                out.append(f"answer file {n}")
        if b["signature_status"] != "valid":
            continue
        text = z[base + "capture_manifest.txt"]
        der = _unb64(z[f"keys/{b['signing_key_id']}.spki.b64"].decode())
        sig = _unb64(z[base + "capture_signature.txt"].decode())
        try:
            assert _sha(der) == b["signing_key_id"]
            load_der_public_key(der).verify(  # type: ignore[call-arg]
                encode_dss_signature(int.from_bytes(sig[:32]), int.from_bytes(sig[32:])),
                text,
                ec.ECDSA(SHA256()),
            )
        except Exception:
            out.append(f"capture signature {rid}")
        signed = json.loads(text)
        six = Decimal("0.000001")
        loc = rep["location"]
        mine = {
            "report_id": rid,
            "captured_at": rep["captured_at"][:23] + "Z",
            "lat": str(Decimal(loc["lat"]).quantize(six, ROUND_HALF_UP)),
            "lon": str(Decimal(loc["lon"]).quantize(six, ROUND_HALF_UP)),
            "source": loc["source"],
            "media": [
                [m["media_id"], m["sha256"], m["size"]]
                for m in rep["media"]
                if m.get("answer_id") is None
            ],
        }
        theirs = {
            "report_id": signed["report_id"],
            "captured_at": signed["captured_at"],
            **signed["location"],
            "media": [[m["media_id"], m["sha256"], m["size"]] for m in signed["media"]],
        }
        if mine != theirs or any(
            answered.get(m["media_id"]) != (m["answer_id"], m["sha256"], m["size"])
            for m in rep["media"]
            if m.get("answer_id") is not None
        ):
            out.append(f"capture manifest {rid}")
        for m in signed["media"]:
            found = [n for n in b["files"] if n.split("/")[-1].split(".")[0] == m["media_id"]]
            for n in found:
                if _sha(z[n]) != m["sha256"] or len(z[n]) != m["size"]:
                    out.append(f"sealed {n}")
        sealed_ids = {m["media_id"] for m in signed["media"]}
        sealed_ids |= set(answered)
        if any(n.split("/")[-1].split(".")[0] not in sealed_ids for n in b["files"]):
            out.append(f"unsealed file {rid}")

    trail: dict[str, dict] = {}
    before: dict | None = None
    top = 1
    for e in entries:
        keys = ["at", "content", "kind", "prev_hash", "seq", "subject"]
        if e.get("v", 1) >= 2:
            keys += ["subject_prev_hash", "v"]
        if _sha(_canon({k: e.get(k) for k in keys})) != e["hash"] or e.get("v", 1) < top:
            out.append(f"entry {e['seq']}")
        top = max(top, e.get("v", 1))
        if before and (
            e["seq"] <= before["seq"]
            or (e["seq"] == before["seq"] + 1 and e["prev_hash"] != before["hash"])
        ):
            out.append(f"link {e['seq']}")
        if (e["seq"] == 1 and e["prev_hash"] != ZERO) or e["seq"] > head["seq"]:
            out.append(f"link {e['seq']}")
        if e["seq"] == head["seq"] and e["hash"] != head["hash"]:
            out.append(f"head {e['seq']}")
        s = e["subject"]
        if s is not None:
            prev = trail.get(s)
            if s not in subjects or e["subject_prev_hash"] != (prev["hash"] if prev else ZERO):
                out.append(f"trail {e['seq']}")
            trail[s] = e
        before = e
    if {s: f"{e['seq']}:{e['hash']}" for s, e in trail.items()} != man["trails"]:
        out.append("trail heads")
    receipts = {
        (e["content"]["media_id"], e["content"]["sha256"])
        for e in entries
        if e["kind"] == "evidence_received"
    }
    for n in z:
        if "/media/" in n and (n.split("/")[-1].split(".")[0], _sha(z[n])) not in receipts:
            out.append(f"receipt {n}")
    about_case = [e for e in entries if e["subject"] == man["case_id"]]
    special = {
        "penalty": ("case_penalty_issued", "detail", "penalty_no"),
        "split": ("report_split", "report_id", "report_id"),
        "reopen": ("case_reopened", None, None),
        "forward": ("case_forwarded", None, None),
        "merge": ("cases_merged", None, None),
    }
    for d in json.loads(z["decisions.json"]):
        kind, field, mine_field = special.get(
            d["kind"], (f"case_{d['kind']}", "detail", "reason_code")
        )
        hit = next(
            (
                e for e in about_case
                if e["kind"] == kind
                and (field is None or e["content"].get(field) == d.get(mine_field))
            ),
            None,
        )  # fmt: skip
        if hit is None:
            out.append(f"decision {d['kind']}")
        else:
            about_case.remove(hit)
    for a in json.loads(z["answers.json"]):
        backed = any(
            e["kind"] == "answer_received"
            and e["subject"] == a["report_id"]
            and e["content"]["answer_id"] == a["answer_id"]
            for e in entries
        )
        got = declared.get(a["report_id"], {})
        if not backed or any(got.get(m, (None,))[0] != a["answer_id"] for m in a["media_ids"]):
            out.append(f"answer {a['answer_id']}")
    return out
