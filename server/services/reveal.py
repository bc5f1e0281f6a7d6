"""Revealing an informant's identity: the one way to read it, always recorded.

Only a supervisor whose province holds the case's district may reveal, and only with a
written reason. Every reveal adds an ``identity_reveals`` row (who, when, which report,
why) and an audit entry, and is committed *before* the identity is decrypted, so no
identity is ever shown without its record. Administrators read the whole record,
supervisors that of their province (:func:`reveal_log`); nothing here logs the identity.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..identity import decrypt_identity
from ..models import Case, IdentityReveal, Report, User, utcnow
from .accounts import audit, districts_of

MIN_REASON = 10
MAX_REASON = 1000
LOG_LIMIT = 500


class RevealError(ValueError):
    """A reveal refused; ``code`` says why: ``not_allowed``, ``short_reason`` or
    ``no_identity``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def may_reveal(user: User, case: Case) -> bool:
    """True for a supervisor whose province holds the case's district."""
    if user.role != "supervisor" or case.district_code is None:
        return False
    codes = districts_of(user)
    return codes is None or case.district_code in codes


def reveal_identity(user: User, report: Report, reason: str | None) -> dict[str, str]:
    """Record the reveal (reveal row, audit entry), commit, then decrypt the identity.

    ``reason`` is trimmed and kept to :data:`MAX_REASON` characters; it needs at least
    :data:`MIN_REASON`. Raises :class:`RevealError` before recording anything when the
    user may not reveal this report, the reason is too short or the report names nobody.
    """
    case = db.session.get(Case, report.case_id) if report.case_id else None
    if case is None or not may_reveal(user, case):
        raise RevealError("not_allowed")
    reason = (reason or "").strip()[:MAX_REASON]
    if len(reason) < MIN_REASON:
        raise RevealError("short_reason")
    ciphertext = report.identity_ciphertext
    if ciphertext is None:
        raise RevealError("no_identity")
    db.session.add(
        IdentityReveal(actor_id=user.id, report_id=report.id, reason=reason, at=utcnow())
    )
    audit(user, "identity_revealed", case_id=case.id, report_id=report.id)
    db.session.commit()
    return decrypt_identity(ciphertext)


def recent_reveals(
    district_codes: Collection[str] | None = None, limit: int = LOG_LIMIT
) -> list[sa.Row[Any]]:
    """The latest reveals, newest first, as (reveal, username, display name) rows.

    With ``district_codes``, only reveals of reports whose case is now in one of those
    districts (a supervisor's province); None means every reveal (an administrator).
    """
    query = (
        sa.select(IdentityReveal, User.username, User.display_name)
        .join(User, User.id == IdentityReveal.actor_id)
        .order_by(IdentityReveal.id.desc())
        .limit(limit)
    )
    if district_codes is not None:
        query = (
            query.join(Report, Report.id == IdentityReveal.report_id)
            .join(Case, Case.id == Report.case_id)
            .where(Case.district_code.in_(sorted(district_codes)))
        )
    return list(db.session.execute(query).all())


def reveal_log(user: User, limit: int = LOG_LIMIT) -> list[sa.Row[Any]]:
    """The reveals ``user`` may read: all for an administrator, those of the cases in
    their province for a supervisor, none for anyone else."""
    if user.role not in ("admin", "supervisor"):
        return []
    return recent_reveals(districts_of(user), limit)
