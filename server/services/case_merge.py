"""A reviewer merges two cases of one district by hand (the console's "Gộp với vụ việc").

Automatic joins never mix two vehicles (:mod:`server.services.cases`); a reviewer may
still judge that two cases are one violation (a misread plate, a photo like another
case's). The other case is named by its short id (the first 8 characters the console
shows, or more) or its full id, and must be open and in one of the user's districts.
Recorded like the other decisions: a ``merge`` decision on the surviving case (the one
whose page the reviewer is on), an audit entry, and both cases' histories. Splitting out
a report of the absorbed group undoes it (:func:`server.services.cases.split_report`).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, Decision, User, utcnow
from . import cases
from .accounts import audit, districts_of
from .review import DecisionError, actor_name, align

SHORT_ID_CHARS = 8
_ID_PREFIX = re.compile(r"^[0-9a-f-]{8,36}$")
MAX_NOTE = 500


def resolve_case(user: User, ref: str) -> Case | None:
    """The open case of the user's districts whose id is ``ref`` or starts with it
    (at least 8 characters); None when there is none, or more than one."""
    ref = (ref or "").strip().lower()
    if not _ID_PREFIX.match(ref):
        return None
    query = sa.select(Case).where(Case.id.startswith(ref, autoescape=True), Case.status == "open")
    codes = districts_of(user)
    if codes is not None:
        query = query.where(Case.district_code.in_(sorted(codes) or [""]))
    found = list(db.session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def merge(user: User, case: Case, other_ref: str, note: str | None = None) -> Case:
    """Merge the case named ``other_ref`` into ``case`` (which the caller obtained through
    :func:`server.console.access.case_for`). Commits. Returns ``case``."""
    other = resolve_case(user, other_ref)
    if other is None:
        raise DecisionError("no open case with that id in your districts")
    if other.id == case.id:
        raise DecisionError("a case cannot be merged with itself")
    if case.status != "open":
        raise DecisionError("the case is not open")
    if case.locked or other.locked:
        raise DecisionError("the case is decided: reopen it first")
    if other.district_code != case.district_code:
        raise DecisionError("only cases of the same district can be merged")
    note = (note or "").strip()[:MAX_NOTE] or None
    verdicts = {case.verdict, other.verdict}
    try:
        survivor = cases.merge_cases(case.id, other.id, actor_name(user), note)
    except cases.CaseError as exc:
        db.session.rollback()
        raise DecisionError("these cases cannot be merged") from exc
    # Two cases that stood differently (one waiting for a reporter's answer, one for a
    # reviewer) wait for a reviewer together; reporters whose status no longer agrees
    # are told the case is under review again (issue 26).
    if len(verdicts) > 1:
        survivor.verdict, survivor.verdict_at, survivor.answered_at = None, utcnow(), None
    align(user, survivor)
    db.session.add(
        Decision(
            case_id=survivor.id, kind="merge", internal_note=note, actor_id=user.id, at=utcnow()
        )
    )
    audit(user, "cases_merged", case_id=survivor.id, detail=f"{other.id} -> {survivor.id}")
    db.session.commit()
    return survivor
