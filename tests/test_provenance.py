"""C2PA Content Credentials of evidence (issue 16, item 2; server/provenance.py).

Real C2PA files are made here with c2pa-python's Builder, signed by a throwaway ES256
P-256 chain (a CA and a signing certificate) that :func:`make_chain` draws with
``cryptography``: nothing is stored under tests/data. That chain is on no trust list
unless a test configures its CA (``C2PA_TRUST_ANCHORS``), so the file is ``untrusted``:
intact, "signed by <name>, not on the trust list"; with its CA on the list it is
``signed`` (camera-signed), and a different CA of the same name does not count.

What is checked: the classification table on files (signed, edited by action, by
ingredient or by a non-camera source, invalid after a byte flip or with a truncated or
garbled manifest, none for a plain photo, not checked for WebM), the bounds (a reader that
runs out of time or memory is "invalid", not a hung worker), the upload path storing the
result per media file on SQLite and PostgreSQL and on a folder and a bucket (direct PUT
and a tus upload), and the case page's line in Vietnamese and English.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Flask
from flask.testing import FlaskClient

from server import provenance
from server.extensions import db
from server.models import Media, Report
from server.services import accounts
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import make_jpeg, make_mov_head, make_mp4_head, make_png, make_webm_head

CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
AI = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SIGNER_CN = "Máy ảnh thử nghiệm"  # the signing certificate's common name
ISSUER_O = "RoadWatch Test CA Org"
PASSWORD = "correct horse battery"


# ----------------------------------------------------------------------- test signing


@dataclass(frozen=True)
class Chain:
    certs_pem: bytes  # the signing certificate, then the CA
    key_pem: bytes


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_O),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


@cache
def make_chain() -> Chain:
    """A CA and a C2PA signing certificate under it (ES256, P-256), valid for a month."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def cert(subject: str, issuer: x509.Name, public_key, ca: bool) -> x509.CertificateBuilder:
        b = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_usage(sign=not ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )
        return b

    ca = cert("RoadWatch Test CA", _name("RoadWatch Test CA"), ca_key.public_key(), True)
    ca_cert = ca.sign(ca_key, hashes.SHA256())
    leaf = (
        cert(SIGNER_CN, ca_cert.subject, key.public_key(), False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Chain(
        certs_pem=leaf.public_bytes(pem) + ca_cert.public_bytes(pem),
        key_pem=key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def created(source: str = CAPTURE) -> dict[str, Any]:
    return {"action": "c2pa.created", "digitalSourceType": source}


def sign(
    data: bytes,
    fmt: str = "image/jpeg",
    actions: list[dict[str, Any]] | None = None,
    parent: bytes | None = None,
    chain: Chain | None = None,
) -> bytes:
    """``data`` with an embedded C2PA manifest signed by :func:`make_chain`: the given
    actions (default: a camera capture) and, with ``parent``, that file as the parent
    ingredient (opened, then colour-adjusted: an edit)."""
    chain = chain or make_chain()
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain.certs_pem, chain.key_pem, None)
    if parent is not None:
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
            {"action": "c2pa.color_adjustments"},
        ]
    manifest = {
        "claim_generator_info": [{"name": "RoadWatch test camera", "version": "1.0"}],
        "format": fmt,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions or [created()]}}],
    }
    out = io.BytesIO()
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        if parent is not None:
            ingredient = {"title": "original.jpg", "relationship": "parentOf", "label": "parent"}
            builder.add_ingredient(ingredient, fmt, io.BytesIO(parent))
        builder.sign(signer, fmt, io.BytesIO(data), out)
    return out.getvalue()


def flip_last_scan_byte(jpeg: bytes) -> bytes:
    """One byte of the JPEG's image data changed (just before the EOI marker)."""
    i = len(jpeg) - 10
    return jpeg[:i] + bytes([jpeg[i] ^ 0xFF]) + jpeg[i + 1 :]


def app11(jpeg: bytes) -> int:
    """Where the first APP11 segment (the C2PA manifest's JUMBF) starts."""
    i = jpeg.find(b"\xff\xeb")
    assert i > 0
    return i


def garble_manifest(jpeg: bytes) -> bytes:
    i = app11(jpeg) + 60
    return jpeg[:i] + bytes(20) + jpeg[i + 20 :]


def truncate_in_manifest(jpeg: bytes) -> bytes:
    return jpeg[: app11(jpeg) + 200]


def photo_bytes(seed: int = 1) -> bytes:
    return make_jpeg(size=(96, 64), seed=seed)


@cache
def signed_photo(seed: int = 1) -> bytes:
    return sign(photo_bytes(seed))


# ------------------------------------------------------------------ the classification


def _files() -> dict[str, tuple[bytes, str]]:
    original = signed_photo()
    return {
        "signed_jpeg": (original, "image/jpeg"),
        "signed_png": (sign(make_png(seed=2), "image/png"), "image/png"),
        "signed_mp4": (sign(make_mp4_head(total=8192), "video/mp4"), "video/mp4"),
        "signed_mov": (sign(make_mov_head(total=8192), "video/quicktime"), "video/quicktime"),
        "edit_action": (
            sign(photo_bytes(), actions=[created(), {"action": "c2pa.edited"}]),
            "image/jpeg",
        ),
        "colour_action": (
            sign(photo_bytes(), actions=[created(), {"action": "c2pa.color_adjustments"}]),
            "image/jpeg",
        ),
        "parent_ingredient": (sign(photo_bytes(3), parent=original), "image/jpeg"),
        "ai_generated": (sign(photo_bytes(), actions=[created(AI)]), "image/jpeg"),
        "byte_flipped": (flip_last_scan_byte(original), "image/jpeg"),
        "truncated_manifest": (truncate_in_manifest(original), "image/jpeg"),
        "garbled_manifest": (garble_manifest(original), "image/jpeg"),
        "plain_jpeg": (photo_bytes(), "image/jpeg"),
        "plain_png": (make_png(seed=2), "image/png"),
    }


# name -> (status, a validation code it must record, or None)
TABLE = {
    "signed_jpeg": ("untrusted", "signingCredential.untrusted"),
    "signed_png": ("untrusted", None),
    "signed_mp4": ("untrusted", None),
    "signed_mov": ("untrusted", None),
    "edit_action": ("edited", None),
    "colour_action": ("edited", None),
    "parent_ingredient": ("edited", None),
    "ai_generated": ("edited", None),
    "byte_flipped": ("invalid", "assertion.dataHash.mismatch"),
    "truncated_manifest": ("invalid", "c2pa.Other"),
    "garbled_manifest": ("invalid", "c2pa.Verify"),
    "plain_jpeg": ("none", None),
    "plain_png": ("none", None),
}


@pytest.fixture(scope="module")
def files() -> dict[str, tuple[bytes, str]]:
    return _files()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_content_credentials_are_classified(
    name: str, files: dict[str, tuple[bytes, str]], tmp_path: Path
) -> None:
    data, content_type = files[name]
    path = tmp_path / "evidence"
    path.write_bytes(data)
    status, code = TABLE[name]
    result = provenance.check(path, content_type)  # the child process, as on upload
    assert result is not None and result.status == status, result
    if status == "none":
        assert result.detail is None
        return
    assert result.detail is not None
    if code is not None:
        assert code in result.detail["codes"], result.detail
    if status in ("untrusted", "edited") or name == "byte_flipped":
        assert result.detail["signer"] == SIGNER_CN
        assert result.detail["issuer"] == ISSUER_O
        assert result.detail["claim_generator"] == "RoadWatch test camera 1.0"
        assert result.detail["trusted"] is False  # no trust list: nobody is a camera maker
    assert path.read_bytes() == data  # read only


def test_signed_detail_lists_the_capture_and_edits_their_actions(
    files: dict[str, tuple[bytes, str]], tmp_path: Path
) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(files["signed_jpeg"][0])
    signed = provenance.read(path, "image/jpeg")
    assert signed.detail["actions"] == ["c2pa.created"]
    assert signed.detail["source_type"] == "digitalCapture"
    assert signed.detail["ingredients"] == 0
    path.write_bytes(files["parent_ingredient"][0])
    edited = provenance.read(path, "image/jpeg")
    assert edited.status == "edited"
    assert edited.detail["ingredients"] == 1
    assert "c2pa.color_adjustments" in edited.detail["actions"]


def test_webm_is_not_checked_and_the_library_is_not_asked(tmp_path: Path) -> None:
    path = tmp_path / "v.webm"
    path.write_bytes(make_webm_head() + b"c2pa")
    assert provenance.check(path, "video/webm") is None


def test_a_reader_out_of_time_or_memory_is_invalid_not_a_hang(
    files: dict[str, tuple[bytes, str]], tmp_path: Path
) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(files["signed_jpeg"][0])
    slow = provenance.check(path, "image/jpeg", timeout=0.001)
    assert slow == provenance.Provenance("invalid", {"codes": ["roadwatch.timeout"]})
    starved = provenance.check(path, "image/jpeg", memory_bytes=8 << 20)
    assert starved == provenance.Provenance("invalid", {"codes": ["roadwatch.reader_crashed"]})


def _ca_pem(chain: Chain) -> bytes:
    return b"-----BEGIN CERTIFICATE-----" + chain.certs_pem.split(b"-----BEGIN CERTIFICATE-----")[2]


def test_a_signer_counts_as_a_camera_maker_only_when_it_chains_to_the_trust_list(
    tmp_path: Path,
) -> None:
    chain = make_chain()
    path = tmp_path / "evidence.jpg"
    path.write_bytes(sign(photo_bytes(5), chain=chain))
    ours, impostor, other = tmp_path / "ours.pem", tmp_path / "impostor.pem", tmp_path / "o.pem"
    fresh = make_chain.__wrapped__  # make_chain is cached: these are other CAs
    ours.write_bytes(_ca_pem(fresh()) + _ca_pem(chain))  # a list of two CAs
    impostor.write_bytes(_ca_pem(fresh()))  # another CA with the very same name
    other.write_bytes(b"not a certificate")
    trusted = provenance.check(path, "image/jpeg", trust_anchors=str(ours))
    assert trusted is not None and trusted.status == "signed" and trusted.detail["trusted"]
    for anchors in (None, str(impostor), str(other)):
        result = provenance.check(path, "image/jpeg", trust_anchors=anchors)
        assert result is not None and (result.status, result.detail["trusted"]) == (
            "untrusted",
            False,
        ), anchors
        assert result.detail["signer"] == SIGNER_CN


def test_classify_invalid_unless_only_trust_codes_fail() -> None:
    def store(state: str, failures: list[str]) -> dict[str, Any]:
        manifest = {"assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [created()]}}]}
        return {
            "active_manifest": "m",
            "manifests": {"m": manifest},
            "validation_state": state,
            "validation_results": {"activeManifest": {"failure": [{"code": c} for c in failures]}},
        }

    assert provenance.classify(store("Trusted", [])).status == "signed"
    assert provenance.classify(store("Trusted", [])).detail["trusted"] is True
    untrusted = store("Valid", ["signingCredential.untrusted"])
    assert provenance.classify(untrusted).status == "untrusted"
    assert provenance.classify(store("Valid", ["timeStamp.mismatch"])).status == "invalid"
    assert provenance.classify(store("Invalid", [])).status == "invalid"
    assert provenance.classify({"manifests": {}}).status == "invalid"


# ------------------------------------------------------------------------ the upload


def _send(
    client: FlaskClient, data: bytes, content_type: str = "image/jpeg", **overrides: Any
) -> tuple[str, str]:
    """A report with one file, uploaded by PUT: (report id, media id)."""
    api = Api.register(client)
    media = MediaFile(data, content_type)
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media], **overrides)).status_code == 201
    resp = api.put_media(rid, media)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return rid, media.media_id


def _stored(app: Flask, media_id: str) -> Media:
    with app.app_context():
        media = db.session.get(Media, media_id)
        db.session.expunge(media)
        return media


@pytest.mark.usefixtures("storage")
@pytest.mark.parametrize("name", ["signed_jpeg", "byte_flipped", "plain_jpeg"])
def test_upload_records_the_provenance_of_each_file(
    app: Flask, client: FlaskClient, files: dict[str, tuple[bytes, str]], name: str
) -> None:
    data, content_type = files[name]
    _, media_id = _send(client, data, content_type)
    media = _stored(app, media_id)
    assert media.provenance == TABLE[name][0]
    if name == "plain_jpeg":
        assert media.provenance_detail is None
    else:
        assert media.provenance_detail["signer"] == SIGNER_CN


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["garbled_manifest", "edit_action"])
def test_a_broken_or_edited_manifest_is_recorded_never_a_500(
    app: Flask, client: FlaskClient, files: dict[str, tuple[bytes, str]], name: str
) -> None:
    data, content_type = files[name]
    rid, media_id = _send(client, data, content_type)
    assert _stored(app, media_id).provenance == TABLE[name][0]
    with app.app_context():
        assert db.session.get(Report, rid).status == "submitted"  # accepted as evidence


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_file_cut_inside_its_manifest_is_refused_as_no_image_never_a_500(
    app: Flask, client: FlaskClient, files: dict[str, tuple[bytes, str]]
) -> None:
    """Cut 200 bytes into the manifest, the file has no picture left: its header does not
    decode, so it is refused like any non-image (422), and nothing is marked received."""
    data, content_type = files["truncated_manifest"]
    api = Api.register(client)
    media = MediaFile(data, content_type)
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    resp = api.put_media(rid, media)
    assert resp.status_code == 422
    assert resp.get_json()["reason"] == "image_not_decodable"
    assert _stored(app, media.media_id).received_at is None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_webm_video_is_not_checked(app: Flask, client: FlaskClient) -> None:
    _, media_id = _send(client, make_webm_head(total=8192), "video/webm")
    assert _stored(app, media_id).provenance is None


@pytest.mark.usefixtures("storage")
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_resumable_upload_records_the_provenance_too(
    app: Flask, client: FlaskClient, files: dict[str, tuple[bytes, str]]
) -> None:
    data = files["signed_jpeg"][0]
    api = Api.register(client)
    media = MediaFile(data)
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    meta = f"report_id {_b64(rid)},media_id {_b64(media.media_id)}"
    tus = {"Tus-Resumable": "1.0.0", **api.auth}
    created_ = client.post(
        "/api/v1/uploads",
        headers={**tus, "Upload-Length": str(len(data)), "Upload-Metadata": meta},
    )
    assert created_.status_code == 201, created_.get_data(as_text=True)
    location = created_.headers["Location"]
    half = len(data) // 2
    for offset, chunk in ((0, data[:half]), (half, data[half:])):
        resp = client.patch(
            location,
            data=chunk,
            headers={
                **tus,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert resp.status_code == 204, resp.get_data(as_text=True)
    assert _stored(app, media.media_id).provenance == "untrusted"


def test_with_its_ca_on_the_configured_trust_list_an_upload_is_camera_signed(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    import dataclasses

    chain = make_chain()
    anchors = tmp_path / "trust.pem"
    anchors.write_bytes(_ca_pem(chain))
    settings = app.extensions["settings"]
    app.extensions["settings"] = dataclasses.replace(settings, c2pa_trust_anchors=str(anchors))
    _, media_id = _send(client, sign(photo_bytes(7), chain=chain))
    media = _stored(app, media_id)
    assert (media.provenance, media.provenance_detail["trusted"]) == ("signed", True)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ------------------------------------------------------------------------- the console


def _reviewer(app: Flask) -> FlaskClient:
    with app.app_context():
        accounts.create_user("rev_p", PASSWORD, "reviewer", districts=["006"])
    c = app.test_client()
    resp = c.post(
        "/console/login",
        data={"username": "rev_p", "password": PASSWORD, "csrf_token": _csrf(c)},
    )
    assert resp.status_code == 302
    return c


def _csrf(c: FlaskClient) -> str:
    import re

    page = c.get("/console/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _case_page(app: Flask, c: FlaskClient, report_id: str, lang: str | None = None) -> str:
    with app.app_context():
        case_id = db.session.get(Report, report_id).case_id
    query = f"?lang={lang}" if lang else ""
    resp = c.get(f"/console/cases/{case_id}{query}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


CONSOLE = {  # file -> (Vietnamese, English) words on the case page
    "signed_jpeg": (
        "có chữ ký, nhưng người ký không thuộc danh sách tin cậy",
        "signed, but the signer is not on the trust list",
    ),
    "colour_action": ("đã chỉnh sửa", "edited"),
    "byte_flipped": ("chữ ký không hợp lệ", "invalid"),
    # A generative model's picture says so, not only "edited" (issue 26).
    "ai_generated": ("Ảnh/video do trí tuệ nhân tạo (AI) tạo ra", "AI-generated photo/video"),
}


def test_the_case_page_shows_the_provenance_in_vietnamese_and_english(
    app: Flask, client: FlaskClient, files: dict[str, tuple[bytes, str]]
) -> None:
    sent = {  # one case each: other plates, days apart (no same-plate or similar-photo join)
        name: _send(
            client,
            files[name][0],
            plate=f"30A-{100 + i}.45",
            captured_at=f"2026-11-{20 - 4 * i:02d}T08:15:30+07:00",
        )[0]
        for i, name in enumerate([*CONSOLE, "plain_jpeg"])
    }
    c = _reviewer(app)
    for name, (vi, en) in CONSOLE.items():
        page_vi = _case_page(app, c, sent[name], "vi")  # ?lang= is remembered
        if name == "ai_generated":
            assert f'<strong class="ai-generated">{vi}</strong>' in page_vi
        else:
            assert (
                "Thông tin xác thực nội dung (C2PA): "
                + (f"<strong>{vi}</strong>" if name == "byte_flipped" else vi)
                in page_vi
            ), name
        assert f"người ký: {SIGNER_CN} ({ISSUER_O})" in page_vi
        page_en = _case_page(app, c, sent[name], "en")
        assert "Content Credentials (C2PA): " in page_en and en in page_en, name
        assert f"signed by: {SIGNER_CN} ({ISSUER_O})" in page_en
    plain = _case_page(app, c, sent["plain_jpeg"], "vi")
    assert 'class="provenance p-none muted">Thông tin xác thực nội dung (C2PA): không có' in plain
    for vi, _ in CONSOLE.values():
        assert vi not in plain
    for name in ("signed_jpeg", "colour_action"):  # not made by a model: no such label
        assert "ai-generated" not in _case_page(app, c, sent[name], "vi")
    assert "người ký" not in plain
    plain_en = _case_page(app, c, sent["plain_jpeg"], "en")
    assert "Content Credentials (C2PA): not present" in plain_en
    assert "camera-signed" not in page_en  # no trust list configured: nobody is a maker
