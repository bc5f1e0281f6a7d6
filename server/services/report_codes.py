"""Short report codes a person can read out and quote (issue 14, item 5).

Eight characters of Crockford's base32 alphabet (digits and capitals without I, L, O,
U): 32**8, about 10**12 codes, so a random draw almost never meets a code in use; the
unique constraint ``uq_reports_code`` catches the rare one and the report is stored again
with a fresh code (:func:`server.services.reports.put_report`).
"""
from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
# Fresh codes tried after a collision before giving up (each a 1 in ~10**12 event).
MAX_ATTEMPTS = 5

# Letters a person may read or type for another one (Crockford's decoding rules).
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(text: str) -> str | None:
    """The code a person typed (any case, spaces or dashes, O for 0, I/L for 1), or None
    when it cannot be one."""
    compact = "".join(ch for ch in text.upper() if ch not in " -").translate(_READ_AS)
    if len(compact) != LENGTH or any(ch not in ALPHABET for ch in compact):
        return None
    return compact


def is_code_collision(exc: Exception) -> bool:
    """Whether an IntegrityError is the unique report code (not the id or a media id)."""
    message = str(getattr(exc, "orig", exc))
    return "uq_reports_code" in message or "reports.code" in message
