"""Reviewers' decisions on cases: verify, reject, ask for information, issue the penalty,
reopen, split, forward.

A case's ``verdict`` says where its review stands. A decision sets it: ``verified``,
``rejected`` or ``needs_info``. Verifying needs no penalty decision number (at review
time a unit rarely has one): the number comes later, by :func:`issue_penalty`, which
moves the verdict and every verified report to ``penalty_issued``, so the reporter
learns both steps. ``verified``, ``penalty_issued`` and ``rejected`` lock the case: no
decision, split, merge or forward until a reviewer reopens it (:func:`reopen`, with a
written reason, audited); reopening leaves the reporters' statuses as they are until the
next decision, which notifies only the reporters whose status it changes.

Every function takes the acting user and a case the caller obtained through
:func:`server.console.access.case_for` (so it is one of the user's districts), checks
the decision's inputs, and records:

* the public part, per report, as a status event (``server.services.status.set_status``:
  status, coded reason, public note; the reporter's phone reads it from the change feed
  and is sent a push message);
* the decision with its internal note and penalty number in ``decisions``;
* an audit entry (who, what, which case) without any identity.

Split and forward go through :mod:`server.services.cases`, which commits.

Locks (PostgreSQL): every decision first locks its case row (``SELECT … FOR UPDATE``,
:func:`server.services.cases.lock_case_exact`), re-reads it, and only then reads the
members, changes reports and writes status events (which take the status-feed lock):
the order of :mod:`server.services.cases.locks`. A report joining the case at ingest
and a file completing a member's evidence lock the case first too, so they wait for
the decision (or it for them) instead of deadlocking with it; and a decision taken
after a join sees the new member (``confirm_count`` then refuses a stale page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from ..extensions import db
from ..models import Case, Decision, Report, StatusEvent, User, utcnow
from ..reasons import INFO_REASONS, REJECT_REASONS
from . import cases, districts
from .accounts import audit
from .status import set_status

KINDS = ("verify", "reject", "needs_info")
STATUS_OF = {"verify": "verified", "reject": "rejected", "needs_info": "needs_info"}
# A decided case reopened, or a case whose reports changed hands: "đang xem xét lại".
REOPENED = "reopened"
MAX_NOTE = 2000
MAX_PENALTY_NO = 64
MIN_REOPEN_REASON = 10
# The reasons a reviewer may give to several cases at once from the queue.
BULK_REJECT_REASONS = ("duplicate", "plate_unreadable", "not_a_violation", "insufficient_evidence")
MAX_BULK = 50


class DecisionError(ValueError):
    """A decision that cannot be taken as asked (missing reason, wrong state ...)."""


T = TypeVar("T")
# PostgreSQL aborted the transaction to break a lock cycle, or as a serialization failure.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def retry_on_conflict(act: Callable[[], T]) -> T:
    """Run a reviewer's act, again (up to :data:`ATTEMPTS` times in all) when PostgreSQL
    chose its transaction as a deadlock victim (40P01) or failed it as a serialization
    failure (40001). Safe because such a transaction was rolled back whole: nothing of
    the first attempt stays, and the act locks and re-reads its case before it decides.
    Any other error, or the last attempt's, goes to the caller."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return act()
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            db.session.rollback()
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def actor_name(user: User) -> str:
    return f"user:{user.username}"[:64]


def _clean(text: str | None, limit: int = MAX_NOTE) -> str | None:
    text = (text or "").strip()
    return text[:limit] or None


def _lock(case: Case) -> Case:
    """Lock the case row and refresh ``case`` from it (first, before any other lock)."""
    return cases.lock_case_exact(case.id)


def _require_unlocked(case: Case) -> None:
    if case.status != "open":
        raise DecisionError("the case is not open")
    if case.locked:
        raise DecisionError("the case is decided: reopen it first")


def _check_reach(reports: list[Report], confirm_count: int | None) -> None:
    """``confirm_count`` is how many reports the reviewer's page said the decision would
    reach; it must be the case's current count (a stale page cannot decide for more
    reporters than it showed). It may be left out only for a case of one report."""
    if not reports:
        raise DecisionError("the case has no reports")
    if confirm_count != len(reports) and (confirm_count is not None or len(reports) > 1):
        raise DecisionError("the case has changed: check who the decision reaches")


def _set_verdict(case: Case, verdict: str | None) -> None:
    case.verdict = verdict
    case.verdict_at = utcnow()
    case.answered_at = None  # a reporter's answer is "đã bổ sung" until the next decision


def decide(
    user: User,
    case: Case,
    kind: str,
    *,
    reason_code: str | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    penalty_no: str | None = None,
    confirm_count: int | None = None,
) -> list[Report]:
    """Apply one decision to every report of the case. Commits.

    A report that already holds the decision (the same status and reason, e.g. after a
    reopen) is not told again. A verification may carry the penalty decision number when
    the unit already has it: the reports then go on to ``penalty_issued`` at once.
    """
    if kind not in KINDS:
        raise DecisionError("unknown decision")
    _lock(case)
    _require_unlocked(case)
    penalty_no = _clean(penalty_no, MAX_PENALTY_NO) if kind == "verify" else None
    if kind == "verify":
        reason_code = None
    elif kind == "reject" and reason_code not in REJECT_REASONS:
        raise DecisionError("choose a rejection reason from the list")
    elif kind == "needs_info" and reason_code not in INFO_REASONS:
        raise DecisionError("choose what information is needed from the list")
    reports = cases.members(case.id)
    _check_reach(reports, confirm_count)
    public_note, internal_note = _clean(public_note), _clean(internal_note)
    status = STATUS_OF[kind]
    for report in reports:
        already = report.status == status or (
            kind == "verify" and report.status == "penalty_issued" and not penalty_no
        )
        if not already or _last_told(report) != (reason_code, public_note):
            set_status(
                report,
                status,
                reason_code=reason_code,
                public_note=public_note,
                actor=actor_name(user),
            )
    _record(user, case, kind, reason_code=reason_code, public_note=public_note,
            internal_note=internal_note, penalty_no=penalty_no)  # fmt: skip
    audit(user, f"case_{kind}", case_id=case.id, detail=reason_code)
    _set_verdict(case, status)
    if penalty_no:
        _penalise(user, case, reports, penalty_no)
    db.session.commit()
    return reports


def _last_event(report: Report) -> StatusEvent | None:
    return db.session.scalars(
        sa.select(StatusEvent)
        .where(StatusEvent.report_id == report.id)
        .order_by(StatusEvent.seq.desc())
        .limit(1)
    ).first()


def _last_reason(report: Report) -> str | None:
    """The reason code of the report's latest status event."""
    latest = _last_event(report)
    return latest.reason_code if latest else None


def _last_told(report: Report) -> tuple[str | None, str | None]:
    """What the reporter was last told with the status: its reason code and public note
    (a new note on the same decision is news to them: they are told again)."""
    latest = _last_event(report)
    return (latest.reason_code, latest.public_note) if latest else (None, None)


# The statuses a reporter may hold while the case waits for a reviewer (verdict None):
# the files still coming, sent, answered, or told the case is being reviewed again.
PENDING_STATUSES = frozenset({"awaiting_evidence", "submitted", "info_added", REOPENED})


def agrees(case: Case, status: str) -> bool:
    """Whether a reporter's status agrees with their case's verdict (issue 26): what the
    phone says is what the console says. A report that joined a decided case after the
    verdict (``submitted``, or still ``awaiting_evidence``) waits for the next decision,
    and the queue shows the case again; that is agreement too. When one reporter of a
    case answered a request for information (``answered_at``), the request still stands
    for the others (``needs_info``) while the case waits for a reviewer."""
    verdict = case.verdict
    if verdict is None:
        return status in PENDING_STATUSES or (
            status == "needs_info" and case.answered_at is not None
        )
    if status in ("awaiting_evidence", "submitted"):
        return True
    if verdict == "needs_info":
        return status == "needs_info"
    return status == verdict


def align(user: User | None, case: Case) -> list[Report]:
    """Tell every reporter of ``case`` whose status no longer agrees with its verdict
    (after a merge, a split, an undone merge): a case waiting for a reviewer again is
    "đang xem xét lại" (``reopened``) on their phone. Returns the reports told. Not
    committed; call it after the case lock."""
    told = []
    for report in cases.members(case.id):
        if not agrees(case, report.status):
            target = REOPENED if case.verdict in (None, "needs_info") else case.verdict
            set_status(report, target, actor=actor_name(user) if user else "system")
            told.append(report)
    return told


def _record(user: User, case: Case, kind: str, **fields: str | None) -> None:
    db.session.add(Decision(case_id=case.id, kind=kind, actor_id=user.id, at=utcnow(), **fields))


def _penalise(user: User, case: Case, reports: list[Report], penalty_no: str) -> None:
    """Record the penalty decision number and tell each verified reporter."""
    for report in reports:
        if report.status == "verified":
            set_status(report, "penalty_issued", actor=actor_name(user))
    audit(user, "case_penalty_issued", case_id=case.id, detail=penalty_no)
    _set_verdict(case, "penalty_issued")


def issue_penalty(user: User, case: Case, penalty_no: str | None, note: str | None = None) -> None:
    """Add the penalty decision number to a verified case. Commits.

    The case's verified reports move to ``penalty_issued`` (their reporters are told);
    on a case whose penalty is already issued this corrects the number (audited, nobody
    is told again).
    """
    _lock(case)
    if case.status != "open" or case.verdict not in ("verified", "penalty_issued"):
        raise DecisionError("only a verified case can get a penalty decision")
    penalty_no = _clean(penalty_no, MAX_PENALTY_NO)
    if not penalty_no:
        raise DecisionError("write the penalty decision number")
    _record(user, case, "penalty", penalty_no=penalty_no, internal_note=_clean(note))
    _penalise(user, case, cases.members(case.id), penalty_no)
    db.session.commit()


def reopen(user: User, case: Case, reason: str | None) -> None:
    """Unlock a decided case for a new decision, with a written reason. Commits.

    Every reporter of the case is told: their status becomes ``reopened`` ("đang xem xét
    lại", a change in their feed and a push message) until the next decision, which then
    tells them all again.
    """
    _lock(case)
    if case.status != "open" or not case.locked:
        raise DecisionError("only a decided case can be reopened")
    reason = _clean(reason, 500)
    if not reason or len(reason) < MIN_REOPEN_REASON:
        raise DecisionError("write why the case is reopened")
    _record(user, case, "reopen", internal_note=reason)
    audit(user, "case_reopened", case_id=case.id, detail=case.verdict)
    _set_verdict(case, None)
    # Every reporter learns the verdict they were told is under review again (issue 26).
    for report in cases.members(case.id):
        if report.status != REOPENED:
            set_status(report, REOPENED, actor=actor_name(user))
    db.session.commit()


def bulk_reject(
    user: User, targets: list[tuple[Case, int | None]], reason_code: str | None
) -> list[Case]:
    """Reject several cases with one reason (duplicates, unreadable plates ...).

    ``targets`` pairs each case (obtained through the console's access check) with the
    number of reports the queue showed for it. Every case is checked before any is
    decided: one refused case refuses them all, so nothing is half-done. Commits once.
    """
    if reason_code not in BULK_REJECT_REASONS:
        raise DecisionError("choose a rejection reason from the list")
    if not targets:
        raise DecisionError("choose at least one case")
    if len(targets) > MAX_BULK:
        raise DecisionError("too many cases at once")
    for case in sorted({c.id: c for c, _ in targets}.values(), key=lambda c: c.id):
        _lock(case)  # in id order: two bulk rejections never wait on each other in a cycle
    planned = []
    for case, count in targets:
        _require_unlocked(case)
        reports = cases.members(case.id)
        _check_reach(reports, count if count is not None else -1)
        planned.append((case, reports))
    for case, reports in planned:
        for report in reports:
            if report.status != "rejected" or _last_reason(report) != reason_code:
                set_status(report, "rejected", reason_code=reason_code, actor=actor_name(user))
        _record(user, case, "reject", reason_code=reason_code)
        audit(user, "case_reject", case_id=case.id, detail=reason_code)
        _set_verdict(case, "rejected")
    db.session.commit()
    return [case for case, _ in planned]


def split(user: User, case: Case, report_id: str, reason: str | None) -> Case:
    """Take one report of the case out into a case of its own. Commits."""
    reason = _clean(reason, 500)
    _require_unlocked(case)
    if not reason:
        raise DecisionError("write why the report is split out")
    if report_id not in {r.id for r in cases.members(case.id)}:
        raise DecisionError("the report is not in this case")
    old_verdict = case.verdict
    try:
        new = cases.split_report(report_id, actor_name(user), reason)
    except cases.CaseError as exc:
        db.session.rollback()
        raise DecisionError("this report cannot be split out") from exc
    # The report (or its group) is in a case of its own now: a request for information
    # made on the case it left stands for it too; anything else waits for a reviewer.
    locked = {c: cases.lock_case_exact(c) for c in sorted({new.id, case.id})}  # id order
    new, old = locked[new.id], locked[case.id]
    new.verdict = "needs_info" if old_verdict == "needs_info" else None
    new.verdict_at, new.answered_at = utcnow(), None
    align(user, new)
    align(user, old)
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
    _require_unlocked(case)
    to_district = (to_district or "").strip()
    if districts.district_info(to_district) is None:
        raise DecisionError("unknown district")
    note = _clean(note, 500)
    from_district = case.district_code
    try:
        moved = cases.forward_case(case.id, to_district, actor_name(user), note)
    except (cases.CaseError, districts.RoutingError) as exc:
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
