"""Signed captures (issue 16, item 1): a device registers one P-256 key; a report carries
the canonical manifest of itself signed with it (sync/PROTOCOL.md §3.2a).

Every report is stored; one without a valid seal is flagged ``unsigned`` or
``signature_invalid``, and the console's case page says so in Vietnamese. The manifests
here come from :mod:`sync.seal` (the client's reading of the protocol); the server checks
them from the validated report (its own reading). Every test runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import CustodyEntry, Report
from sync import seal
from tests.factories import Api, MediaFile, photo, report_body

APP = "roadwatch-test/1"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "ext": True}


def _put_key(api: Api, body: dict[str, Any]):
    return api.client.put("/api/v1/devices/key", json=body, headers=api.auth)


@pytest.fixture
def signer(client: FlaskClient) -> tuple[Api, ec.EllipticCurvePrivateKey]:
    api, key = Api.register(client), _key()
    assert _put_key(api, {"spki": seal.public_spki(key)}).status_code == 201
    return api, key


# ------------------------------------------------------------------ the device key


@pytest.mark.parametrize("form", ["spki", "jwk"])
def test_a_device_registers_its_key_once_and_the_same_key_again_is_a_200(
    client: FlaskClient, form: str
) -> None:
    api, key = Api.register(client), _key()
    body = {"spki": seal.public_spki(key)} if form == "spki" else {"jwk": _jwk(key)}
    first = _put_key(api, body)
    assert first.status_code == 201
    der = base64.b64decode(seal.public_spki(key))
    assert first.get_json() == {
        "device_id": api.device_id,
        "key_id": hashlib.sha256(der).hexdigest(),
    }
    again = _put_key(api, {"jwk": _jwk(key)})  # the other form of the same key
    assert again.status_code == 200 and again.get_json() == first.get_json()


def test_another_key_for_the_same_device_is_refused_never_replaced(
    client: FlaskClient, signer: tuple[Api, ec.EllipticCurvePrivateKey]
) -> None:
    api, _ = signer
    resp = _put_key(api, {"spki": seal.public_spki(_key())})
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "device_key_conflict"


def _p384_spki() -> str:
    der = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"spki": "bm90IGEga2V5"}, id="not DER"),
        pytest.param({"spki": "%%%"}, id="not base64"),
        pytest.param("P-384", id="another curve"),
        pytest.param({"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}, id="short"),
        pytest.param({"jwk": {"kty": "RSA", "crv": "P-256", "x": "a", "y": "b"}}, id="RSA"),
        pytest.param({"spki": "x", "jwk": {"kty": "EC"}}, id="both forms"),
    ],
)
def test_a_key_that_is_not_p256_is_a_422(client: FlaskClient, body: Any) -> None:
    api = Api.register(client)
    if body == "P-384":
        body = {"spki": _p384_spki()}
    resp = _put_key(api, body)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["code"] == "validation_failed"


def test_registering_a_key_needs_the_device_token(client: FlaskClient) -> None:
    resp = client.put("/api/v1/devices/key", json={"spki": seal.public_spki(_key())})
    assert resp.status_code == 401


def test_the_key_registration_is_in_the_custody_trail(
    app: Flask, signer: tuple[Api, ec.EllipticCurvePrivateKey]
) -> None:
    api, _ = signer
    with app.app_context():
        entry = db.session.scalar(sa.select(CustodyEntry).where(CustodyEntry.kind == "device_key"))
        assert entry.subject == api.device_id


# ------------------------------------------------------------------ sealed reports


def _signed_body(
    api: Api, key: ec.EllipticCurvePrivateKey, rid: str, media: list[MediaFile] | None = None
) -> dict[str, Any]:
    body = report_body(media if media is not None else [photo()])
    body["signature"] = seal.seal(key, rid, body, APP)
    return body


def _flags(resp) -> list[str]:
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()["flags"]


def test_a_signed_capture_verifies_and_carries_no_seal_flag(
    app: Flask, signer: tuple[Api, ec.EllipticCurvePrivateKey]
) -> None:
    api, key = signer
    rid, media = str(uuid.uuid4()), photo()
    body = _signed_body(api, key, rid, [media])
    flags = _flags(api.put_report(rid, body))
    assert "unsigned" not in flags and "signature_invalid" not in flags
    assert _flags(api.put_report(rid, body)) == flags  # a retry: the same report
    after = _flags(api.put_media(rid, media))  # flags recomputed at receipt keep the seal's
    assert "unsigned" not in after and "signature_invalid" not in after
    with app.app_context():
        report = db.session.get(Report, rid)
        assert report.signature_status == "valid"
        assert report.capture_manifest == body["signature"]["manifest"]
        assert report.capture_signature == body["signature"]["value"]
        assert json.loads(report.capture_manifest)["report_id"] == rid


def test_an_unsigned_report_is_stored_and_flagged_and_keeps_the_flag(api_unsigned: Api) -> None:
    rid, media = str(uuid.uuid4()), photo()
    assert "unsigned" in _flags(api_unsigned.put_report(rid, report_body([media])))
    assert "unsigned" in _flags(api_unsigned.put_media(rid, media))


@pytest.fixture
def api_unsigned(client: FlaskClient) -> Api:
    return Api.register(client)


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[dict, Any], None]:
    """Change a member of the signed manifest (re-signed: only the content is wrong)."""

    def apply(body: dict, key: Any) -> None:
        manifest = json.loads(body["signature"]["manifest"])
        change(manifest)
        text = seal.canonical(manifest)
        body["signature"] = {"manifest": text, "value": seal.sign(key, text)}

    return apply


def _edit_report(change: Callable[[dict], None]) -> Callable[[dict, Any], None]:
    """Change the report after it was signed (the signature stays as it was)."""
    return lambda body, key: change(body)


def _set_value(body: dict, key: Any) -> None:
    other = seal.sign(_key(), body["signature"]["manifest"])
    body["signature"]["value"] = other


def _pretty(body: dict, key: Any) -> None:
    text = json.dumps(json.loads(body["signature"]["manifest"]), indent=1, sort_keys=True)
    body["signature"] = {"manifest": text, "value": seal.sign(key, text)}


def _other_media(m: dict) -> None:
    m["media"][0]["sha256"] = "0" * 64


TAMPERING: dict[str, Callable[[dict, Any], None]] = {
    "a file's hash in the manifest": _edit_manifest(_other_media),
    "a file's size in the report": _edit_report(lambda b: b["media"][0].update(size=7)),
    "the place in the report": _edit_report(lambda b: b["location"].update(lat=21.03)),
    "the time in the report": _edit_report(
        lambda b: b.update(captured_at="2026-11-20T08:16:30+07:00")
    ),
    "another report id in the manifest": _edit_manifest(
        lambda m: m.update(report_id=str(uuid.uuid4()))
    ),
    "a member renamed in the manifest": _edit_manifest(lambda m: m.update(V=m.pop("v"))),
    "a file dropped from the manifest": _edit_manifest(lambda m: m["media"].pop()),
    "an extra member in the manifest": _edit_manifest(lambda m: m.update(extra="x")),
    "no app version": _edit_manifest(lambda m: m.pop("app_version")),
    "signed by another key": _set_value,
    "a manifest not in canonical form": _pretty,
    "the manifest's bytes changed after signing": lambda b, k: b["signature"].update(
        manifest=b["signature"]["manifest"].replace('"v":1', '"v":2')
    ),
}


@pytest.mark.parametrize("tamper", list(TAMPERING))
def test_a_tampered_seal_is_stored_but_flagged_signature_invalid(
    app: Flask, signer: tuple[Api, ec.EllipticCurvePrivateKey], tamper: str
) -> None:
    api, key = signer
    rid = str(uuid.uuid4())
    body = _signed_body(api, key, rid, [photo(), photo(lat=21.0286)])
    body = copy.deepcopy(body)
    TAMPERING[tamper](body, key)
    flags = _flags(api.put_report(rid, body))
    assert "signature_invalid" in flags and "unsigned" not in flags
    with app.app_context():
        assert db.session.get(Report, rid).signature_status == "invalid"


def test_a_signature_from_a_device_without_a_key_is_invalid(client: FlaskClient) -> None:
    api, rid = Api.register(client), str(uuid.uuid4())
    body = _signed_body(api, _key(), rid)
    assert "signature_invalid" in _flags(api.put_report(rid, body))


def test_a_capture_sealed_by_one_device_and_sent_by_another_is_invalid(
    client: FlaskClient, signer: tuple[Api, ec.EllipticCurvePrivateKey]
) -> None:
    owner, key = signer
    other = Api.register(client)
    assert _put_key(other, {"spki": seal.public_spki(_key())}).status_code == 201
    rid = str(uuid.uuid4())
    body = _signed_body(owner, key, rid)
    assert "signature_invalid" in _flags(other.put_report(rid, body))


@pytest.mark.parametrize(
    "signature",
    [
        {"manifest": "{}"},
        {"manifest": "{}", "value": "abc"},
        {"manifest": "", "value": "A" * 86},
        {"manifest": "{}", "value": "A" * 86, "extra": 1},
    ],
)
def test_a_malformed_signature_member_is_a_422(api_unsigned: Api, signature: dict) -> None:
    resp = api_unsigned.put_report(str(uuid.uuid4()), report_body(signature=signature))
    assert resp.status_code == 422
    assert any(k.startswith("signature") for k in resp.get_json()["errors"])


def test_a_report_stored_unsigned_is_not_changed_by_a_signed_retry(
    signer: tuple[Api, ec.EllipticCurvePrivateKey],
) -> None:
    """A seal cannot be added afterwards: the signed body is a different body."""
    api, key = signer
    rid, media = str(uuid.uuid4()), photo()
    body = report_body([media])
    assert api.put_report(rid, body).status_code == 201
    body["signature"] = seal.seal(key, rid, body, APP)
    assert api.put_report(rid, body).status_code == 409


# ------------------------------------------------------------------ the console


def test_the_case_page_says_in_vietnamese_whether_the_capture_is_sealed(
    app: Flask, client: FlaskClient, signer: tuple[Api, ec.EllipticCurvePrivateKey]
) -> None:
    from server.services import accounts
    from tests.test_console import PASSWORD, session_for

    api, key = signer
    rid = str(uuid.uuid4())
    assert api.put_report(rid, _signed_body(api, key, rid)).status_code == 201
    other = str(uuid.uuid4())
    body = _signed_body(api, key, other)
    body["location"]["lon"] = 105.8049  # still Đống Đa, but not what was signed
    assert api.put_report(other, body).status_code == 201
    unsigned = str(uuid.uuid4())
    assert api.put_report(unsigned, report_body()).status_code == 201
    with app.app_context():
        accounts.create_user("rev", PASSWORD, "reviewer", districts=["006"], display_name="R")
        cases = {r: db.session.get(Report, r).case_id for r in (rid, other, unsigned)}
    c = session_for(app, "rev")
    expected = {
        rid: "Chữ ký của thiết bị khi chụp: Hợp lệ: niêm phong trên điện thoại lúc chụp",
        other: "Chữ ký của thiết bị không hợp lệ",
        unsigned: "Không có chữ ký của thiết bị",
    }
    for report_id, words in expected.items():
        page = c.get(f"/console/cases/{cases[report_id]}").get_data(as_text=True)
        start = page.index(f'id="r-{report_id}"')
        section = page[start : page.index("</article>", start)]
        assert words in section, report_id
    english = c.get(f"/console/cases/{cases[unsigned]}?lang=en").get_data(as_text=True)
    assert "No device signature" in english and "unsigned" not in english.replace(
        "s-sig-unsigned", ""
    )
