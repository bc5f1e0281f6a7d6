"""The evidence package of a case (issue 16, item 4): one ZIP anyone can check offline.

Layout (sync/PROTOCOL.md §8 describes it for verifiers)::

    manifest.json                         format, case id, export time, chain head, the
                                          trails' heads, each report's seal and key and
                                          files, and every other file with its sha256 and
                                          size: signed by the server (manifest.sig.json)
    manifest.sig.json                     Ed25519 signature of manifest.json's bytes
    summary.html                          one page in Vietnamese for the penalty file
    decisions.json                        the reviewers' decisions (no internal notes)
    answers.json                          the reporters' answers to requests for
                                          information (text, files, time; issue 26)
    custody/entries.jsonl                 the whole trails (every entry up to the
                                          checkpoint) of the case, its reports, its files
    custody/checkpoint.json               the server's signed checkpoint of the chain
    keys/<key_id>.spki.b64                the devices' public keys (SPKI DER, base64)
    keys/server/<key_id>.spki.b64         the server's public key (Ed25519, SPKI DER)
    reports/<report_id>/report.json       time, place, plate, violation, flags, C2PA
    reports/<report_id>/flags.json        seal status, flags, each file's EXIF
    reports/<report_id>/capture_manifest.txt   the signed manifest, as received
    reports/<report_id>/capture_signature.txt  its signature, as received
    reports/<report_id>/media/<media_id>.<ext> the original bytes

``python -m sync.verify package.zip`` checks it. The package never holds an informant's
identity: there is no option to include it; a reveal stays a separate act, logged by
:mod:`.reveal`, outside the package.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import sqlalchemy as sa

from .. import catalogue
from ..console.i18n_text import LABELS
from ..extensions import db
from ..models import Case, CustodyEntry, DeviceKey, Report, ReportAnswer, utcnow
from . import answers as answers_service
from . import checkpoints, custody, districts, report_codes
from .dossier import DecisionEntry, decisions_with_actors
from .evidence import media_store

FORMAT = "roadwatch-evidence-package"
VERSION = 2
C2PA_TEXT = {
    "none": "Không có",
    "signed": "Máy ảnh ký, chưa chỉnh sửa",
    "untrusted": "Có chữ ký, người ký không thuộc danh sách tin cậy",
    "edited": "Đã chỉnh sửa",
    "invalid": "Không hợp lệ",
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}
PIECE = 1024 * 1024
SEAL_TEXT = {
    "valid": "Hợp lệ: niêm phong trên điện thoại lúc chụp",
    "invalid": "Chữ ký không hợp lệ",
    "unsigned": "Không có chữ ký của thiết bị",
}


class CaseNotFound(LookupError):
    """No case with that id (nor a report with that code)."""


def find_case(text: str) -> Case:
    """A case by its id, or the case of the report whose code is quoted; CaseNotFound."""
    text = text.strip()
    case = db.session.get(Case, text) if 0 < len(text) <= 36 else None
    if case is None:
        code = report_codes.normalize_code(text)
        if code is not None:
            case_id = db.session.scalar(sa.select(Report.case_id).where(Report.code == code))
            case = db.session.get(Case, case_id) if case_id else None
    if case is None:
        raise CaseNotFound(text)
    return case


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _iso(at: datetime | None) -> str | None:
    return custody.at_text(at) if at is not None else None


class _Writer:
    """Adds files to the zip and remembers each one's sha256 and size."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.files: dict[str, dict[str, Any]] = {}

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def add_stream(self, name: str, stream: IO[bytes]) -> None:
        digest, size = hashlib.sha256(), 0
        with self.zf.open(name, "w", force_zip64=True) as out:
            while piece := stream.read(PIECE):
                digest.update(piece)
                size += len(piece)
                out.write(piece)
        self.files[name] = {"sha256": digest.hexdigest(), "size": size}


def _open_original(sha256: str) -> IO[bytes] | None:
    store = media_store()
    if getattr(store, "is_local", False):
        path = store.blob_path(sha256)
        return path.open("rb") if path.exists() else None
    return store.open_blob(sha256)  # type: ignore[union-attr]


def _custody_entries(subjects: list[str], upto: int) -> list[CustodyEntry]:
    """Every entry about ``subjects`` up to seq ``upto``: their whole trails."""
    return list(
        db.session.scalars(
            sa.select(CustodyEntry)
            .where(CustodyEntry.subject.in_(subjects), CustodyEntry.seq <= upto)
            .order_by(CustodyEntry.seq)
        )
    )


def _entry(e: CustodyEntry) -> dict[str, Any]:
    out = {
        "seq": e.seq,
        "kind": e.kind,
        "subject": e.subject,
        "content": json.loads(e.content),
        "at": custody.at_text(e.at),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "subject_prev_hash": e.subject_prev_hash,
        "v": e.v,
    }
    return out


def c2pa_text(provenance: str | None, detail: dict[str, Any] | None) -> str:
    """The C2PA verdict of a file in words (Vietnamese)."""
    if provenance is None:
        return "Chưa kiểm tra"
    text = C2PA_TEXT.get(provenance, provenance)
    signer = (detail or {}).get("signer")
    if provenance in ("untrusted", "edited") and signer and not (detail or {}).get("trusted"):
        return f"{text}; ký bởi {signer}, không thuộc danh sách tin cậy"
    return text


def report_data(report: Report) -> dict[str, Any]:
    """A report as data (report.json): what the phone signed and what the server stored."""
    violation = catalogue.by_code().get(report.violation, {})
    return {
        "report_id": report.id,
        "code": report.code,
        "captured_at": custody.at_text(report.captured_at),
        "captured_offset_min": report.captured_offset_min,
        "location": {
            "lat": report.lat,
            "lon": report.lon,
            "source": report.location_source,
            "accuracy_m": report.accuracy_m,
        },
        "plate": report.plate_display or report.plate_raw or None,
        "plate_kind": report.plate_kind,
        "vehicle_class": report.vehicle_class,
        "violation": report.violation,
        "violation_name_vi": violation.get("name_vi"),
        "flags": list(report.flags or []),
        "signature_status": report.signature_status,
        "signing_key_id": report.signing_key_id,
        "received_at": _iso(report.received_at),
        "media": [
            {
                "media_id": m.id,
                "sha256": m.sha256,
                "size": m.size,
                "content_type": m.content_type,
                "c2pa": m.provenance,
                "c2pa_signer": (m.provenance_detail or {}).get("signer"),
                "c2pa_trusted": bool((m.provenance_detail or {}).get("trusted")),
                "answer_id": m.answer_id,
            }
            for m in report.media
        ],
    }


def _decision(entry: DecisionEntry) -> dict[str, Any]:
    d = entry.decision
    return {
        "id": d.id,
        "kind": d.kind,
        "report_id": d.report_id,
        "reason_code": d.reason_code,
        "public_note": d.public_note,
        "penalty_no": d.penalty_no,
        "actor": entry.actor,
        "at": _iso(d.at),
    }


def _answer(answer: ReportAnswer, reports: list[Report]) -> dict[str, Any]:
    media = [m.id for r in reports for m in r.media if m.answer_id == answer.id]
    return {
        "answer_id": answer.id,
        "report_id": answer.report_id,
        "text": answer.text,
        "media_ids": media,
        "at": _iso(answer.created_at),
    }


def write_package(case: Case, out: IO[bytes]) -> dict[str, Any]:
    """Write the package of ``case`` to ``out`` (a binary file); returns its manifest."""
    reports = list(
        db.session.scalars(
            sa.select(Report).where(Report.case_id == case.id).order_by(Report.received_at)
        )
    )
    key_ids = sorted({r.signing_key_id for r in reports if r.signing_key_id})
    keys = (
        list(db.session.scalars(sa.select(DeviceKey).where(DeviceKey.key_id.in_(key_ids))))
        if key_ids
        else []
    )
    decisions = decisions_with_actors(case.id)
    given = answers_service.answers_of_case(case.id)
    subjects = [case.id] + [r.id for r in reports] + [m.id for r in reports for m in r.media]
    checkpoint = checkpoints.sign_checkpoint()
    head = custody.Head(int(checkpoint.body["seq"]), str(checkpoint.body["hash"]))
    entries = _custody_entries(subjects, head.seq)
    trails = {e.subject: f"{e.seq}:{e.hash}" for e in entries if e.subject is not None}
    exported_at = utcnow()
    bindings: dict[str, Any] = {}
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        w = _Writer(zf)
        for report in reports:
            base = f"reports/{report.id}"
            if report.capture_manifest is not None:
                w.add(f"{base}/capture_manifest.txt", report.capture_manifest.encode("utf-8"))
            if report.capture_signature is not None:
                w.add(f"{base}/capture_signature.txt", report.capture_signature.encode("utf-8"))
            media_info = []
            for m in report.media:
                name = f"{base}/media/{m.id}.{EXTENSIONS.get(m.content_type, 'bin')}"
                stream = _open_original(m.sha256) if m.received else None
                if stream is not None:
                    with stream:
                        w.add_stream(name, stream)
                elif m.received:
                    missing.append(m.id)
                media_info.append(
                    {
                        "media_id": m.id,
                        "file": name if stream is not None else None,
                        "sha256": m.sha256,
                        "size": m.size,
                        "content_type": m.content_type,
                        "received_at": _iso(m.received_at),
                        "exif": m.exif,
                        "answer_id": m.answer_id,
                    }
                )
            w.add(f"{base}/report.json", _json(report_data(report)))
            bindings[report.id] = {
                "signature_status": report.signature_status,
                "signing_key_id": report.signing_key_id,
                "flags": list(report.flags or []),
                "media": [m.id for m in report.media],
                "files": sorted(n for n in w.files if n.startswith(f"{base}/media/")),
            }
            w.add(
                f"{base}/flags.json",
                _json(
                    {
                        "report_id": report.id,
                        "code": report.code,
                        "signature_status": report.signature_status,
                        "signing_key_id": report.signing_key_id,
                        "flags": list(report.flags or []),
                        "media": media_info,
                    }
                ),
            )
        for key in keys:
            w.add(f"keys/{key.key_id}.spki.b64", key.public_key.encode("ascii"))
        server_key = checkpoints.public_keys()[checkpoint.key_id]
        w.add(
            f"keys/server/{checkpoint.key_id}.spki.b64",
            base64.b64encode(checkpoints.spki(server_key)),
        )
        w.add(
            "custody/entries.jsonl",
            "".join(custody.canonical_json(_entry(e)) + "\n" for e in entries).encode("utf-8"),
        )
        w.add("custody/checkpoint.json", _json(checkpoint.as_json()))
        w.add("decisions.json", _json([_decision(d) for d in decisions]))
        w.add("answers.json", _json([_answer(a, reports) for a in given]))
        w.add(
            "summary.html",
            summary_html(
                case, reports, decisions, str(head), exported_at, checkpoint.key_id, given
            ).encode("utf-8"),
        )
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "case_id": case.id,
            "exported_at": _iso(exported_at),
            "chain_head": str(head),
            "trails": dict(sorted(trails.items())),
            "reports": bindings,
            "missing_media": missing,
            "files": dict(sorted(w.files.items())),
        }
        text = _json(manifest)
        signed = checkpoints.sign(text.decode("utf-8"))
        zf.writestr("manifest.json", text)
        zf.writestr(
            "manifest.sig.json",
            _json({"alg": "Ed25519", "key_id": signed.key_id, "signature": signed.signature}),
        )
    return manifest


def _local(at: datetime | None, offset_min: int = 420) -> str:
    if at is None:
        return "—"
    return (at.astimezone(UTC) + timedelta(minutes=offset_min)).strftime("%d/%m/%Y %H:%M")


def _decision_text(kind: str) -> str:
    return LABELS["decision"].get(kind, ("Quyết định khác", ""))[0]


def summary_html(
    case: Case,
    reports: list[Report],
    decisions: list[DecisionEntry],
    head: str,
    exported_at: datetime,
    server_key_id: str = "",
    given: list[ReportAnswer] | None = None,
) -> str:
    """One page in Vietnamese (inline CSS, no script) for the penalty file."""
    e = html.escape
    firsts = [r for r in reports if r.id == case.first_report_id] or reports
    first = firsts[0] if firsts else None
    violation = catalogue.by_code().get(first.violation, {}) if first else {}
    rows = "".join(
        "<tr>"
        f"<td>{e(r.code)}</td><td>{e(_local(r.captured_at, r.captured_offset_min))}</td>"
        f"<td>{e(r.plate_display or r.plate_raw or '—')}</td>"
        f"<td>{r.lat:.6f}, {r.lon:.6f}</td><td>{len(r.media)}</td>"
        f"<td>{e(SEAL_TEXT.get(r.signature_status or '', 'Chưa kiểm tra'))}</td>"
        f"<td>{e('; '.join(c2pa_text(m.provenance, m.provenance_detail) for m in r.media))}</td>"
        "</tr>"
        for r in reports
    )
    decided = (
        "".join(
            f"<li>{e(_local(d.decision.at))}: {e(_decision_text(d.decision.kind))}"
            + (f", số quyết định {e(d.decision.penalty_no)}" if d.decision.penalty_no else "")
            + (f" ({e(d.actor)})" if d.actor else "")
            + "</li>"
            for d in decisions
        )
        or "<li>Chưa có quyết định.</li>"
    )
    codes = {r.id: r.code for r in reports}
    added = "".join(
        f"<li>{e(_local(a.created_at))} · {e(codes.get(a.report_id, ''))}: "
        f"{e(a.text or '(không có lời nhắn)')}"
        f" · {sum(1 for r in reports for m in r.media if m.answer_id == a.id)} tệp</li>"
        for a in given or []
    )
    added_html = f"<h2>Người báo bổ sung</h2><ul>{added}</ul>" if added else ""
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Gói bằng chứng vụ việc {e(case.id[:8])}</title>
<style>
body{{font-family:sans-serif;max-width:60em;margin:1em auto;font-size:11pt}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.2em .4em}}
.mono{{font-family:monospace;word-break:break-all}}
</style></head><body>
<h1>Gói bằng chứng vụ việc <span class="mono">{e(case.id)}</span></h1>
<p>Hành vi vi phạm: {e(str(violation.get("name_vi") or (first.violation if first else "—")))}</p>
<p>Địa bàn: {e(_area_words(case.district_code))} · Đơn vị xử lý:
 {e(districts.unit_name(case.unit_code) or "—")} · Số báo cáo: {len(reports)}
 · Xuất lúc: {e(_local(exported_at))} (giờ Việt Nam)</p>
<h2>Các báo cáo</h2>
<table><tr><th>Mã</th><th>Thời điểm</th><th>Biển số</th><th>Vị trí</th><th>Số tệp</th>
<th>Chữ ký của thiết bị</th><th>Chứng thực C2PA</th></tr>{rows}</table>
<h2>Quyết định</h2><ul>{decided}</ul>
{added_html}
<h2>Kiểm tra</h2>
<p>Các tệp gốc, bản kê đã ký, khóa công khai của thiết bị và chuỗi lưu giữ bằng chứng
nằm trong gói này. Ai cũng có thể kiểm tra không cần mạng:
<span class="mono">python -m sync.verify goi.zip</span>.</p>
<p>Đầu chuỗi lưu giữ lúc xuất: <span class="mono">{e(head)}</span></p>
<p>Khóa ký của máy chủ: <span class="mono">{e(server_key_id)}</span> (so với khóa công bố tại
<span class="mono">/.well-known/roadwatch-checkpoint-keys.json</span>)</p>
<p>Gói không chứa danh tính người báo tin.</p>
</body></html>
"""


def _area_words(code: str | None) -> str:
    """ "Phường Ba Đình, Thành phố Hà Nội (00004)": the area a case is routed to."""
    info = districts.area_info(code)
    if info is None:
        return code or "—"
    return f"{info.name}, {info.province_name} ({info.code})"
