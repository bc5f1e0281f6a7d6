"""Sealing a capture (PROTOCOL §3.2a): the canonical manifest, its signature, the key.

Standard library plus ``cryptography``, so any client (and a verifier) can use it. This
is the one Python implementation of the manifest: the server builds the manifest a
report must carry with :func:`manifest_fields` too (``server/services/signing.py``),
from the validated report, and the PWA's ``pwa/js/signing.js`` is checked against the
same test vectors (``tests/data/capture_manifest_vectors.json``) as this module.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

MANIFEST_VERSION = 1
SIX = Decimal("0.000001")


def canonical(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII as itself (PROTOCOL §3.2a)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fixed6(x: float) -> str:
    """``x`` with exactly 6 decimals, rounded half away from zero on its exact binary value:
    what JavaScript's ``Number.prototype.toFixed(6)`` gives."""
    return str(Decimal(float(x)).quantize(SIX, rounding=ROUND_HALF_UP))


def utc_millis(at: datetime | str) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC, milliseconds cut (not rounded): JavaScript's
    ``new Date(text).toISOString()``. ``at``: an aware datetime or ISO 8601 text."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


def manifest_fields(
    report_id: str,
    captured_at: datetime | str,
    location: dict[str, Any],
    media: list[dict[str, Any]],
    app_version: str,
) -> dict[str, Any]:
    """The manifest of a report as a JSON object (its canonical text is what is signed)."""
    return {
        "v": MANIFEST_VERSION,
        "report_id": report_id,
        "captured_at": utc_millis(captured_at),
        "location": {
            "lat": fixed6(location["lat"]),
            "lon": fixed6(location["lon"]),
            "source": location["source"],
        },
        "media": [
            {"media_id": str(m["media_id"]), "sha256": m["sha256"], "size": m["size"]}
            for m in media
        ],
        "app_version": app_version,
    }


def manifest(report_id: str, body: dict[str, Any], app_version: str) -> str:
    """The canonical manifest of a report body as sent on the wire (§3.2)."""
    return canonical(
        manifest_fields(
            report_id, body["captured_at"], body["location"], body["media"], app_version
        )
    )


def sign(key: ec.EllipticCurvePrivateKey, text: str) -> str:
    """base64url (no padding) of the raw 64-byte r || s over the text's UTF-8 bytes."""
    r, s = decode_dss_signature(key.sign(text.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def seal(
    key: ec.EllipticCurvePrivateKey, report_id: str, body: dict[str, Any], app_version: str
) -> dict[str, str]:
    """The report's ``signature`` member."""
    text = manifest(report_id, body, app_version)
    return {"manifest": text, "value": sign(key, text)}


def public_spki(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SPKI DER in base64 (the body of ``PUT /api/v1/devices/key``)."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def load_or_create_key(path: Path) -> tuple[ec.EllipticCurvePrivateKey, bool]:
    """The key in ``path`` (PKCS#8 PEM), made there (mode 0600) when missing.
    Returns ``(key, created)``."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold an EC private key")
        return key, False
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return key, True
