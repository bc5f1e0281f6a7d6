"""Similar-photo hints: "ảnh giống vụ việc X", shown to the reviewer, never a join.

A photo like another case's that may not join it (other plates, another violation,
another district, too far apart in place or time, or an ambiguous match) is recorded in
both cases' histories as a ``similar_photo`` event pointing at the other case
(``other_case_id``; ``report_id`` is the case's own report with the similar photo;
``reason`` is ``same_media`` or ``similar_media``). Each pair of cases is recorded once.
The case page lists them (:func:`similar_cases`), each only if the reviewer may see that
case's district; a reviewer may then merge the two by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, CaseEvent, utcnow

SIMILAR_PHOTO = "similar_photo"
MAX_HINTS = 5  # per received photo: the nearest ones (a busy corner has many)

_INSERT_EVENT = sa.insert(CaseEvent.__table__)


class Hint(NamedTuple):
    """A photo of ``report_id`` (in the case at hand) like one of ``other_report_id``."""

    other_case_id: str
    report_id: str
    other_report_id: str
    reason: str


def record_hints(case_id: str, hints: Iterable[Hint]) -> int:
    """Record hints between ``case_id`` and other cases (both histories), each pair of
    cases once; Core statements (also on the ingest path). Returns how many pairs."""
    wanted = {h.other_case_id: h for h in hints if h.other_case_id != case_id}
    if not wanted:
        return 0
    conn = db.session.connection()
    known = {
        (a, b)
        for a, b in conn.execute(
            sa.select(CaseEvent.case_id, CaseEvent.other_case_id).where(
                CaseEvent.kind == SIMILAR_PHOTO, CaseEvent.case_id.in_([case_id, *wanted])
            )
        )
    }
    now = utcnow()
    rows = []
    for other, hint in wanted.items():
        for mine, theirs, report in (
            (case_id, other, hint.report_id),
            (other, case_id, hint.other_report_id),
        ):
            if (mine, theirs) not in known:
                rows.append(_event(mine, theirs, report, hint.reason, now))
    if rows:
        conn.execute(_INSERT_EVENT, rows)
    return len(wanted)


def _event(case_id: str, other: str, report_id: str, reason: str, now: object) -> dict:
    return {
        "case_id": case_id,
        "kind": SIMILAR_PHOTO,
        "actor": "system",
        "report_id": report_id,
        "other_case_id": other,
        "reason": reason,
        "created_at": now,
    }


def similar_cases(case_id: str) -> list[Case]:
    """The cases hinted as similar to ``case_id`` (or to cases merged into it), each
    followed to the case it was merged into; never the case itself. Oldest hint first."""
    merged_in = select_merged_into(case_id)
    others = db.session.scalars(
        sa.select(CaseEvent.other_case_id)
        .where(CaseEvent.kind == SIMILAR_PHOTO, CaseEvent.case_id.in_([case_id, *merged_in]))
        .order_by(CaseEvent.seq)
    ).all()
    found: dict[str, Case] = {}
    for other_id in others:
        case = _live(other_id)
        if case is not None and case.id != case_id:
            found.setdefault(case.id, case)
    return list(found.values())


def select_merged_into(case_id: str) -> list[str]:
    """Ids of the cases merged (directly) into ``case_id``."""
    return list(db.session.scalars(sa.select(Case.id).where(Case.merged_into_id == case_id)))


def _live(case_id: str | None) -> Case | None:
    """The case, followed through merges (no lock: a read for the console)."""
    seen: set[str] = set()
    case = db.session.get(Case, case_id) if case_id else None
    while case is not None and case.merged_into_id and case.merged_into_id not in seen:
        seen.add(case.id)
        case = db.session.get(Case, case.merged_into_id)
    return case
