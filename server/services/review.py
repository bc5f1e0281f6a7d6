"""Reviewers' decisions on cases: verify, reject, ask for information, split, forward.

Every function takes the acting user and a case the caller obtained through
:func:`server.console.access.case_for` (so it is one of the user's districts), checks
the decision's inputs, and records:

* the public part, per report, as a status event (``server.services.status.set_status``:
  status, coded reason, public note; the reporter's phone reads it from the change feed
  and is sent a push message);
* the decision with its internal note and penalty number in ``decisions``;
* an audit entry (who, what, which case) without any identity.

Split and forward go through :mod:`server.services.cases`, which commits.
"""

from __future__ import annotations

from ..extensions import db
from ..models import Report, utcnow
from ..models.accounts import Decision, User
from ..models.geo import Case
from ..reasons import INFO_REASONS, REJECT_REASONS
from . import cases, routing
from .accounts import audit
from .status import set_status

KINDS = ("verify", "reject", "needs_info")
STATUS_OF = {"verify": "verified", "reject": "rejected", "needs_info": "needs_info"}
MAX_NOTE = 2000


class DecisionError(ValueError):
    """A decision that cannot be taken as asked (missing reason, wrong state ...)."""


def actor_name(user: User) -> str:
    return f"user:{user.username}"[:64]


def _clean(text: str | None, limit: int = MAX_NOTE) -> str | None:
    text = (text or "").strip()
    return text[:limit] or None


def decide(
    user: User,
    case: Case,
    kind: str,
    *,
    reason_code: str | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    penalty_no: str | None = None,
) -> list[Report]:
    """Apply one decision to every report of the case. Commits."""
    if kind not in KINDS:
        raise DecisionError("unknown decision")
    if case.status != "open":
        raise DecisionError("the case is not open")
    penalty_no = _clean(penalty_no, 64)
    if kind == "verify":
        if not penalty_no:
            raise DecisionError("a verified case needs the penalty decision number")
        reason_code = None
    elif kind == "reject" and reason_code not in REJECT_REASONS:
        raise DecisionError("choose a rejection reason from the list")
    elif kind == "needs_info" and reason_code not in INFO_REASONS:
        raise DecisionError("choose what information is needed from the list")
    reports = cases.members(case.id)
    if not reports:
        raise DecisionError("the case has no reports")
    public_note, internal_note = _clean(public_note), _clean(internal_note)
    status = STATUS_OF[kind]
    for report in reports:
        set_status(
            report,
            status,
            reason_code=reason_code,
            public_note=public_note,
            actor=actor_name(user),
        )
    db.session.add(
        Decision(
            case_id=case.id,
            kind=kind,
            reason_code=reason_code,
            public_note=public_note,
            internal_note=internal_note,
            penalty_no=penalty_no if kind == "verify" else None,
            actor_id=user.id,
            at=utcnow(),
        )
    )
    audit(user, f"case_{kind}", case_id=case.id, detail=reason_code or penalty_no)
    db.session.commit()
    return reports


def split(user: User, case: Case, report_id: str, reason: str | None) -> Case:
    """Take one report of the case out into a case of its own. Commits."""
    reason = _clean(reason, 500)
    if not reason:
        raise DecisionError("write why the report is split out")
    if report_id not in {r.id for r in cases.members(case.id)}:
        raise DecisionError("the report is not in this case")
    try:
        new = cases.split_report(report_id, actor_name(user), reason)
    except cases.CaseError as exc:
        db.session.rollback()
        raise DecisionError("this report cannot be split out") from exc
    db.session.add(
        Decision(
            case_id=case.id,
            report_id=report_id,
            kind="split",
            internal_note=reason,
            actor_id=user.id,
            at=utcnow(),
        )
    )
    audit(user, "report_split", case_id=case.id, report_id=report_id, detail=f"new case {new.id}")
    db.session.commit()
    return new


def forward(user: User, case: Case, to_district: str, note: str | None) -> Case:
    """Send the case to another district's police. Commits."""
    to_district = (to_district or "").strip()
    if routing.district_info(to_district) is None:
        raise DecisionError("unknown district")
    note = _clean(note, 500)
    from_district = case.district_code
    try:
        moved = cases.forward_case(case.id, to_district, actor_name(user), note)
    except (cases.CaseError, routing.RoutingError) as exc:
        db.session.rollback()
        raise DecisionError("the case cannot be forwarded there") from exc
    db.session.add(
        Decision(
            case_id=case.id,
            kind="forward",
            internal_note=note,
            actor_id=user.id,
            at=utcnow(),
        )
    )
    audit(user, "case_forwarded", case_id=case.id, detail=f"{from_district} -> {to_district}")
    db.session.commit()
    return moved
