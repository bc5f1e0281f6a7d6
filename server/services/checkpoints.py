"""The server's signing key and its signed checkpoints of the custody chain (issue 27).

**The key.** An Ed25519 key of the server's own, generated on first use into the
instance folder like the other keys (``CHECKPOINT_DIR``, default ``checkpoints/`` in the
instance folder: ``keys/<key_id>.pem``, PKCS#8 PEM, mode 0600; ``keys/current`` names
the one in use; every node of a cluster shares the folder). ``key_id`` is the SHA-256 (hex)
of the public key's SPKI DER bytes. ``flask --app wsgi audit rotate-key`` makes a new
current key; older ones stay in the folder and in the published list, so packages they
signed still verify. The public keys are served at
``/.well-known/roadwatch-checkpoint-keys.json`` (:func:`published`).

**A checkpoint** is the canonical JSON (sorted keys, no whitespace, UTF-8)
``{"at", "count", "format": "roadwatch-checkpoint", "hash", "key_id", "seq", "v": 1}``:
the chain's head (seq and hash), its number of entries and the UTC time
(``YYYY-MM-DDTHH:MM:SS.ffffffZ``), signed (Ed25519 over those bytes, base64url without
padding). One is signed at every evidence export and by ``flask --app wsgi audit
checkpoint`` (run it from cron, e.g. hourly); each is appended to
``checkpoints.jsonl`` of that folder, outside the database, so that someone who
can write the database alone cannot move the reference: ``audit verify`` checks the chain
against the newest checkpoint whose signature verifies.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from ..extensions import db
from ..models import CustodyEntry, utcnow
from . import custody

FORMAT = "roadwatch-checkpoint"
KEYS_FORMAT = "roadwatch-checkpoint-keys"
KEY_DIR = "keys"
LOG = "checkpoints.jsonl"
WELL_KNOWN = "/.well-known/roadwatch-checkpoint-keys.json"
_CHAIN = CustodyEntry.__table__


@dataclass(frozen=True)
class Signed:
    """A signed statement: the exact bytes (text) signed, the key's id, the signature."""

    text: str
    key_id: str
    signature: str

    def as_json(self) -> dict[str, str]:
        return {"signed": self.text, "key_id": self.key_id, "signature": self.signature}

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.text)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def spki(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id_of(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(spki(key)).hexdigest()


def _folder(base: str | None = None) -> Path:
    """The keys' folder under ``base`` (default: CHECKPOINT_DIR of the current app)."""
    return Path(base or current_app.extensions["settings"].checkpoint_dir) / KEY_DIR


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _new_key(folder: Path) -> str:
    key = Ed25519PrivateKey.generate()
    key_id = key_id_of(key.public_key())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(folder / f"{key_id}.pem", pem)
    _write_private(folder / "current", (key_id + "\n").encode())
    return key_id


def _load(folder: Path, key_id: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key((folder / f"{key_id}.pem").read_bytes(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{folder / key_id}.pem is not an Ed25519 key")
    return key


def current_key(base: str | None = None) -> tuple[str, Ed25519PrivateKey]:
    """The key in use ``(key_id, key)``, made on first use."""
    folder = _folder(base)
    marker = folder / "current"
    if not marker.exists():
        with _locked(folder):
            if not marker.exists():
                _new_key(folder)
    key_id = marker.read_text().strip()
    return key_id, _load(folder, key_id)


def rotate(base: str | None = None) -> str:
    """Make a new current key; the old ones stay published. Returns the new key's id."""
    folder = _folder(base)
    with _locked(folder):
        return _new_key(folder)


def public_keys(base: str | None = None) -> dict[str, Ed25519PublicKey]:
    """Every key of the folder, current and retired, by id."""
    folder = _folder(base)
    keys: dict[str, Ed25519PublicKey] = {}
    for path in sorted(folder.glob("*.pem")) if folder.exists() else []:
        private = serialization.load_pem_private_key(path.read_bytes(), None)
        if isinstance(private, Ed25519PrivateKey):
            keys[key_id_of(private.public_key())] = private.public_key()
    return keys


def public_current(base: str | None = None) -> tuple[str, str]:
    """The current key as ``(key_id, SPKI DER in base64)`` (printed in the workbook)."""
    key_id, key = current_key(base)
    return key_id, base64.b64encode(spki(key.public_key())).decode()


def published(base: str | None = None) -> dict[str, Any]:
    """The body of the well-known URL: every public key, which one is current."""
    current, _ = current_key(base)
    return {
        "format": KEYS_FORMAT,
        "v": 1,
        "keys": [
            {
                "key_id": key_id,
                "alg": "Ed25519",
                "spki": base64.b64encode(spki(key)).decode(),
                "current": key_id == current,
            }
            for key_id, key in sorted(public_keys(base).items())
        ],
    }


def sign(data: dict[str, Any] | str, base: str | None = None) -> Signed:
    """Sign canonical JSON of ``data`` (or the text itself) with the current key."""
    key_id, key = current_key(base)
    text = data if isinstance(data, str) else custody.canonical_json(data)
    return Signed(text, key_id, _b64url(key.sign(text.encode("utf-8"))))


def verifies(signed: Signed, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(_b64url_decode(signed.signature), signed.text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_checkpoint(base: str | None = None) -> Signed:
    """Sign the chain's head now and append it to the instance folder's log."""
    count = sa.select(sa.func.count()).select_from(_CHAIN).scalar_subquery()
    row = db.session.execute(
        sa.select(_CHAIN.c.seq, _CHAIN.c.hash, count).order_by(_CHAIN.c.seq.desc()).limit(1)
    ).first()
    seq, digest, n = (row[0], row[1], row[2]) if row else (0, custody.GENESIS, 0)
    key_id, _ = current_key(base)
    signed = sign(
        {
            "format": FORMAT,
            "v": 1,
            "seq": seq,
            "hash": digest,
            "count": n,
            "at": custody.at_text(utcnow()),
            "key_id": key_id,
        },
        base,
    )
    folder = _folder(base)
    with _locked(folder):
        with (folder.parent / LOG).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(signed.as_json(), sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    return signed


def last_checkpoint(base: str | None = None) -> Signed | None:
    """The newest checkpoint of the log whose signature verifies with a key of the folder
    (a line that does not verify is skipped: it is no checkpoint of this server)."""
    path = _folder(base).parent / LOG
    if not path.exists():
        return None
    keys = public_keys(base)
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            raw = json.loads(line)
            signed = Signed(str(raw["signed"]), str(raw["key_id"]), str(raw["signature"]))
            body = signed.body
        except (ValueError, KeyError, TypeError):
            continue
        key = keys.get(signed.key_id)
        if key is not None and body.get("format") == FORMAT and verifies(signed, key):
            return signed
    return None
