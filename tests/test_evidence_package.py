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

import base64
import contextlib
import hashlib
import io
import json
import uuid
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditLog, Case, Report, User
from server.services import accounts, checkpoints, review
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
    unsigned: str


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
    unsigned, media = str(uuid.uuid4()), photo()
    assert api.put_report(unsigned, report_body([media])).status_code == 201
    assert api.put_media(unsigned, media).status_code in (200, 201)
    with app.app_context():
        reports = [db.session.get(Report, rid) for rid, _ in sent]
        assert {r.signature_status for r in reports} == {"valid"}
        case_id, code = reports[0].case_id, reports[0].code
        assert all(r.case_id == case_id for r in reports)  # one case of three reports
        assert db.session.get(Report, unsigned).case_id == case_id
        accounts.create_user("rev", PASSWORD, "reviewer", districts=["006"], display_name="R")
        accounts.create_user("rev_b", PASSWORD, "reviewer", districts=["001"], display_name="B")
        user = db.session.scalar(sa.select(User).where(User.username == "rev"))
        review.decide(user, db.session.get(Case, case_id), "verify", confirm_count=3)
        db.session.commit()
    return Exported(case_id, [r for r, _ in sent], [m for _, m in sent], code, unsigned)


def _export(app: Flask, case_id: str) -> bytes:
    with app.app_context():
        out = io.BytesIO()
        write_package(find_case(case_id), out)
        return out.getvalue()


def _members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_zip(items: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name
        with zipfile.ZipFile(out, "w") as zf:
            for name, data in items:
                zf.writestr(name, data)
    return out.getvalue()


def _zip(members: dict[str, bytes], *, refresh: bool) -> bytes:
    """The package of ``members``; with ``refresh`` manifest.json lists their new hashes
    (a forger without the server's key who rewrites the manifest too)."""
    if refresh:
        manifest = json.loads(members["manifest.json"])
        manifest["files"] = _hashes(members)
        members = {**members, "manifest.json": json.dumps(manifest).encode()}
    return _write_zip(list(members.items()))


def _hashes(members: dict[str, bytes]) -> dict[str, dict]:
    return {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in sorted(members.items())
        if name not in ("manifest.json", "manifest.sig.json")
    }


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _forge(members: dict[str, bytes], manifest: dict) -> bytes:
    """The package as a forger with a server key of their own makes it: the checkpoint
    and manifest.json re-signed, their key in keys/server/, every hash listed anew."""
    key = Ed25519PrivateKey.generate()
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = hashlib.sha256(der).hexdigest()
    members = {n: d for n, d in members.items() if not n.startswith("keys/server/")}
    members[f"keys/server/{key_id}.spki.b64"] = base64.b64encode(der)
    checkpoint = json.loads(members["custody/checkpoint.json"])
    body = json.loads(checkpoint["signed"])
    seq, _, digest = manifest["chain_head"].partition(":")
    body.update(seq=int(seq), hash=digest, key_id=key_id)
    text = seal.canonical(body)
    members["custody/checkpoint.json"] = json.dumps(
        {"signed": text, "key_id": key_id, "signature": _b64url(key.sign(text.encode()))}
    ).encode()
    manifest = {**manifest, "files": _hashes(members)}
    raw = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
    members["manifest.json"] = raw
    members["manifest.sig.json"] = json.dumps(
        {"alg": "Ed25519", "key_id": key_id, "signature": _b64url(key.sign(raw))}
    ).encode()
    return _write_zip(list(members.items()))


def _verdict(tmp_path: Path, package: bytes, *args: str) -> tuple[int, str]:
    path = tmp_path / f"{uuid.uuid4()}.zip"
    path.write_bytes(package)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify.main([*args, str(path)])
    return code, out.getvalue()


def _published(app: Flask, tmp_path: Path) -> str:
    """The server's published key list, saved as a clerk would (the --server-key file)."""
    path = tmp_path / "roadwatch-checkpoint-keys.json"
    with app.app_context():
        path.write_text(json.dumps(checkpoints.published()))
    return str(path)


@pytest.mark.usefixtures("storage")  # a folder and a bucket
def test_a_real_case_exports_to_a_package_the_offline_verifier_calls_valid(
    app: Flask, case: Exported, tmp_path: Path
) -> None:
    members = _members(_export(app, case.case_id))
    manifest = json.loads(members["manifest.json"])
    assert manifest["case_id"] == case.case_id and manifest["version"] == 2
    assert set(manifest["files"]) == set(members) - {"manifest.json", "manifest.sig.json"}
    for rid, media_id in zip(case.reports, case.media, strict=True):
        assert f"reports/{rid}/capture_manifest.txt" in members
        assert f"reports/{rid}/media/{media_id}.jpg" in members
        flags = json.loads(members[f"reports/{rid}/flags.json"])
        assert flags["signature_status"] == "valid" and flags["media"][0]["exif"]
        assert manifest["reports"][rid]["signing_key_id"] == flags["signing_key_id"]
    entries = [json.loads(line) for line in members["custody/entries.jsonl"].splitlines()]
    kinds = {e["kind"] for e in entries}
    assert {"status", "evidence_received", "case_verify"} <= kinds
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert set(manifest["trails"]) == {e["subject"] for e in entries}
    assert json.loads(members["decisions.json"])[0]["kind"] == "verify"
    summary = members["summary.html"].decode()
    assert "Gói bằng chứng vụ việc" in summary and "Xác minh vi phạm" in summary
    assert "<script" not in summary
    code, printed = _verdict(tmp_path, _zip(members, refresh=False))
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed
    assert "taken from the package" in printed
    code, printed = _verdict(
        tmp_path, _zip(members, refresh=False), "--server-key", _published(app, tmp_path)
    )
    assert code == 0 and "given on the command line" in printed, printed


def test_the_package_holds_each_report_as_data_with_its_c2pa_verdict(
    app: Flask, case: Exported
) -> None:
    members = _members(_export(app, case.case_id))
    with app.app_context():
        for rid in case.reports + [case.unsigned]:
            report = db.session.get(Report, rid)
            data = json.loads(members[f"reports/{rid}/report.json"])
            assert data["captured_at"].startswith(report.captured_at.strftime("%Y-%m-%dT%H:%M:%S"))
            assert (data["location"]["lat"], data["location"]["lon"]) == (report.lat, report.lon)
            assert data["plate"] == report.plate_display and data["violation"] == report.violation
            assert data["flags"] == list(report.flags or [])
            assert [m["c2pa"] for m in data["media"]] == [m.provenance for m in report.media]
    unsigned = json.loads(members[f"reports/{case.unsigned}/report.json"])
    assert unsigned["signature_status"] == "unsigned" and "unsigned" in unsigned["flags"]


# ------------------------------------------------------------------ the forger's table
#
# Each tamper edits the members (and the parsed manifest.json) and says which item the
# verifier must name. The forger then re-signs with a server key of their own (_forge):
# with the server's published key given (--server-key) every tamper fails; with only
# the package's own key, ``deep`` says whether the deeper checks name the item anyway
# (those that do not are exactly what only the server's signature can tell).


def _first_media(m: dict[str, bytes], rid: str | None = None) -> str:
    return sorted(n for n in m if "/media/" in n and (rid is None or f"/{rid}/" in n))[0]


def _flip(m: dict[str, bytes], name: str) -> None:
    data = bytearray(m[name])
    data[len(data) // 2] ^= 0x01
    m[name] = bytes(data)


def _entries(m: dict[str, bytes]) -> list[dict]:
    return [json.loads(line) for line in m["custody/entries.jsonl"].splitlines()]


def _put_entries(m: dict[str, bytes], entries: list[dict]) -> None:
    m["custody/entries.jsonl"] = "".join(seal.canonical(e) + "\n" for e in entries).encode()


def _rehash(e: dict) -> None:
    e["hash"] = verify.entry_hash(e)


def _trail_heads(manifest: dict, entries: list[dict]) -> None:
    """A forger who moves the signed trail heads to fit the entries left."""
    manifest["trails"] = {e["subject"]: f"{e['seq']}:{e['hash']}" for e in entries}


def t_photo_signed(c: Exported, m: dict, man: dict) -> str:
    name = _first_media(m, c.reports[0])
    _flip(m, name)
    return name


def t_photo_unsigned(c: Exported, m: dict, man: dict) -> str:
    name = _first_media(m, c.unsigned)
    _flip(m, name)
    return name


def t_downgrade_then_edit(c: Exported, m: dict, man: dict) -> str:
    rid = c.reports[0]
    for name in (f"reports/{rid}/flags.json", f"reports/{rid}/report.json"):
        data = json.loads(m[name])
        data["signature_status"] = "unsigned"
        m[name] = json.dumps(data).encode()
    man["reports"][rid]["signature_status"] = "unsigned"
    name = _first_media(m, rid)
    _flip(m, name)
    return name


def _device_swap(c: Exported, m: dict, man: dict, *, rebind: bool) -> str:
    rid = c.reports[0]
    other = ec.generate_private_key(ec.SECP256R1())
    spki = seal.public_spki(other)
    new_id = hashlib.sha256(base64.b64decode(spki)).hexdigest()
    old_id = man["reports"][rid]["signing_key_id"]
    m[f"reports/{rid}/capture_signature.txt"] = seal.sign(
        other, m[f"reports/{rid}/capture_manifest.txt"].decode()
    ).encode()
    if not rebind:  # the key file swapped under the old name
        m[f"keys/{old_id}.spki.b64"] = spki.encode()
        return f"keys/{old_id}.spki.b64"
    m[f"keys/{new_id}.spki.b64"] = spki.encode()
    man["reports"][rid]["signing_key_id"] = new_id
    for name in (f"reports/{rid}/flags.json", f"reports/{rid}/report.json"):
        data = json.loads(m[name])
        data["signing_key_id"] = new_id
        m[name] = json.dumps(data).encode()
    return "manifest.sig.json"


def t_device_key_file(c: Exported, m: dict, man: dict) -> str:
    return _device_swap(c, m, man, rebind=False)


def t_device_key_rebound(c: Exported, m: dict, man: dict) -> str:
    return _device_swap(c, m, man, rebind=True)


def t_server_key_swap(c: Exported, m: dict, man: dict) -> str:
    return "manifest.sig.json"  # nothing else changed: only the key tells


def t_capture_field(c: Exported, m: dict, man: dict) -> str:
    name = f"reports/{c.reports[0]}/capture_manifest.txt"
    signed = json.loads(m[name])
    signed["location"]["lat"] = "21.000000"
    m[name] = seal.canonical(signed).encode()
    return name.replace("capture_manifest.txt", "capture_signature.txt")


def t_report_time(c: Exported, m: dict, man: dict) -> str:
    name = f"reports/{c.reports[0]}/report.json"
    data = json.loads(m[name])
    data["captured_at"] = "2026-11-20T02:45:30.000000Z"
    m[name] = json.dumps(data).encode()
    return name


def t_rehash_middle(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    subjects = [e["subject"] for e in entries]
    target = next(e for i, e in enumerate(entries) if e["subject"] in subjects[i + 1 :])
    target["content"]["status"] = "rejected" if "status" in target["content"] else "x"
    _rehash(target)
    _put_entries(m, entries)
    after = next(
        e for e in entries if e["seq"] > target["seq"] and e["subject"] == target["subject"]
    )
    return f"custody entry seq {after['seq']}"


def t_rehash_last(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    target = entries[-1]  # the case's verify: also the chain's head at the export
    target["content"]["actor_id"] = 999_999
    _rehash(target)
    _put_entries(m, entries)
    _trail_heads(man, entries)
    man["chain_head"] = f"{target['seq']}:{target['hash']}"
    return f"custody entry seq {target['seq']}"


def t_delete_middle(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    subjects = [e["subject"] for e in entries]
    i = next(i for i, e in enumerate(entries) if e["subject"] in subjects[i + 1 :])
    gone = entries.pop(i)
    _put_entries(m, entries)
    after = next(e for e in entries[i:] if e["subject"] == gone["subject"])
    return f"custody entry seq {after['seq']}"


def t_delete_decision_entry(c: Exported, m: dict, man: dict) -> str:
    entries = [e for e in _entries(m) if e["kind"] != "case_verify"]
    _put_entries(m, entries)
    _trail_heads(man, entries)
    return "decisions.json #1 (verify)"


def t_delete_receipt(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    gone = next(e for e in entries if e["kind"] == "evidence_received")
    entries.remove(gone)
    _put_entries(m, entries)
    _trail_heads(man, entries)
    return _first_media(m, gone["content"]["report_id"])


def t_cut_tail(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    kept = entries[: len(entries) // 2]
    _put_entries(m, kept)
    _trail_heads(man, kept)
    man["chain_head"] = f"{kept[-1]['seq']}:{kept[-1]['hash']}"
    return "decisions.json #1 (verify)"


def t_reorder(c: Exported, m: dict, man: dict) -> str:
    entries = _entries(m)
    entries[1], entries[2] = entries[2], entries[1]
    _put_entries(m, entries)
    return f"custody entry seq {entries[2]['seq']}"


def t_extra_photo_unsigned(c: Exported, m: dict, man: dict) -> str:
    base = _first_media(m, c.unsigned).rsplit("/", 1)[0]
    name = f"{base}/{uuid.uuid4()}.jpg"
    m[name] = photo().data
    man["reports"][c.unsigned]["files"].append(name)
    return name


def t_forged_decision(c: Exported, m: dict, man: dict) -> str:
    decisions = json.loads(m["decisions.json"])
    decisions.append({**decisions[0], "kind": "reject", "reason_code": "insufficient"})
    m["decisions.json"] = json.dumps(decisions).encode()
    m["summary.html"] = m["summary.html"].replace(b"</ul>", "<li>Từ chối</li></ul>".encode())
    return "decisions.json #2 (reject)"


TAMPERS: dict[str, tuple[Callable[[Exported, dict, dict], str], bool]] = {
    "photo of a signed report": (t_photo_signed, True),
    "photo of an unsigned report": (t_photo_unsigned, True),
    "flag downgraded to unsigned, then the photo edited": (t_downgrade_then_edit, True),
    "device key file swapped": (t_device_key_file, True),
    "device key swapped and rebound": (t_device_key_rebound, False),
    "server key swapped": (t_server_key_swap, False),
    "signed capture manifest edited": (t_capture_field, True),
    "report's time changed": (t_report_time, True),
    "entry edited and re-hashed": (t_rehash_middle, True),
    "last entry edited and re-hashed": (t_rehash_last, False),
    "entry deleted from the middle": (t_delete_middle, True),
    "decision's entry deleted": (t_delete_decision_entry, True),
    "receipt deleted": (t_delete_receipt, True),
    "tail cut, chain head moved": (t_cut_tail, True),
    "entries reordered": (t_reorder, True),
    "photo added to an unsigned report": (t_extra_photo_unsigned, True),
    "forged decision with its summary page": (t_forged_decision, True),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_each_forgery_fails_against_the_published_server_key_and_deep_checks_name_it(
    app: Flask, case: Exported, tmp_path: Path, name: str
) -> None:
    tamper, deep = TAMPERS[name]
    members = _members(_export(app, case.case_id))
    manifest = json.loads(members["manifest.json"])
    item = tamper(case, members, manifest)
    forged = _forge(members, manifest)
    code, printed = _verdict(tmp_path, forged, "--server-key", _published(app, tmp_path))
    lines = printed.strip().splitlines()
    assert (code, lines[-1]) == (1, "KHÔNG HỢP LỆ / INVALID"), printed
    assert any(line.startswith("manifest.sig.json: ") for line in lines), printed
    code, printed = _verdict(tmp_path, forged)
    lines = printed.strip().splitlines()
    named = any(line.startswith(f"{item}: ") for line in lines)
    assert (code, named) == ((1, True) if deep else (0, False)), printed
    with app.app_context():
        real = checkpoints.current_key()[0]
    assert "taken from the package" in printed and real not in printed


def _unlisted_change(c: Exported, m: dict, man: dict) -> str:
    name = _first_media(m, c.reports[0])
    _flip(m, name)
    return name


def _remove_file(c: Exported, m: dict, man: dict) -> str:
    name = _first_media(m)
    del m[name]
    return name


def _add_file(c: Exported, m: dict, man: dict) -> str:
    name = _first_media(m).rsplit("/", 1)[0] + "/extra.jpg"
    m[name] = b"\xff\xd8 not evidence"
    return name


def _edit_trails(c: Exported, m: dict, man: dict) -> str:
    first = sorted(man["trails"])[0]
    man["trails"][first] = "1:" + "0" * 64
    m["manifest.json"] = json.dumps(man).encode()
    return "manifest.sig.json"


@pytest.mark.parametrize(
    ("tamper", "refresh"),
    [(_unlisted_change, False), (_unlisted_change, True), (_remove_file, False),
     (_add_file, False), (_edit_trails, False)],
    ids=["file-changed", "file-changed-manifest-refreshed", "missing-file", "extra-file",
         "signed-manifest-edited"],
)  # fmt: skip
def test_a_forger_without_any_key_fails_even_without_the_published_key(
    app: Flask,
    case: Exported,
    tmp_path: Path,
    tamper: Callable[[Exported, dict, dict], str],
    refresh: bool,
) -> None:
    members = _members(_export(app, case.case_id))
    item = tamper(case, members, json.loads(members["manifest.json"]))
    code, printed = _verdict(tmp_path, _zip(members, refresh=refresh))
    lines = printed.strip().splitlines()
    assert (code, lines[-1]) == (1, "KHÔNG HỢP LỆ / INVALID"), printed
    assert any(line.startswith(f"{item}: ") for line in lines), printed
    if refresh:
        assert any(line.startswith("manifest.sig.json: ") for line in lines), printed


@pytest.mark.parametrize(
    "bad",
    ["../escape.txt", "/etc/passwd", "reports/../../x", "C:/x", "a\\b", "manifest.json"],
)
def test_a_zip_with_an_unsafe_or_repeated_member_name_is_refused_outright(
    app: Flask, case: Exported, tmp_path: Path, bad: str
) -> None:
    members = _members(_export(app, case.case_id))
    forged = list(members.items()) + [(bad, b'{"forged": true}')]
    code, printed = _verdict(tmp_path, _write_zip(forged))
    lines = printed.strip().splitlines()
    assert (code, lines) == (
        1,
        [lines[0], "KHÔNG HỢP LỆ / INVALID"],
    ), printed  # one finding, nothing else read
    assert lines[0].startswith(f"{bad}: ") and "refused" in lines[0]


def test_the_verifier_prints_its_usage_and_exit_codes(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        verify.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m sync.verify" in out and "--server-key" in out
    assert all(f"  {n}  " in out for n in (0, 1, 2))
    with pytest.raises(SystemExit) as done:
        verify.main([])
    assert done.value.code == 2


def test_every_finding_has_a_vietnamese_and_an_english_verdict() -> None:
    for code, (vi, en) in verify.MESSAGES.items():
        assert vi and en and vi != en, code


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
        problems, notes = verify.verify(str(out))
        assert problems == [] and [case.unsigned in n for n in notes] == [True], notes
    missing = runner.invoke(args=["evidence", "export", "no-such-case"])
    assert missing.exit_code != 0 and "no case" in missing.output


# ------------------------------------------------------------------ a second verifier


def test_an_independent_verifier_written_from_protocol_agrees_on_every_forgery(
    app: Flask, case: Exported, tmp_path: Path
) -> None:
    """tests/independent_verifier.py (written from PROTOCOL §8 alone) and sync.verify give
    the same verdict on the real package and on each forgery of the table, with the
    published key and with the package's own."""
    from tests import independent_verifier

    published = _published(app, tmp_path)
    keys = verify.load_server_keys(published)
    real = _export(app, case.case_id)
    packages = {"untouched": real}
    for name, (tamper, _) in TAMPERS.items():
        members = _members(_export(app, case.case_id))
        manifest = json.loads(members["manifest.json"])
        tamper(case, members, manifest)
        packages[name] = _forge(members, manifest)
    for name, package in packages.items():
        for given in (keys, None):
            args = ("--server-key", published) if given is not None else ()
            code, printed = _verdict(tmp_path, package, *args)
            theirs = independent_verifier.problems(package, given)
            assert (code == 0) == (theirs == []), (name, given is not None, theirs, printed)
    assert independent_verifier.problems(real, keys) == []


def test_an_answers_file_on_a_signed_report_verifies_and_a_changed_one_is_named(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """A file the reporter added to answer a request for information is not in the
    capture's signed manifest: it is checked against its declaration in the custody
    trail (issue 26), by sync.verify and by the verifier written from PROTOCOL §8, even
    in a package a forger re-signed; answers.json is a signed file backed by the trail."""
    from tests import independent_verifier

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
    package = _export(app, case_id)
    members = _members(package)
    published = _published(app, tmp_path)
    code, printed = _verdict(tmp_path, package, "--server-key", published)
    assert (code, printed.strip().splitlines()[-1]) == (0, "HỢP LỆ / VALID"), printed
    assert independent_verifier.problems(package, verify.load_server_keys(published)) == []
    given = json.loads(members["answers.json"])
    assert [a["media_ids"] for a in given] == [[extra.media_id]]
    assert "answers.json" in json.loads(members["manifest.json"])["files"]
    report = json.loads(members[f"reports/{rid}/report.json"])
    assert [m["answer_id"] is not None for m in report["media"]] == [False, True]
    manifest = json.loads(members["manifest.json"])
    name = next(n for n in members if n.endswith(f"/{extra.media_id}.jpg"))
    changed = {**members, name: members[name][:-1] + bytes([members[name][-1] ^ 1])}
    forged = _forge(changed, manifest)
    code, printed = _verdict(tmp_path, forged)
    assert code == 1
    assert f"{name}: {' / '.join(verify.MESSAGES['answer_changed'])}" in printed, printed
    assert f"answer file {name}" in independent_verifier.problems(forged, None)
    unbacked = [{**given[0], "answer_id": str(uuid.uuid4())}]
    forged = _forge({**members, "answers.json": json.dumps(unbacked).encode()}, manifest)
    code, printed = _verdict(tmp_path, forged)
    assert code == 1 and f"answers.json #1: {verify.MESSAGES['answer_unbacked'][0]}" in printed
    assert independent_verifier.problems(forged, None) == [f"answer {unbacked[0]['answer_id']}"]
