"""The evidence package (issue 16, item 4): one ZIP per case, checked offline by
``python -m sync.verify``.

A real case (two signed captures with their photos, a reviewer's decision) exports to a
package the verifier calls valid; each kind of tampering (a byte of a photo, a field of a
signed manifest, a custody entry, a chain link, a missing file, an extra file, a forged
signature) makes it invalid naming the item. The console's button is for reviewers of
the case's district only (404 elsewhere) and is audit-logged; no informant identity is
anywhere in the package; the CLI writes the same package. SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditLog, Case, Report, User
from server.services import accounts, review
from server.services.evidence_package import find_case, write_package
from sync import seal, verify
from tests.factories import (
    SECRET_NAME,
    SECRET_NATIONAL_ID,
    SECRET_PHONE,
    Api,
    photo,
    report_body,
)
from tests.test_console import PASSWORD, post, session_for

APP = "roadwatch-test/1"


@dataclass
class Exported:
    case_id: str
    reports: list[str]
    media: list[str]
    code: str


def _signed_report(api: Api, key: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    rid, media = str(uuid.uuid4()), photo()
    body = report_body([media])
    body["signature"] = seal.seal(key, rid, body, APP)
    assert api.put_report(rid, body).status_code == 201
    assert api.put_media(rid, media).status_code in (200, 201)
    return rid, media.media_id


@pytest.fixture
def case(app: Flask, client: FlaskClient) -> Exported:
    api, key = Api.register(client), ec.generate_private_key(ec.SECP256R1())
    put = client.put("/api/v1/devices/key", json={"spki": seal.public_spki(key)}, headers=api.auth)
    assert put.status_code == 201
    sent = [_signed_report(api, key) for _ in range(2)]
    with app.app_context():
        reports = [db.session.get(Report, rid) for rid, _ in sent]
        assert {r.signature_status for r in reports} == {"valid"}
        case_id, code = reports[0].case_id, reports[0].code
        assert all(r.case_id == case_id for r in reports)  # one case of two reports
        accounts.create_user("rev", PASSWORD, "reviewer", districts=["006"], display_name="R")
        accounts.create_user("rev_b", PASSWORD, "reviewer", districts=["001"], display_name="B")
        user = db.session.scalar(sa.select(User).where(User.username == "rev"))
        review.decide(user, db.session.get(Case, case_id), "verify", confirm_count=2)
        db.session.commit()
    return Exported(case_id, [r for r, _ in sent], [m for _, m in sent], code)


def _export(app: Flask, case_id: str) -> bytes:
    with app.app_context():
        out = io.BytesIO()
        write_package(find_case(case_id), out)
        return out.getvalue()


def _members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: dict[str, bytes], *, refresh: bool) -> bytes:
    """The package of ``members``; with ``refresh`` manifest.json lists their new hashes
    (a forger who rewrites the manifest too), so a deeper check must catch the change."""
    if refresh:
        manifest = json.loads(members["manifest.json"])
        manifest["files"] = {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in members.items()
            if name != "manifest.json"
        }
        members = {**members, "manifest.json": json.dumps(manifest).encode()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _verdict(tmp_path: Path, package: bytes) -> tuple[int, str]:
    path = tmp_path / f"{uuid.uuid4()}.zip"
    path.write_bytes(package)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([str(path)])
    return code, out.getvalue()


@pytest.mark.usefixtures("storage")  # a folder and a bucket
def test_a_real_case_exports_to_a_package_the_offline_verifier_calls_valid(
    app: Flask, case: Exported, tmp_path: Path
) -> None:
    members = _members(_export(app, case.case_id))
    manifest = json.loads(members["manifest.json"])
    assert manifest["case_id"] == case.case_id
    assert set(manifest["files"]) == set(members) - {"manifest.json"}
    for rid, media_id in zip(case.reports, case.media, strict=True):
        assert f"reports/{rid}/capture_manifest.txt" in members
        assert f"reports/{rid}/media/{media_id}.jpg" in members
        flags = json.loads(members[f"reports/{rid}/flags.json"])
        assert flags["signature_status"] == "valid" and flags["media"][0]["exif"]
    entries = [json.loads(line) for line in members["custody/entries.jsonl"].splitlines()]
    kinds = {e["kind"] for e in entries}
    assert {"status", "evidence_received", "case_verify"} <= kinds
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert json.loads(members["decisions.json"])[0]["kind"] == "verify"
    summary = members["summary.html"].decode()
    assert "Gói bằng chứng vụ việc" in summary and "Xác minh vi phạm" in summary
    assert "<script" not in summary
    code, printed = _verdict(tmp_path, _zip(members, refresh=False))
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed


def _first_media(m: dict[str, bytes]) -> str:
    return sorted(n for n in m if "/media/" in n)[0]


def _flip_photo_byte(m: dict[str, bytes]) -> str:
    name = _first_media(m)
    data = bytearray(m[name])
    data[len(data) // 2] ^= 0x01
    m[name] = bytes(data)
    return name


def _edit_manifest_field(m: dict[str, bytes]) -> str:
    name = sorted(n for n in m if n.endswith("capture_manifest.txt"))[0]
    signed = json.loads(m[name])
    signed["location"]["lat"] = "21.000000"
    m[name] = seal.canonical(signed).encode()
    return name.replace("capture_manifest.txt", "capture_signature.txt")


def _entries(m: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in m["custody/entries.jsonl"].splitlines()]


def _put_entries(m: dict[str, bytes], entries: list[dict]) -> None:
    m["custody/entries.jsonl"] = "".join(seal.canonical(e) + "\n" for e in entries).encode()


def _edit_custody_entry(m: dict[str, bytes]) -> str:
    entries = _entries(m)
    target = next(e for e in entries if e["kind"] == "evidence_received")
    target["content"]["sha256"] = "0" * 64
    _put_entries(m, entries)
    return f"custody entry seq {target['seq']}"


def _break_link(m: dict[str, bytes]) -> str:
    entries = _entries(m)
    target = next(b for a, b in zip(entries, entries[1:], strict=False) if b["seq"] == a["seq"] + 1)
    target["prev_hash"] = "f" * 64
    target["hash"] = verify.entry_hash(target)  # its own hash is consistent again
    _put_entries(m, entries)
    return f"custody entry seq {target['seq']}"


def _forge_signature(m: dict[str, bytes]) -> str:
    name = sorted(n for n in m if n.endswith("capture_manifest.txt"))[0]
    other = ec.generate_private_key(ec.SECP256R1())
    sig = name.replace("capture_manifest.txt", "capture_signature.txt")
    m[sig] = seal.sign(other, m[name].decode()).encode()
    return sig


def _remove_file(m: dict[str, bytes]) -> str:
    name = _first_media(m)
    del m[name]
    return name


def _add_file(m: dict[str, bytes]) -> str:
    name = _first_media(m).rsplit("/", 1)[0] + "/extra.jpg"
    m[name] = b"\xff\xd8 not evidence"
    return name


@pytest.mark.parametrize(
    ("tamper", "refresh"),
    [
        (_flip_photo_byte, True),
        (_flip_photo_byte, False),
        (_edit_manifest_field, True),
        (_edit_custody_entry, True),
        (_break_link, True),
        (_remove_file, False),
        (_add_file, False),
        (_forge_signature, True),
    ],
    ids=[
        "photo-byte",
        "photo-byte-unlisted",
        "manifest-field",
        "custody-entry",
        "chain-link",
        "missing-file",
        "extra-file",
        "forged-signature",
    ],
)
def test_each_kind_of_tampering_fails_the_verifier_naming_the_item(
    app: Flask,
    case: Exported,
    tmp_path: Path,
    tamper: Callable[[dict[str, bytes]], str],
    refresh: bool,
) -> None:
    members = _members(_export(app, case.case_id))
    item = tamper(members)
    code, printed = _verdict(tmp_path, _zip(members, refresh=refresh))
    lines = printed.strip().splitlines()
    assert (code, lines[-1]) == (1, "KHÔNG HỢP LỆ / INVALID"), printed
    assert any(line.startswith(f"{item}:") for line in lines[:-1]), printed


def test_no_informant_identity_is_anywhere_in_the_package(app: Flask, case: Exported) -> None:
    package = _export(app, case.case_id)
    for name, data in _members(package).items():
        for secret in (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE):
            assert secret.encode("utf-8") not in data, (name, secret)
            assert json.dumps(secret).encode() not in data, (name, secret)  # \\u escapes


def test_the_console_button_downloads_the_package_and_the_download_is_audit_logged(
    app: Flask, case: Exported, tmp_path: Path
) -> None:
    c = session_for(app, "rev")
    page = c.get(f"/console/cases/{case.case_id}").get_data(as_text=True)
    assert "Tải gói bằng chứng" in page
    assert "Download the evidence package" in c.get(
        f"/console/cases/{case.case_id}?lang=en"
    ).get_data(as_text=True)
    resp = post(c, f"/console/cases/{case.case_id}/evidence-package")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    code, printed = _verdict(tmp_path, resp.get_data())
    assert code == 0, printed
    with app.app_context():
        logged = db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "evidence_export")
        ).all()
        rev = db.session.scalar(sa.select(User.id).where(User.username == "rev"))
        assert [(a.actor_id, a.case_id) for a in logged] == [(rev, case.case_id)]


def test_another_districts_reviewer_gets_a_404_and_nothing_is_logged(
    app: Flask, case: Exported
) -> None:
    c = session_for(app, "rev_b")
    assert post(c, f"/console/cases/{case.case_id}/evidence-package").status_code == 404
    # Without the session's CSRF token the download is refused before anything else.
    assert (
        session_for(app, "rev").post(f"/console/cases/{case.case_id}/evidence-package").status_code
        == 400
    )
    with app.app_context():
        assert not db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "evidence_export")
        ).all()


def test_the_cli_exports_a_case_by_id_or_by_a_report_code(
    app: Flask, case: Exported, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    for which in (case.case_id, case.code.lower()):
        out = tmp_path / f"{which}.zip"
        result = runner.invoke(args=["evidence", "export", which, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "chain head" in result.output
        assert verify.verify(str(out)) == ([], [])
    missing = runner.invoke(args=["evidence", "export", "no-such-case"])
    assert missing.exit_code != 0 and "no case" in missing.output


def test_an_answers_file_on_a_signed_report_verifies_and_a_changed_one_is_named(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """A file the reporter added to answer a request for information is not in the
    capture's signed manifest: it is checked against its declaration in the custody
    trail (issue 26)."""
    api, key = Api.register(client), ec.generate_private_key(ec.SECP256R1())
    put = client.put("/api/v1/devices/key", json={"spki": seal.public_spki(key)}, headers=api.auth)
    assert put.status_code == 201
    rid, _ = _signed_report(api, key)
    with app.app_context():
        accounts.create_user("rev", PASSWORD, "reviewer", districts=["006"], display_name="R")
        user = db.session.scalar(sa.select(User).where(User.username == "rev"))
        case_id = db.session.get(Report, rid).case_id
        review.decide(
            user, db.session.get(Case, case_id), "needs_info", reason_code="need_plate_photo"
        )
    extra = photo(taken_at="2026-11-21T10:00:00")
    resp = client.put(
        f"/api/v1/reports/{rid}/answers/{uuid.uuid4()}",
        json={"text": "Ảnh biển số", "media": [extra.decl]},
        headers=api.auth,
    )
    assert resp.status_code == 201
    assert api.put_media(rid, extra).status_code == 201
    members = _members(_export(app, case_id))
    code, printed = _verdict(tmp_path, _zip(members, refresh=False))
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed
    name = next(n for n in members if n.endswith(f"/{extra.media_id}.jpg"))
    members[name] = members[name][:-1] + bytes([members[name][-1] ^ 1])
    code, printed = _verdict(tmp_path, _zip(members, refresh=True))
    assert code == 1 and f"{name}: differs from the file declared with the answer" in printed
