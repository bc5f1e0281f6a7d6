"""What reviewers and administrators do to cases: split a report out (undoing a merge by
hand, see :mod:`.merges`), forward a case to another district, place a report or case in
a district by hand. Each commits."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ...extensions import db
from ...models import Case, Report, utcnow
from .. import districts
from .arrival import refresh_evidence_at
from .errors import CaseError
from .events import add_event
from .first import refresh_first_reporter
from .locks import lock_case
from .merges import merged_origin, unmerge

SPLIT = "split"


def _get_report(report_id: str) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise CaseError(f"no report {report_id}")
    return report


def _new_case(report: Report, *, manual: bool = False) -> Case:
    unit = districts.unit_for(report.district_code)
    case = Case(
        id=str(uuid.uuid4()),
        district_code=report.district_code,
        unit_code=unit.code if unit else None,
        first_report_id=report.id,
        status="open",
        manual=manual,
        report_count=1,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.session.add(case)
    report.case = case  # the relationship makes the flush insert the case first
    report.join_reason = None
    report.join_match_report_id = None
    report.joined_at = utcnow()
    return case


def _move_case(
    case: Case, kind: str, district_code: str, unit_code: str | None, actor: str, note: str | None
) -> None:
    """Give ``case`` a district and unit, recording the move as ``kind`` in its history."""
    add_event(
        case,
        kind,
        actor=actor,
        from_district=case.district_code,
        to_district=district_code,
        from_unit=case.unit_code,
        to_unit=unit_code,
        note=note,
    )
    case.district_code, case.unit_code, case.updated_at = district_code, unit_code, utcnow()


def split_report(report_id: str, actor: str, reason: str) -> Case:
    """A reviewer takes a report out of its case: it becomes a case of its own.

    The new case is in the report's own district and is ``manual`` (never merged
    automatically). The old case recomputes its first reporter. Both histories record
    the split. A report that came by a reviewer's merge goes back, with every report
    that came with it, into the case it came from (:func:`.merges.unmerge`), which is
    returned. Commits.
    """
    report = _get_report(report_id)
    if report.case_id is None:
        raise CaseError(f"report {report_id} is in no case")
    origin = merged_origin(report)
    if origin is not None:
        back = unmerge(report, origin, actor, reason)
        db.session.commit()
        return back
    old = lock_case(report.case_id)
    if old.report_count <= 1:
        raise CaseError(f"report {report_id} is already alone in its case")
    new = _new_case(report, manual=True)
    old.report_count -= 1
    old.updated_at = utcnow()
    report.merged_from_case_id = None
    db.session.flush()
    refresh_first_reporter(old)
    refresh_evidence_at(old)
    refresh_evidence_at(new)
    add_event(old, "split", actor=actor, report_id=report.id, other_case_id=new.id, note=reason)
    add_event(
        new,
        "opened",
        actor=actor,
        report_id=report.id,
        other_case_id=old.id,
        reason=SPLIT,
        note=reason,
        to_district=new.district_code,
        to_unit=new.unit_code,
    )
    db.session.commit()
    return new


def forward_case(case_id: str, to_district: str, actor: str, note: str | None = None) -> Case:
    """Send a case to another district's police unit; its history keeps both. Commits."""
    districts.require_district(to_district)
    case = lock_case(case_id)
    if case.id != case_id:
        raise CaseError(f"case {case_id} was merged into {case.id}: forward that case")
    if case.district_code == to_district:
        raise CaseError(f"case {case_id} is already with district {to_district}")
    unit = districts.unit_for(to_district)
    _move_case(case, "forwarded", to_district, unit.code if unit else None, actor, note)
    db.session.commit()
    return case


def route_by_hand(
    target: Report | Case, district_code: str, actor: str, note: str | None = None
) -> Case | None:
    """An administrator places a report (or a whole case) in a district. Commits.

    A report gets the district with rule ``by_hand``; its case follows when the case has
    no district yet (a routed case is moved with :func:`forward_case` instead). A case
    gets the district and unit, and so do its members that no rule could place.
    Returns the (possibly updated) case.
    """
    districts.require_district(district_code)
    unit = districts.unit_for(district_code)
    unit_code = unit.code if unit else None
    if isinstance(target, Report):
        case = _route_report_by_hand(target, district_code, unit_code, actor, note)
    else:
        case = _route_case_by_hand(target, district_code, unit_code, actor, note)
    db.session.commit()
    return case


def _route_report_by_hand(
    report: Report, district_code: str, unit_code: str | None, actor: str, note: str | None
) -> Case | None:
    """:func:`route_by_hand` of a report (not committed); returns its case, if any."""
    case = lock_case(report.case_id) if report.case_id else None
    old = report.district_code
    report.district_code, report.route_rule, report.route_distance_m = (
        district_code,
        "by_hand",
        None,
    )
    if case is not None:
        moves_case = case.district_code is None
        add_event(
            case,
            "routed_by_hand",
            actor=actor,
            report_id=report.id,
            from_district=old,
            to_district=district_code,
            from_unit=case.unit_code if moves_case else None,
            to_unit=unit_code if moves_case else None,
            note=note,
        )
        if moves_case:
            case.district_code, case.unit_code, case.updated_at = (
                district_code,
                unit_code,
                utcnow(),
            )
    return case


def _route_case_by_hand(
    target: Case, district_code: str, unit_code: str | None, actor: str, note: str | None
) -> Case:
    """:func:`route_by_hand` of a case (not committed); returns the live case."""
    case = lock_case(target.id)
    _move_case(case, "routed_by_hand", district_code, unit_code, actor, note)
    db.session.execute(
        sa.update(Report)
        .where(Report.case_id == case.id, Report.district_code.is_(None))
        .values(district_code=district_code, route_rule="by_hand", route_distance_m=None)
    )
    return case
