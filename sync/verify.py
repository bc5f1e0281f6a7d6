"""Check an evidence package offline: ``python -m sync.verify [--server-key FILE] package.zip``.

Standard library plus ``cryptography``; it shares no code with the server (its own
reading of sync/PROTOCOL.md §8). In order:

1. the zip itself: a member name that is absolute, climbs out (``..``), uses ``\\`` or is
   there twice refuses the package outright (nothing else is read);
2. the server's signature (Ed25519) of ``manifest.json``, with the key given by
   ``--server-key`` (a PEM or base64 SPKI public key, or the server's published key list)
   or else the package's own ``keys/server/<key_id>.spki.b64`` (the output says which);
   and of ``custody/checkpoint.json``, whose head must be ``chain_head``;
3. every file listed in ``manifest.json`` with its SHA-256 and size, and no other;
4. each report against the signed manifest (its seal status, device key id, flags, files),
   each sealed file against the phone's signed capture manifest, that manifest's
   signature (ECDSA P-256) against the device key in ``keys/``, and ``report.json``'s
   time, place and files against what the phone signed; a file of a reporter's answer to
   a request for information (``answer_id`` in report.json, issue 26) is not in that
   manifest: it is checked against its declaration in the report's ``answer_received``
   custody entry (whose own hash the chain check covers), and ``answers.json`` against
   those entries;
5. the custody entries: each hash, the global links between consecutive seqs, each
   subject's trail from its first entry (``subject_prev_hash``), each trail's last entry
   against the signed manifest's ``trails``, nothing past the signed checkpoint; every
   original file has its receipt entry with its SHA-256; every decision of
   ``decisions.json`` has its custody entry.

Prints one line per finding, ``item: Vietnamese / English``, then ``HỢP LỆ / VALID``
(exit 0) or ``KHÔNG HỢP LỆ / INVALID`` (exit 1); exit 2 for a usage error (a missing
argument, a key file that cannot be read).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"
ENTRIES = "custody/entries.jsonl"
CHECKPOINT = "custody/checkpoint.json"
GENESIS = "0" * 64
FORMAT = "roadwatch-evidence-package"
VERSION = 2
EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

# What each finding says: (Vietnamese, English).
MESSAGES: dict[str, tuple[str, str]] = {
    "unreadable": ("không đọc được tệp zip", "not a readable zip"),
    "unsafe_name": (
        "tên tệp không an toàn (đường dẫn tuyệt đối, '..' hoặc '\\'): từ chối cả gói",
        "unsafe member name (absolute, '..' or '\\'): package refused",
    ),
    "duplicate_name": (
        "tên tệp xuất hiện hai lần trong zip: từ chối cả gói",
        "member name appears twice in the zip: package refused",
    ),
    "missing": ("thiếu", "missing"),
    "not_manifest": ("không phải bản kê của gói", "not a package manifest"),
    "old_format": (
        "định dạng cũ, không có chữ ký của máy chủ",
        "older format, not signed by the server",
    ),
    "server_key_bad": (
        "không phải khóa Ed25519, hoặc tên khóa không phải SHA-256 của khóa",
        "not an Ed25519 key, or its name is not the key's SHA-256",
    ),
    "server_key_other": (
        "ký bằng khóa khác với khóa máy chủ đã cho (khóa bị thay?)",
        "signed with a key other than the server key given (key swapped?)",
    ),
    "server_signature": (
        "chữ ký của máy chủ không khớp (bị sửa?)",
        "the server's signature does not verify (changed?)",
    ),
    "checkpoint_bad": (
        "không phải điểm kiểm tra đã ký của chuỗi",
        "not a signed checkpoint of the chain",
    ),
    "checkpoint_head": (
        "chain_head khác với điểm kiểm tra đã ký",
        "chain_head differs from the signed checkpoint",
    ),
    "unlisted": ("không có trong manifest.json (bị thêm?)", "not listed in manifest.json (added?)"),
    "listed_missing": (
        "có trong manifest.json nhưng thiếu (bị xóa?)",
        "listed in manifest.json but missing (removed?)",
    ),
    "file_changed": (
        "SHA-256 hoặc kích thước khác với manifest.json (bị sửa?)",
        "SHA-256 or size differs from manifest.json (changed?)",
    ),
    "not_json": ("không phải JSON", "not JSON"),
    "binding": (
        "khác với bản kê máy chủ đã ký (khóa thiết bị, niêm phong, cờ hoặc tệp)",
        "differs from the server-signed manifest (device key, seal, flags or files)",
    ),
    "report_unknown": (
        "báo cáo không có trong bản kê máy chủ đã ký",
        "report not in the server-signed manifest",
    ),
    "file_not_bound": (
        "tệp không thuộc báo cáo trong bản kê máy chủ đã ký (bị thêm?)",
        "file not among the report's files in the server-signed manifest (added?)",
    ),
    "device_key_missing": ("thiếu khóa của thiết bị", "device key missing"),
    "device_key_bad": ("không phải khóa công khai", "not a public key"),
    "device_key_id": (
        "tên khóa không phải SHA-256 của khóa",
        "key id is not the SHA-256 of the key",
    ),
    "device_key_curve": ("không phải khóa ECDSA P-256", "not an ECDSA P-256 key"),
    "capture_signature": (
        "chữ ký của thiết bị trên capture_manifest.txt không khớp",
        "signature of capture_manifest.txt does not verify",
    ),
    "capture_not_manifest": ("không phải bản kê lúc chụp", "not a capture manifest"),
    "capture_other_report": ("được ký cho báo cáo khác", "signed for another report"),
    "sealed_missing": ("thiếu tệp đã niêm phong lúc chụp", "sealed file missing"),
    "sealed_changed": (
        "khác với tệp đã niêm phong lúc chụp",
        "differs from the file sealed at capture",
    ),
    "not_sealed": (
        "không có trong bản kê đã ký lúc chụp",
        "not in the report's signed manifest",
    ),
    "answer_changed": (
        "khác với tệp người báo đã khai khi trả lời (mục answer_received)",
        "differs from the file declared with the answer (answer_received entry)",
    ),
    "answer_unbacked": (
        "câu trả lời không có mục answer_received tương ứng trong chuỗi lưu giữ (giả mạo?)",
        "answer without its answer_received custody entry (forged?)",
    ),
    "report_time": (
        "thời điểm khác với thời điểm điện thoại đã ký",
        "time differs from what the phone signed",
    ),
    "report_place": (
        "vị trí khác với vị trí điện thoại đã ký",
        "place differs from what the phone signed",
    ),
    "report_files": (
        "danh sách tệp khác với danh sách điện thoại đã ký",
        "files differ from what the phone signed",
    ),
    "entry_bad": ("không phải một mục", "not an entry"),
    "entry_hash": ("không khớp mã băm của nó (bị sửa?)", "does not match its hash (edited?)"),
    "entry_first": ("mục đầu không bắt đầu chuỗi", "first entry does not start the chain"),
    "entry_order": ("sai thứ tự", "out of order"),
    "entry_link": (
        "không nối với mục liền trước (prev_hash khác)",
        "does not link to the entry before it (prev_hash differs)",
    ),
    "entry_version": (
        "băm theo cách cũ sau các mục mới (bị băm lại?)",
        "hashed the old way after newer entries (re-hashed?)",
    ),
    "entry_past_head": (
        "nằm sau đầu chuỗi đã ký",
        "past the signed chain head",
    ),
    "entry_head": (
        "khác với đầu chuỗi đã ký (bị băm lại?)",
        "differs from the signed chain head (re-hashed?)",
    ),
    "trail_link": (
        "không nối với mục trước về cùng đối tượng (mục bị xóa, đảo thứ tự hoặc băm lại?)",
        "does not link to the previous entry about its subject (deleted, reordered or re-hashed?)",
    ),
    "trail_head": (
        "mục cuối khác với bản kê máy chủ đã ký (bị cắt hoặc băm lại?)",
        "last entry differs from the server-signed manifest (cut or re-hashed?)",
    ),
    "trail_outside": (
        "mục về đối tượng không thuộc vụ việc",
        "entry about a subject that is not part of this case",
    ),
    "file_no_receipt": (
        "không có biên nhận nào trong chuỗi lưu giữ khớp SHA-256 của tệp (bị sửa hoặc thêm?)",
        "no custody receipt (evidence_received) with this file's SHA-256 (changed or added?)",
    ),
    "decision_unbacked": (
        "quyết định không có mục tương ứng trong chuỗi lưu giữ (giả mạo?)",
        "decision without its custody entry (forged?)",
    ),
    # Notes: not problems.
    "note_unsigned": (
        "không niêm phong lúc chụp; tệp chỉ dựa vào việc máy chủ nhận",
        "not sealed at capture; its files rest on the server's receipt only",
    ),
    "note_not_received": ("máy chủ chưa nhận tệp này", "not received by the server"),
}

# decisions.json kind -> the custody entry kind that records it, and the content field
# that must equal the decision's field (PROTOCOL §8).
DECISION_ENTRIES: dict[str, tuple[str, str | None, str | None]] = {
    "penalty": ("case_penalty_issued", "detail", "penalty_no"),
    "reopen": ("case_reopened", None, None),
    "split": ("report_split", "report_id", "report_id"),
    "forward": ("case_forwarded", None, None),
    "merge": ("cases_merged", None, None),
}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _b64(text: str) -> bytes:
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _fixed6(x: Any) -> str:
    return str(Decimal(float(x)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def entry_hash(entry: dict[str, Any]) -> str:
    """An entry's hash: v2 covers ``subject_prev_hash`` and ``v``, v1 does not."""
    keys = ["at", "content", "kind", "prev_hash", "seq", "subject"]
    if entry.get("v", 1) >= 2:
        keys += ["subject_prev_hash", "v"]
    body = {k: entry.get(k) for k in keys}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def unsafe_name(name: str) -> bool:
    """An absolute path, a drive, a backslash, a ``..`` or empty segment, a NUL."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return True
    if len(name) > 1 and name[1] == ":":
        return True
    parts = name.rstrip("/").split("/")
    return any(p in ("", ".", "..") for p in parts)


def load_server_keys(path: str) -> dict[str, Ed25519PublicKey]:
    """The server keys in ``path``: the published list (JSON), a PEM public key or a
    base64 SPKI DER; by key id. ValueError when none is there."""
    with open(path, "rb") as fh:
        raw = fh.read()
    ders: list[bytes] = []
    text = raw.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        doc = json.loads(text)
        ders = [_b64(str(k["spki"])) for k in doc.get("keys", [])]
    elif text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(raw)
        ders = [
            key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ]
    else:
        ders = [_b64(text)]
    keys: dict[str, Ed25519PublicKey] = {}
    for der in ders:
        key = serialization.load_der_public_key(der)
        if isinstance(key, Ed25519PublicKey):
            keys[hashlib.sha256(der).hexdigest()] = key
    if not keys:
        raise ValueError("no Ed25519 public key in the file")
    return keys


class Checker:
    def __init__(
        self, zf: zipfile.ZipFile, server_keys: dict[str, Ed25519PublicKey] | None = None
    ) -> None:
        self.zf = zf
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.given_keys = server_keys
        self.key_source = ""
        self.names = {i.filename for i in zf.infolist() if not i.is_dir()}
        self.server_key: Ed25519PublicKey | None = None

    def problem(self, item: str, code: str, extra: str = "") -> None:
        vi, en = MESSAGES[code]
        self.problems.append(f"{item}: {vi}{extra} / {en}{extra}")

    def note(self, item: str, code: str) -> None:
        vi, en = MESSAGES[code]
        self.notes.append(f"{item}: {vi} / {en}")

    def read(self, name: str) -> bytes | None:
        return self.zf.read(name) if name in self.names else None

    def json_of(self, name: str) -> Any:
        raw = self.read(name)
        if raw is None:
            self.problem(name, "missing")
            return None
        try:
            return json.loads(raw)
        except ValueError:
            self.problem(name, "not_json")
            return None

    # ------------------------------------------------------------------ the whole package

    def run(self) -> None:
        raw = self.read(MANIFEST)
        if raw is None:
            self.problem(MANIFEST, "missing")
            return
        try:
            manifest = json.loads(raw)
            files = dict(manifest["files"])
        except (ValueError, KeyError, TypeError):
            self.problem(MANIFEST, "not_manifest")
            return
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            self.problem(MANIFEST, "old_format")
            return
        self.server_signature(raw)
        self.files(files)
        head = self.checkpoint(str(manifest.get("chain_head") or ""))
        bindings = manifest.get("reports") or {}
        media_ids = self.reports(bindings)
        subjects = {str(manifest.get("case_id"))} | set(bindings) | media_ids
        entries = self.custody(head, manifest.get("trails") or {}, subjects)
        self.receipts(entries)
        self.decisions(str(manifest.get("case_id")), entries)
        self.answers()

    def _key_for(self, key_id: str, item: str) -> Ed25519PublicKey | None:
        if self.given_keys is not None:
            key = self.given_keys.get(key_id)
            if key is None:
                self.problem(item, "server_key_other")
            return key
        name = f"keys/server/{key_id}.spki.b64"
        data = self.read(name)
        if data is None:
            self.problem(name, "missing")
            return None
        try:
            der = _b64(data.decode("ascii"))
            key = serialization.load_der_public_key(der)
        except (ValueError, UnicodeDecodeError, binascii.Error, UnsupportedAlgorithm):
            key, der = None, b""
        if not isinstance(key, Ed25519PublicKey) or hashlib.sha256(der).hexdigest() != key_id:
            self.problem(name, "server_key_bad")
            return None
        return key

    def _signed_by_server(self, data: bytes, sig: Any, item: str) -> bool:
        try:
            key_id, value = str(sig["key_id"]), str(sig["signature"])
        except (KeyError, TypeError):
            self.problem(item, "server_signature")
            return False
        key = self._key_for(key_id, item)
        if key is None:
            return False
        try:
            key.verify(_b64(value), data)
        except (InvalidSignature, ValueError, binascii.Error):
            self.problem(item, "server_signature")
            return False
        if not self.key_source:
            self.key_source = key_id
        return True

    def server_signature(self, raw: bytes) -> None:
        sig = self.json_of(SIGNATURE)
        if sig is not None:
            self._signed_by_server(raw, sig, SIGNATURE)

    def checkpoint(self, chain_head: str) -> tuple[int, str]:
        signed = self.json_of(CHECKPOINT)
        try:
            text = str(signed["signed"])
            body = json.loads(text)
            head = (int(body["seq"]), str(body["hash"]))
            assert body.get("format") == "roadwatch-checkpoint"
        except (KeyError, TypeError, ValueError, AssertionError):
            if signed is not None:
                self.problem(CHECKPOINT, "checkpoint_bad")
            return (0, "")
        self._signed_by_server(text.encode("utf-8"), signed, CHECKPOINT)
        if chain_head != f"{head[0]}:{head[1]}":
            self.problem(f"{MANIFEST} chain_head", "checkpoint_head")
        return head

    def files(self, files: dict[str, Any]) -> None:
        for name in sorted(self.names - set(files) - {MANIFEST, SIGNATURE}):
            self.problem(name, "unlisted")
        for name, meta in sorted(files.items()):
            data = self.read(name)
            if data is None:
                self.problem(name, "listed_missing")
            elif hashlib.sha256(data).hexdigest() != meta.get("sha256") or len(data) != meta.get(
                "size"
            ):
                self.problem(name, "file_changed")

    # ------------------------------------------------------------------ reports

    def reports(self, bindings: dict[str, Any]) -> set[str]:
        """Check each report; returns the media ids of the case's reports."""
        found = {n.split("/")[1] for n in self.names if n.startswith("reports/")}
        media: set[str] = set()
        for rid in sorted(found - set(bindings)):
            self.problem(f"reports/{rid}", "report_unknown")
        for rid, binding in sorted(bindings.items()):
            media |= set(binding.get("media") or [])
            self.report(f"reports/{rid}/", rid, binding)
        return media

    def report(self, base: str, rid: str, binding: dict[str, Any]) -> None:
        files = {n for n in self.names if n.startswith(base + "media/")}
        for name in sorted(files - set(binding.get("files") or [])):
            self.problem(name, "file_not_bound")
        by_id = {n.rsplit("/", 1)[1].split(".", 1)[0]: n for n in files}
        flags = self.json_of(base + "flags.json")
        data = self.json_of(base + "report.json")
        if flags is None or data is None:
            return
        bound = {k: binding.get(k) for k in ("signature_status", "signing_key_id", "flags")}
        for name, got in ((base + "flags.json", flags), (base + "report.json", data)):
            if {k: got.get(k) for k in bound} != bound or [
                m.get("media_id") for m in got.get("media", [])
            ] != binding.get("media"):
                self.problem(name, "binding")
        answered = self.answer_files(rid)
        for media_id, name in sorted(by_id.items()):
            declared = answered.get(media_id)
            if declared is None:
                continue
            blob = self.zf.read(name)
            if (hashlib.sha256(blob).hexdigest(), len(blob)) != declared[1:]:
                self.problem(name, "answer_changed")
        status = binding.get("signature_status")
        if status != "valid":
            self.note(base.rstrip("/"), "note_unsigned")
            return
        manifest_name, sig_name = base + "capture_manifest.txt", base + "capture_signature.txt"
        text, sig = self.read(manifest_name), self.read(sig_name)
        if text is None or sig is None:
            self.problem(manifest_name if text is None else sig_name, "missing")
            return
        try:
            signed = json.loads(text.decode("utf-8"))
            sealed = {m["media_id"]: m for m in signed["media"]}
        except (ValueError, KeyError, TypeError):
            self.problem(manifest_name, "capture_not_manifest")
            return
        self.capture_signature(sig_name, text, sig, str(binding.get("signing_key_id") or ""))
        if signed.get("report_id") != rid:
            self.problem(manifest_name, "capture_other_report")
        self.report_data(base + "report.json", data, signed, answered)
        for media_id, entry in sealed.items():
            name = by_id.get(media_id)
            if name is None:
                if any(
                    m.get("media_id") == media_id
                    and m.get("file") is None
                    and m.get("received_at") is None
                    for m in flags.get("media", [])
                ):
                    self.note(f"{base}media/{media_id}", "note_not_received")
                else:
                    self.problem(f"{base}media/{media_id}", "sealed_missing")
                continue
            blob = self.zf.read(name)
            if hashlib.sha256(blob).hexdigest() != entry.get("sha256") or len(blob) != entry.get(
                "size"
            ):
                self.problem(name, "sealed_changed")
        for media_id, name in by_id.items():
            if media_id not in sealed and media_id not in answered:
                self.problem(name, "not_sealed")

    def answer_files(self, rid: str) -> dict[str, tuple[str, str, int]]:
        """``media_id -> (answer_id, sha256, size)`` of the files that the reporter's answers
        about report ``rid`` declared (its ``answer_received`` custody entries)."""
        out: dict[str, tuple[str, str, int]] = {}
        for entry in self.entries_of_kind("answer_received"):
            try:
                content = entry["content"]
                if entry.get("subject") != rid:
                    continue
                for m in content["media"]:
                    out[str(m["media_id"])] = (
                        str(content["answer_id"]),
                        str(m["sha256"]),
                        int(m["size"]),
                    )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # the chain check names a damaged entry
        return out

    def entries_of_kind(self, kind: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        raw = self.read(ENTRIES)
        for line in (raw or b"").decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # the chain check names a damaged entry
            if isinstance(entry, dict) and entry.get("kind") == kind:
                out.append(entry)
        return out

    def answers(self) -> None:
        """answers.json against the ``answer_received`` custody entries."""
        given = self.json_of("answers.json")
        if not isinstance(given, list):
            return
        declared: dict[tuple[Any, Any], set[Any]] = {}
        for entry in self.entries_of_kind("answer_received"):
            content = entry.get("content")
            if isinstance(content, dict):
                media = content.get("media") if isinstance(content.get("media"), list) else []
                declared[(content.get("answer_id"), entry.get("subject"))] = {
                    m.get("media_id") for m in media if isinstance(m, dict)
                }
        for n, answer in enumerate(given):
            got = declared.get((answer.get("answer_id"), answer.get("report_id")))
            if got is None or not set(answer.get("media_ids") or []) <= got:
                self.problem(f"answers.json #{n + 1}", "answer_unbacked")

    def report_data(
        self,
        name: str,
        data: dict[str, Any],
        signed: dict[str, Any],
        answered: dict[str, tuple[str, str, int]],
    ) -> None:
        """report.json's time, place and files against the phone's signed manifest; its
        answer files (``answer_id`` set) against their ``answer_received`` declarations."""
        at = str(data.get("captured_at") or "")
        if at[:23] + "Z" != signed.get("captured_at"):
            self.problem(name, "report_time")
        loc, sloc = data.get("location") or {}, signed.get("location") or {}
        try:
            place = (_fixed6(loc.get("lat")), _fixed6(loc.get("lon")), loc.get("source"))
        except (TypeError, ValueError, ArithmeticError):
            place = None
        if place != (sloc.get("lat"), sloc.get("lon"), sloc.get("source")):
            self.problem(name, "report_place")
        media = data.get("media", [])
        mine = [
            (m.get("media_id"), m.get("sha256"), m.get("size"))
            for m in media
            if m.get("answer_id") is None
        ]
        theirs = [(m.get("media_id"), m.get("sha256"), m.get("size")) for m in signed["media"]]
        extra = [
            (m.get("media_id"), (m.get("answer_id"), m.get("sha256"), m.get("size")))
            for m in media
            if m.get("answer_id") is not None
        ]
        if mine != theirs or any(answered.get(mid) != decl for mid, decl in extra):
            self.problem(name, "report_files")

    def capture_signature(self, sig_name: str, text: bytes, sig: bytes, key_id: str) -> None:
        key_name = f"keys/{key_id}.spki.b64"
        spki = self.read(key_name)
        if spki is None:
            self.problem(key_name, "device_key_missing")
            return
        try:
            der = _b64(spki.decode("ascii"))
            key = serialization.load_der_public_key(der)
        except (ValueError, UnicodeDecodeError, binascii.Error, UnsupportedAlgorithm):
            self.problem(key_name, "device_key_bad")
            return
        if hashlib.sha256(der).hexdigest() != key_id:
            self.problem(key_name, "device_key_id")
            return
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            self.problem(key_name, "device_key_curve")
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
            self.problem(sig_name, "capture_signature")

    # ------------------------------------------------------------------ custody

    def custody(
        self, head: tuple[int, str], trails: dict[str, Any], subjects: set[str]
    ) -> list[dict[str, Any]]:
        raw = self.read(ENTRIES)
        if raw is None:
            self.problem(ENTRIES, "missing")
            return []
        entries: list[dict[str, Any]] = []
        prev: dict[str, Any] | None = None
        last: dict[str, dict[str, Any]] = {}
        newest = 1
        for line_no, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            try:
                entry = json.loads(line)
                seq = int(entry["seq"])
                version = int(entry.get("v", 1))
            except (ValueError, KeyError, TypeError):
                self.problem(f"{ENTRIES} line {line_no}", "entry_bad")
                continue
            item = f"custody entry seq {seq}"
            entries.append(entry)
            if entry_hash(entry) != entry.get("hash"):
                self.problem(item, "entry_hash")
            if version < newest:
                self.problem(item, "entry_version")
            newest = max(newest, version)
            if seq == 1 and entry.get("prev_hash") != GENESIS:
                self.problem(item, "entry_first")
            if prev is not None:
                if seq <= prev["seq"]:
                    self.problem(item, "entry_order")
                elif seq == prev["seq"] + 1 and entry.get("prev_hash") != prev.get("hash"):
                    self.problem(item, "entry_link")
            if seq > head[0]:
                self.problem(item, "entry_past_head")
            elif seq == head[0] and entry.get("hash") != head[1]:
                self.problem(item, "entry_head")
            subject = entry.get("subject")
            if subject is not None:
                if subject not in subjects:
                    self.problem(item, "trail_outside")
                before = last.get(subject)
                want = before.get("hash") if before else GENESIS
                if entry.get("subject_prev_hash") != want or (
                    before is not None and seq <= before["seq"]
                ):
                    self.problem(item, "trail_link")
                last[subject] = {"seq": seq, "hash": entry.get("hash")}
            prev = {"seq": seq, "hash": entry.get("hash")}
        for subject in sorted(set(trails) | set(last)):
            got = last.get(subject)
            if got is None or trails.get(subject) != f"{got['seq']}:{got['hash']}":
                self.problem(f"custody trail {subject}", "trail_head")
        return entries

    def receipts(self, entries: list[dict[str, Any]]) -> None:
        """Each original file has its receipt in the custody trail, with its SHA-256."""
        received = {
            ((e.get("content") or {}).get("media_id"), (e.get("content") or {}).get("sha256"))
            for e in entries
            if e.get("kind") == "evidence_received"
        }
        for name in sorted(n for n in self.names if "/media/" in n):
            media_id = name.rsplit("/", 1)[1].split(".", 1)[0]
            digest = hashlib.sha256(self.zf.read(name)).hexdigest()
            if (media_id, digest) not in received:
                self.problem(name, "file_no_receipt")

    def decisions(self, case_id: str, entries: list[dict[str, Any]]) -> None:
        decisions = self.json_of("decisions.json")
        if not isinstance(decisions, list):
            return
        unused = [e for e in entries if e.get("subject") == case_id]
        for n, decision in enumerate(decisions):
            kind = str(decision.get("kind"))
            entry_kind, field, mine = DECISION_ENTRIES.get(
                kind, (f"case_{kind}", "detail", "reason_code")
            )
            found = next(
                (
                    e
                    for e in unused
                    if e.get("kind") == entry_kind
                    and (
                        field is None
                        or (e.get("content") or {}).get(field) == decision.get(mine or "")
                    )
                ),
                None,
            )
            if found is None:
                self.problem(f"decisions.json #{n + 1} ({kind})", "decision_unbacked")
            else:
                unused.remove(found)


def verify(
    path: str, server_keys: dict[str, Ed25519PublicKey] | None = None
) -> tuple[list[str], list[str]]:
    """The problems and notes of the package at ``path``."""
    problems, notes, _ = check(path, server_keys)
    return problems, notes


def check(
    path: str, server_keys: dict[str, Ed25519PublicKey] | None = None
) -> tuple[list[str], list[str], str]:
    """Problems, notes and the id of the server key the package verified with ("")."""
    try:
        with zipfile.ZipFile(path) as zf:
            refused = refusals(zf)
            if refused:
                return refused, [], ""
            checker = Checker(zf, server_keys)
            checker.run()
    except (OSError, zipfile.BadZipFile) as exc:
        vi, en = MESSAGES["unreadable"]
        return [f"{path}: {vi} / {en} ({exc})"], [], ""
    return checker.problems, checker.notes, checker.key_source


def refusals(zf: zipfile.ZipFile) -> list[str]:
    """Why the zip is refused outright (nothing else is read): unsafe or repeated names."""
    out: list[str] = []
    seen: set[str] = set()
    for info in zf.infolist():
        code = (
            "unsafe_name"
            if unsafe_name(info.filename)
            else "duplicate_name"
            if info.filename in seen
            else None
        )
        if code is not None:
            vi, en = MESSAGES[code]
            out.append(f"{info.filename}: {vi} / {en}")
        seen.add(info.filename)
    return out


USAGE = """\
Kiểm tra gói bằng chứng của RoadWatch, không cần mạng.
Check a RoadWatch evidence package offline (sync/PROTOCOL.md §8).

exit codes / mã thoát:
  0  HỢP LỆ / VALID: every check passed
  1  KHÔNG HỢP LỆ / INVALID: at least one finding (or the zip was refused or unreadable)
  2  usage error: a missing argument, a server key file that cannot be read

Without --server-key the package's own server key is used: that shows the package is
consistent, not who made it. Compare the printed key id with the published one
(/.well-known/roadwatch-checkpoint-keys.json on the server, the yearly workbook), or
pass that file with --server-key.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sync.verify",
        description=USAGE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("package", help="the evidence package (.zip)")
    parser.add_argument(
        "--server-key",
        metavar="FILE",
        help="the server's public key: its published key list (JSON), a PEM public key or "
        "base64 SPKI; default: the key inside the package",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    keys = None
    if args.server_key:
        try:
            keys = load_server_keys(args.server_key)
        except (OSError, ValueError, KeyError, TypeError, UnsupportedAlgorithm) as exc:
            print(f"--server-key {args.server_key}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    problems, notes, key_id = check(args.package, keys)
    for note in notes:
        print(f"Ghi chú / note: {note}")
    for problem in problems:
        print(problem)
    if key_id:
        if keys is not None:
            print(
                f"Khóa máy chủ: theo dòng lệnh / server key: given on the command line ({key_id})"
            )
        else:
            print(
                f"Khóa máy chủ: lấy từ trong gói, hãy so với khóa công bố / server key: "
                f"taken from the package, compare it with the published one ({key_id})"
            )
    print("KHÔNG HỢP LỆ / INVALID" if problems else "HỢP LỆ / VALID")
    return EXIT_INVALID if problems else EXIT_VALID


if __name__ == "__main__":
    sys.exit(main())
