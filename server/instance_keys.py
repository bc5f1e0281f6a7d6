"""Instance keys that must never be constants in code (Flask secret key, identity key).

When a secret is not given in the environment it is generated once and kept in a
file in the instance folder, readable only by its owner, so that a restart keeps
sessions valid and encrypted identities readable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _read_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: when two workers start at once, one writes and the other reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def instance_secret_key(instance_path: str) -> str:
    """The Flask SECRET_KEY kept in ``instance/secret_key``."""
    return _read_or_create(Path(instance_path) / "secret_key", lambda: secrets.token_hex(32))


def instance_identity_key(instance_path: str) -> str:
    """The Fernet key that encrypts informants' identities, kept in ``instance/identity.key``.

    It lives outside the database on purpose: a copy of the database alone does not
    reveal who reported what.
    """
    return _read_or_create(
        Path(instance_path) / "identity.key", lambda: Fernet.generate_key().decode()
    )
