"""Who may see what: every console view reaches a case, report or file through here.

Anything outside the user's districts is answered 404, as if it did not exist, so a
reviewer cannot even learn which ids exist in other districts.
"""

from __future__ import annotations

from flask import abort

from ..extensions import db
from ..models import Case, Media, Report
from ..models.accounts import User
from ..services import accounts


def allowed_districts(user: User) -> set[str] | None:
    """The user's district codes; None for all (admin)."""
    return accounts.districts_of(user)


def may_see_district(user: User, district_code: str | None) -> bool:
    codes = allowed_districts(user)
    if codes is None:
        return True
    return district_code is not None and district_code in codes


def case_for(user: User, case_id: str) -> Case:
    """The case if it is in one of the user's districts, else 404."""
    if len(case_id) > 36:
        abort(404)
    case = db.session.get(Case, case_id)
    if case is None or not may_see_district(user, case.district_code):
        abort(404)
    return case


def report_for(user: User, report_id: str) -> tuple[Report, Case]:
    """A report and its case, through :func:`case_for`."""
    if len(report_id) > 36:
        abort(404)
    report = db.session.get(Report, report_id)
    if report is None or report.case_id is None:
        abort(404)
    return report, case_for(user, report.case_id)


def media_for(user: User, media_id: str) -> Media:
    if len(media_id) > 36:
        abort(404)
    media = db.session.get(Media, media_id)
    if media is None or not media.received:
        abort(404)
    report_for(user, media.report_id)
    return media
