"""Revealing an informant's identity: the one way to read it, always recorded.

Only a supervisor whose province holds the case's district may reveal, and only with a
written reason. Every reveal adds an ``identity_reveals`` row (who, when, which report,
why) and an audit entry, and is committed *before* the identity is decrypted, so no
identity is ever shown without its record. Administrators read the whole record,
supervisors that of their province (:func:`reveal_log`); nothing here logs the identity.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

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
        IdentityReveal(
            actor_id=user.id,
            report_id=report.id,
            reason=reason,
            at=utcnow(),
            district_code=case.district_code,
        )
    )
    audit(user, "identity_revealed", case_id=case.id, report_id=report.id)
    db.session.commit()
    return decrypt_identity(ciphertext)


@dataclass(frozen=True)
class RevealEntry:
    """A line of the reveal log. ``own``: made in the reader's province (or the reader
    is an administrator): who and why are shown. Otherwise the reveal was made in
    another province before the case came here: only that it happened, and when."""

    reveal: IdentityReveal
    username: str | None
    display_name: str | None
    own: bool


def recent_reveals(
    district_codes: Collection[str] | None = None, limit: int = LOG_LIMIT
) -> list[RevealEntry]:
    """The latest reveals, newest first.

    With ``district_codes`` (a supervisor's province): the reveals made there, whatever
    became of their cases (a forwarded case's reveal stays where it was made), and,
    without who or why, earlier reveals made elsewhere of reports whose case is now
    there. None means every reveal in full (an administrator).
    """
    query = (
        sa.select(IdentityReveal, User.username, User.display_name)
        .join(User, User.id == IdentityReveal.actor_id)
        .order_by(IdentityReveal.id.desc())
        .limit(limit)
    )
    if district_codes is None:
        return [RevealEntry(r, u, n, True) for r, u, n in db.session.execute(query).all()]
    codes = sorted(district_codes)
    query = (
        query.outerjoin(Report, Report.id == IdentityReveal.report_id)
        .outerjoin(Case, Case.id == Report.case_id)
        .where(sa.or_(IdentityReveal.district_code.in_(codes), Case.district_code.in_(codes)))
    )
    entries = []
    for reveal, username, name in db.session.execute(query).all():
        own = reveal.district_code in district_codes
        entries.append(RevealEntry(reveal, username if own else None, name if own else None, own))
    return entries


def reveal_log(user: User, limit: int = LOG_LIMIT) -> list[RevealEntry]:
    """The reveals ``user`` may read: all for an administrator, those made in their
    province (and, without who or why, earlier ones of its cases) for a supervisor,
    none for anyone else."""
    if user.role not in ("admin", "supervisor"):
        return []
    return recent_reveals(districts_of(user), limit)
