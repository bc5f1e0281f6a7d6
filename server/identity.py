"""The informant's identity (name, national ID, phone), encrypted at rest.

Encryption is Fernet (AES-128-CBC + HMAC-SHA256) with a key that lives outside the
database (``IDENTITY_KEY`` or ``instance/identity.key``). ``IDENTITY_KEY`` may hold
several comma-separated keys, newest first, to rotate without losing old records.
Nothing in this module logs or returns the plaintext except :func:`decrypt_identity`,
whose only caller must be an authorised, logged reveal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .settings import current_settings

IDENTITY_FIELDS = ("name", "national_id", "phone")


def _identity_key() -> str:
    return current_settings().identity_key or ""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in _identity_key().split(",") if k.strip()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def identity_of(reporter: dict[str, Any]) -> dict[str, str] | None:
    """The secret part of a validated ``reporter`` object, or None if it names nobody."""
    identity = {k: reporter[k] for k in IDENTITY_FIELDS if reporter.get(k)}
    return identity or None


def encrypt_identity(identity: dict[str, str] | None) -> bytes | None:
    if not identity:
        return None
    return _fernet().encrypt(json.dumps(identity, sort_keys=True).encode())


def decrypt_identity(ciphertext: bytes) -> dict[str, str]:
    """Plaintext identity. Only for an authorised reveal that is logged by the caller."""
    try:
        return json.loads(_fernet().decrypt(ciphertext))
    except InvalidToken as exc:  # wrong key: say so without any content
        raise RuntimeError("identity key does not decrypt this record") from exc


def keyed_digest(data: bytes) -> str:
    """HMAC-SHA256 under a key derived from the identity key.

    Used to fingerprint request bodies that contain an identity, so that the stored
    fingerprint cannot be used to guess a national ID by trying candidates.
    """
    first_key = _identity_key().split(",")[0].strip().encode()
    mac_key = hashlib.sha256(b"roadwatch body digest\0" + first_key).digest()
    return hmac.new(mac_key, data, hashlib.sha256).hexdigest()
