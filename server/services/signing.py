"""Signed captures (issue 16, item 1): device keys and the capture manifest's check.

A device registers one ECDSA P-256 public key (:func:`register_key`, SPKI DER in base64
or a JWK); a different key later is refused (a lost or rotated key is a new device
registration), never silently accepted. At capture the phone signs a manifest of the
report (:func:`expected_manifest`, canonical form in sync/PROTOCOL.md §3.2a); the report
carries it and the signature. :func:`check_report` decides ``valid``, ``unsigned`` or
``invalid``; a report is stored whatever the verdict, flagged ``unsigned`` or
``signature_invalid`` (:data:`FLAG_OF`) for the reviewer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy.exc import IntegrityError

from sync import seal

from ..extensions import db
from ..models import Device, DeviceKey, utcnow
from . import custody, errors

MANIFEST_VERSION = seal.MANIFEST_VERSION
MAX_APP_VERSION = 64
FLAG_OF = {"unsigned": "unsigned", "invalid": "signature_invalid"}
SIGNATURE_FLAGS = frozenset(FLAG_OF.values())


def KeyInvalid() -> errors.ValidationFailed:  # noqa: N802 (raised like an exception class)
    """The public key is not an ECDSA P-256 key in SPKI or JWK form: a 422 naming it."""
    return errors.ValidationFailed(
        {"public_key": ["Must be an ECDSA P-256 public key (SPKI or JWK)."]}
    )


def _b64(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def load_key(
    spki: str | None = None, jwk: dict[str, Any] | None = None
) -> ec.EllipticCurvePublicKey:
    """The P-256 public key given as SPKI DER (base64) or as a JWK; KeyInvalid otherwise."""
    try:
        if spki is not None:
            key = serialization.load_der_public_key(_b64(spki))
        elif jwk is not None:
            if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
                raise KeyInvalid()
            x, y = _b64(str(jwk["x"])), _b64(str(jwk["y"]))
            if len(x) != 32 or len(y) != 32:
                raise KeyInvalid()
            key = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            ).public_key()
        else:
            raise KeyInvalid()
    except (ValueError, TypeError, KeyError, binascii.Error, UnsupportedAlgorithm):
        raise KeyInvalid() from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyInvalid()
    return key


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id_of(key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 (hex) of the key's SPKI DER bytes."""
    return hashlib.sha256(spki_der(key)).hexdigest()


def register_key(device: Device, key: ec.EllipticCurvePublicKey) -> tuple[DeviceKey, bool]:
    """Store the device's public key once. Returns ``(key, created)``; the same key again
    is ``created=False``; another key raises DeviceKeyConflict. Commits."""
    key_id = key_id_of(key)
    existing = db.session.get(DeviceKey, device.id)
    if existing is None:
        stored = DeviceKey(
            device_id=device.id,
            key_id=key_id,
            public_key=base64.b64encode(spki_der(key)).decode(),
            created_at=utcnow(),
        )
        try:
            db.session.add(stored)
            db.session.flush()
        except IntegrityError:  # another request registered a key for it first
            db.session.rollback()
            existing = db.session.get(DeviceKey, device.id)
        else:
            custody.append("device_key", device.id, {"device_id": device.id, "key_id": key_id})
            db.session.commit()
            return stored, True
    db.session.commit()
    if existing is None or existing.key_id != key_id:
        raise errors.DeviceKeyConflict()
    return existing, False


# ------------------------------------------------------------------ the manifest


canonical = seal.canonical


def expected_manifest(report_id: str, data: dict[str, Any], app_version: str) -> dict[str, Any]:
    """The manifest of a validated report body (``ReportInSchema``), as its fields must be
    (:func:`sync.seal.manifest_fields`, the one implementation the clients use too).

    It names no device: the key is the device's (one key per device, §3.1a), so a phone
    can seal a capture before it ever reached the server."""
    return seal.manifest_fields(
        report_id, data["captured_at"], data["location"], data["media"], app_version
    )


@dataclass(frozen=True)
class Seal:
    status: str  # valid, unsigned, invalid
    manifest: str | None = None
    signature: str | None = None
    key_id: str | None = None

    @property
    def flags(self) -> list[str]:
        return [FLAG_OF[self.status]] if self.status in FLAG_OF else []


def _signature_der(value: str) -> bytes | None:
    try:
        raw = _b64(value)
    except (ValueError, binascii.Error):
        return None
    if len(raw) != 64:
        return None
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def _manifest_matches(manifest: str, report_id: str, data: dict[str, Any]) -> bool:
    try:
        parsed = json.loads(manifest)
    except ValueError:
        return False
    if not isinstance(parsed, dict) or canonical(parsed) != manifest:
        return False
    version = parsed.get("app_version")
    if not isinstance(version, str) or not 0 < len(version) <= MAX_APP_VERSION:
        return False
    return parsed == expected_manifest(report_id, data, version)


def check_report(device: Device, report_id: str, data: dict[str, Any]) -> Seal:
    """The seal of a validated report body: ``unsigned`` without a signature; ``invalid``
    when the device has no key, the manifest is not the canonical manifest of this very
    report, or the signature does not verify under the device's key; else ``valid``."""
    sig = data.get("signature")
    if not sig:
        return Seal("unsigned")
    manifest, value = sig["manifest"], sig["value"]
    stored = db.session.get(DeviceKey, device.id)
    key_id = stored.key_id if stored else None
    invalid = Seal("invalid", manifest, value, key_id)
    der = _signature_der(value)
    if stored is None or der is None or not _manifest_matches(manifest, report_id, data):
        return invalid
    key = serialization.load_der_public_key(base64.b64decode(stored.public_key))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    try:
        key.verify(der, manifest.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return invalid
    return Seal("valid", manifest, value, key_id)
