"""Check an evidence package offline: ``python -m sync.verify package.zip``.

Standard library plus ``cryptography``; it shares no code with the server (its own
reading of sync/PROTOCOL.md §8). Checks:

* ``manifest.json`` lists every other file of the zip, each with the right SHA-256 and
  size (a listed file that is missing, or a file that is not listed, is a problem);
* each original file's hash and size against its report's signed capture manifest (a
  file of a reporter's answer to a request for information: against its declaration in
  the custody trail's ``answer_received`` entry, whose own hash the chain check covers);
* each signed manifest's signature (ECDSA P-256, SHA-256) against the device key in
  ``keys/``, whose name must be the SHA-256 of its SPKI DER bytes;
* each custody entry's own hash, and the link (``prev_hash``) between entries with
  consecutive seqs.

What it proves: the files are the ones the device sealed at capture (for a report whose
seal is valid), and the package's custody entries are consistent with each other.
What it does not: the package holds only the case's entries, so links are checked only
between consecutive seqs; a chain cut or rewritten after the export can only be detected
against a head published elsewhere (``flask --app wsgi audit head``, the yearly review
workbook) compared with ``chain_head`` of manifest.json. A report the server received
unsigned (or with an invalid seal) is listed as a note: its files are only as trustworthy
as the server's receipt.

Prints one line per problem naming the item, then ``HỢP LỆ / VALID`` (exit 0) or
``KHÔNG HỢP LỆ / INVALID`` (exit 1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
import zipfile
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MANIFEST = "manifest.json"
GENESIS = "0" * 64


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _b64(text: str) -> bytes:
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: entry.get(k) for k in ("at", "content", "kind", "prev_hash", "seq", "subject")}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


class Checker:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.names = {i.filename for i in zf.infolist() if not i.is_dir()}

    def problem(self, item: str, what: str) -> None:
        self.problems.append(f"{item}: {what}")

    def read(self, name: str) -> bytes | None:
        return self.zf.read(name) if name in self.names else None

    def run(self) -> None:
        raw = self.read(MANIFEST)
        if raw is None:
            self.problem(MANIFEST, "missing")
            return
        try:
            manifest = json.loads(raw)
            files = dict(manifest["files"])
        except (ValueError, KeyError, TypeError):
            self.problem(MANIFEST, "not a package manifest")
            return
        self.files(files)
        self.reports()
        self.custody(str(manifest.get("chain_head") or ""))

    def files(self, files: dict[str, Any]) -> None:
        for name in sorted(self.names - set(files) - {MANIFEST}):
            self.problem(name, "not listed in manifest.json (added?)")
        for name, meta in sorted(files.items()):
            data = self.read(name)
            if data is None:
                self.problem(name, "listed in manifest.json but missing")
            elif hashlib.sha256(data).hexdigest() != meta.get("sha256") or len(data) != meta.get(
                "size"
            ):
                self.problem(name, "SHA-256 or size differs from manifest.json (changed?)")

    def reports(self) -> None:
        for flags_name in sorted(n for n in self.names if n.endswith("/flags.json")):
            base = flags_name[: -len("flags.json")]
            try:
                flags = json.loads(self.zf.read(flags_name))
            except ValueError:
                self.problem(flags_name, "not JSON")
                continue
            self.report(base, flags)

    def report(self, base: str, flags: dict[str, Any]) -> None:
        manifest_name, sig_name = base + "capture_manifest.txt", base + "capture_signature.txt"
        files = {
            n.rsplit("/", 1)[1].split(".", 1)[0]: n
            for n in self.names
            if n.startswith(base + "media/")
        }
        text, sig = self.read(manifest_name), self.read(sig_name)
        status = flags.get("signature_status")
        if status != "valid":
            self.notes.append(
                f"{base.rstrip('/')}: not sealed at capture ({status}); "
                "its files rest on the server's receipt only"
            )
            return
        if text is None or sig is None:
            self.problem(manifest_name if text is None else sig_name, "missing")
            return
        try:
            signed = json.loads(text.decode("utf-8"))
            sealed = {m["media_id"]: m for m in signed["media"]}
        except (ValueError, KeyError, TypeError):
            self.problem(manifest_name, "not a capture manifest")
            return
        self.signature(sig_name, text, sig, str(flags.get("signing_key_id") or ""))
        if signed.get("report_id") != base.split("/")[1]:
            self.problem(manifest_name, "signed for another report")
        for media_id, entry in sealed.items():
            name = files.get(media_id)
            if name is None:
                if any(
                    m.get("media_id") == media_id
                    and m.get("file") is None
                    and m.get("received_at") is None
                    for m in flags.get("media", [])
                ):
                    self.notes.append(f"{base}media/{media_id}: not received by the server")
                else:
                    self.problem(f"{base}media/{media_id}", "sealed file missing")
                continue
            data = self.zf.read(name)
            if hashlib.sha256(data).hexdigest() != entry.get("sha256") or len(data) != entry.get(
                "size"
            ):
                self.problem(name, "differs from the file sealed at capture")
        answered = self.answer_files()
        for media_id, name in files.items():
            if media_id in sealed:
                continue
            declared = answered.get(media_id)
            if declared is None:
                self.problem(name, "not in the report's signed manifest")
                continue
            # A file of the reporter's answer to a request for information: declared in
            # the custody trail's answer_received entry (its hash is checked there).
            data = self.zf.read(name)
            if (hashlib.sha256(data).hexdigest(), len(data)) != declared:
                self.problem(name, "differs from the file declared with the answer")

    def answer_files(self) -> dict[str, tuple[str, int]]:
        """``media_id -> (sha256, size)`` of the files declared by the reporters' answers
        (``answer_received`` entries of custody/entries.jsonl)."""
        out: dict[str, tuple[str, int]] = {}
        raw = self.read("custody/entries.jsonl")
        for line in (raw or b"").decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
                if entry.get("kind") != "answer_received":
                    continue
                for m in entry["content"]["media"]:
                    out[str(m["media_id"])] = (str(m["sha256"]), int(m["size"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # the chain check names a damaged entry
        return out

    def signature(self, sig_name: str, text: bytes, sig: bytes, key_id: str) -> None:
        key_name = f"keys/{key_id}.spki.b64"
        spki = self.read(key_name)
        if spki is None:
            self.problem(key_name, "device key missing")
            return
        try:
            der = _b64(spki.decode("ascii"))
            key = serialization.load_der_public_key(der)
        except (ValueError, UnicodeDecodeError, binascii.Error, UnsupportedAlgorithm):
            self.problem(key_name, "not a public key")
            return
        if hashlib.sha256(der).hexdigest() != key_id:
            self.problem(key_name, "key id is not the SHA-256 of the key")
            return
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            self.problem(key_name, "not an ECDSA P-256 key")
            return
        try:
            raw = _b64(sig.decode("ascii"))
            if len(raw) != 64:
                raise ValueError
            der_sig = encode_dss_signature(
                int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
            )
            key.verify(der_sig, text, ec.ECDSA(hashes.SHA256()))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidSignature):
            self.problem(sig_name, "signature of capture_manifest.txt does not verify")

    def custody(self, head_text: str) -> None:
        name = "custody/entries.jsonl"
        head_seq, _, head_hash = head_text.partition(":")
        if not head_seq.isdigit() or len(head_hash) != 64:
            self.problem(f"{MANIFEST} chain_head", "not SEQ:HASH")
            head_seq, head_hash = "0", ""
        raw = self.read(name)
        if raw is None:
            self.problem(name, "missing")
            return
        prev: dict[str, Any] | None = None
        for line_no, line in enumerate(raw.decode("utf-8").splitlines(), 1):
            try:
                entry = json.loads(line)
                seq = int(entry["seq"])
            except (ValueError, KeyError, TypeError):
                self.problem(f"{name} line {line_no}", "not an entry")
                continue
            item = f"custody entry seq {seq}"
            if entry_hash(entry) != entry.get("hash"):
                self.problem(item, "does not match its hash (edited?)")
            if seq == 1 and entry.get("prev_hash") != GENESIS:
                self.problem(item, "first entry does not start the chain")
            if prev is not None:
                if seq <= prev["seq"]:
                    self.problem(item, "out of order")
                elif seq == prev["seq"] + 1 and entry.get("prev_hash") != prev.get("hash"):
                    self.problem(item, f"does not link to seq {prev['seq']} (prev_hash differs)")
            if seq > int(head_seq) or (seq == int(head_seq) and entry.get("hash") != head_hash):
                self.problem(item, "does not fit the chain_head of manifest.json")
            prev = {"seq": seq, "hash": entry.get("hash")}


def verify(path: str) -> tuple[list[str], list[str]]:
    """The problems and notes of the package at ``path``."""
    try:
        with zipfile.ZipFile(path) as zf:
            checker = Checker(zf)
            checker.run()
    except (OSError, zipfile.BadZipFile) as exc:
        return [f"{path}: not a readable zip ({exc})"], []
    return checker.problems, checker.notes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sync.verify package.zip", file=sys.stderr)
        return 2
    problems, notes = verify(args[0])
    for note in notes:
        print(f"Ghi chú / note: {note}")
    for problem in problems:
        print(problem)
    print("KHÔNG HỢP LỆ / INVALID" if problems else "HỢP LỆ / VALID")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
