"""A reviewer merges two cases by hand (:func:`merge_cases`), and undoes it (:func:`unmerge`).

Automatic joins never mix two vehicles; a reviewer may still see that two cases are one
violation (a misread plate, a photo like another case's: see :mod:`.hints`). Both cases
must be open, in the same district, and not the same. The absorbed case's reports move
to the survivor and remember where they came from (``reports.merged_from_case_id``);
its founder's ``join_reason`` becomes ``merged_by_hand``. The absorbed case stays, empty,
as ``status='merged'``; both histories record the merge with the reviewer's note.

Splitting out a report that came by such a merge (:func:`.reviewers.split_report`) takes
its whole group back into the case it came from, reopened (and ``manual``: never merged
automatically again). Only the latest merge of a report is remembered: a group merged
twice goes back one step.
"""

from __future__ import annotations

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, Report, utcnow
from .arrival import refresh_evidence_at
from .errors import CaseError
from .events import add_event
from .first import refresh_first_reporter
from .locks import lock_case, lock_case_exact, lock_similar_media

MERGED_BY_HAND = "merged_by_hand"


def _lock_pair(a_id: str, b_id: str, *, follow: bool = True) -> tuple[Case, Case]:
    """Both cases locked in id order (after the similar-photo lock, as automatic merges
    take it first). With ``follow``, a case merged meanwhile is refused."""
    lock_similar_media()
    db.session.flush()
    lock = lock_case if follow else lock_case_exact
    first, second = sorted([a_id, b_id])
    locked = {first: lock(first)}
    locked[second] = lock(second)
    a, b = locked[a_id], locked[b_id]
    if a.id != a_id or b.id != b_id:
        raise CaseError("a case was merged meanwhile")
    return a, b


def merge_cases(survivor_id: str, absorbed_id: str, actor: str, note: str | None = None) -> Case:
    """Merge case ``absorbed_id`` into case ``survivor_id`` (a reviewer's decision).

    Raises :class:`CaseError` for the same case, a case that is not open, or cases of two
    districts. Not committed: the caller adds its own record and commits.
    """
    if survivor_id == absorbed_id:
        raise CaseError("a case cannot be merged with itself")
    survivor, absorbed = _lock_pair(survivor_id, absorbed_id)
    if survivor.status != "open" or absorbed.status != "open":
        raise CaseError("both cases must be open")
    if survivor.district_code != absorbed.district_code:
        raise CaseError("the cases are in different districts")
    now = utcnow()
    db.session.execute(
        sa.update(Report)
        .where(Report.case_id == absorbed.id, Report.join_reason.is_(None))
        .values(join_reason=MERGED_BY_HAND, join_match_report_id=None, joined_at=now)
    )
    db.session.execute(
        sa.update(Report)
        .where(Report.case_id == absorbed.id)
        .values(case_id=survivor.id, merged_from_case_id=absorbed.id)
    )
    survivor.report_count += absorbed.report_count
    survivor.updated_at = now
    refresh_first_reporter(survivor)
    refresh_evidence_at(survivor)
    add_event(survivor, "absorbed_by_hand", actor=actor, other_case_id=absorbed.id, note=note)
    add_event(absorbed, "merged_by_hand", actor=actor, other_case_id=survivor.id, note=note)
    absorbed.status = "merged"
    absorbed.merged_into_id = survivor.id
    absorbed.report_count = 0
    absorbed.evidence_at = None  # empty: its evidence is the survivor's now
    absorbed.updated_at = now
    return survivor


def merged_origin(report: Report) -> Case | None:
    """The case ``report`` came from by a reviewer's merge, if that merge still stands."""
    if not report.merged_from_case_id:
        return None
    origin = db.session.get(Case, report.merged_from_case_id)
    return origin if origin is not None and origin.status == "merged" else None


def unmerge(report: Report, origin: Case, actor: str, reason: str) -> Case:
    """Undo a reviewer's merge: every report of ``report``'s case that came from
    ``origin`` goes back there; ``origin`` is reopened (``manual``). Not committed."""
    current, origin = _lock_pair(report.case_id, origin.id, follow=False)
    if current.status != "open" or origin.status != "merged":
        raise CaseError("the merge cannot be undone any more")
    group = list(
        db.session.scalars(
            sa.select(Report.id).where(
                Report.case_id == current.id, Report.merged_from_case_id == origin.id
            )
        )
    )
    if len(group) >= current.report_count:
        raise CaseError(f"report {report.id} is already alone in its case")
    db.session.execute(
        sa.update(Report)
        .where(Report.id.in_(group), Report.join_reason == MERGED_BY_HAND)
        .values(join_reason=None, join_match_report_id=None)
    )
    db.session.execute(
        sa.update(Report)
        .where(Report.id.in_(group))
        .values(case_id=origin.id, merged_from_case_id=None)
    )
    now = utcnow()
    origin.status, origin.merged_into_id, origin.manual = "open", None, True
    origin.report_count, origin.updated_at = len(group), now
    current.report_count -= len(group)
    current.updated_at = now
    refresh_first_reporter(current)
    refresh_first_reporter(origin)
    refresh_evidence_at(current)
    refresh_evidence_at(origin)
    add_event(
        current, "unmerged", actor=actor, report_id=report.id, other_case_id=origin.id, note=reason
    )
    add_event(
        origin, "reopened", actor=actor, report_id=report.id, other_case_id=current.id, note=reason
    )
    return origin
