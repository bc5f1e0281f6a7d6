"""Open data: cases as Open311 GeoReport v2 service requests (read only).

GeoReport v2 (https://wiki.open311.org/GeoReport_v2) is what city dashboards and civic
tools already read. Here a *service* is a violation type of the catalogue and a
*service request* is a case (one violation by one vehicle, however many people reported
it). Absorbed cases (merged into another) are not listed, nor are cases still waiting
for their first evidence file or closed because it never came (issue 17.3).

What is published, and what never is
    A case's violation, its status (``open`` until a verdict of verified, penalty issued
    or rejected, then ``closed``), the coded reason of a rejection or of a request for
    more information as its text, the police unit handling it, its district and
    province by name, and the time it was opened and last changed. The location is
    the first report's point **snapped to the centre of a cell of** :data:`COORD_STEP`
    **degrees** (0.005°: about 555 m north-south and 520 m east-west in Hà Nội), so a
    request points at a neighbourhood, never at a house or a reporter's window. Never
    published: an informant's identity, a plate, the vehicle's description, the
    reporter's note (free text may name anyone), evidence (photos show faces and
    plates), officers and reviewers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from .. import catalogue
from ..extensions import db
from ..models import Case, Decision, Report
from ..models.types import utcnow
from ..reasons import reason_text
from .districts.index import area_info
from .districts.units import unit_for, unit_name

COORD_STEP = 0.005  # degrees; see the module's docstring
WINDOW_DAYS = 90  # GeoReport v2: the default query covers the last 90 days
MAX_PAGE_SIZE = 1000  # GeoReport v2: at most 1000 requests per answer
CLOSING_VERDICTS = ("verified", "penalty_issued", "rejected")
STATUSES = ("open", "closed")
NOTE_DECISIONS = ("reject", "needs_info")


class Open311Error(ValueError):
    """A query parameter that cannot be used; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RequestQuery:
    """The standard filters of ``GET requests``; ``ids`` overrides every other one."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def snap(value: float) -> float:
    """``value`` moved to the centre of its :data:`COORD_STEP` cell (6 decimals)."""
    return round((math.floor(value / COORD_STEP) + 0.5) * COORD_STEP, 6)


def _split(raw: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (raw or "").split(",") if part.strip())


def _when(raw: str | None, field: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        message = "Must be a W3C date-time, e.g. 2026-11-20T08:15:30+07:00."
        raise Open311Error(field, message) from None
    if value.tzinfo is None:
        raise Open311Error(field, "Must give its time zone (Z or +07:00).")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Open311Error(field, "Out of range.") from None


def _positive(raw: str | None, field: str, default: int, most: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or not 1 <= int(raw) <= most:
        raise Open311Error(field, f"Must be a whole number from 1 to {most}.")
    return int(raw)


def parse_query(args: Any) -> RequestQuery:
    """The filters of a ``requests`` query string (a mapping of strings), validated."""
    statuses = _split(args.get("status"))
    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise Open311Error("status", "Must be open, closed, or both separated by a comma.")
    codes = _split(args.get("service_code"))
    unknown = [c for c in codes if not catalogue.is_known(c)]
    if unknown:
        raise Open311Error("service_code", "Unknown service code.")
    ids = _split(args.get("service_request_id"))
    if len(ids) > MAX_PAGE_SIZE or any(len(i) > 36 for i in ids):
        raise Open311Error("service_request_id", "At most 1000 ids of 36 characters.")
    return RequestQuery(
        ids=ids,
        service_codes=codes,
        statuses=statuses,
        start=_when(args.get("start_date"), "start_date"),
        end=_when(args.get("end_date"), "end_date"),
        page=_positive(args.get("page"), "page", 1, 100_000),
        page_size=_positive(args.get("page_size"), "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def window(query: RequestQuery, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period of requested_datetime searched: as given; a missing end is 90 days
    after the start (or now, without a start), a missing start 90 days before the end.
    Never longer than 90 days."""
    span = timedelta(days=WINDOW_DAYS)
    try:
        end = query.end or (query.start + span if query.start else now or utcnow())
        start = query.start or end - span
    except OverflowError:  # 90 days past the year 9999, or before the year 1
        raise Open311Error("start_date" if query.start else "end_date", "Out of range.") from None
    if end < start:
        raise Open311Error("end_date", "Must not be before start_date.")
    if end - start > timedelta(days=WINDOW_DAYS):
        raise Open311Error("start_date", "The period may be at most 90 days.")
    return start, end


def services(lang: str) -> list[dict[str, Any]]:
    """Every violation type as a GeoReport v2 service."""
    out = []
    for item in catalogue.violations():
        english = lang == "en"
        out.append(
            {
                "service_code": item["code"],
                "service_name": item["short_en"] if english else item["short_vi"],
                "description": item["name_en"] if english else item["name_vi"],
                "metadata": False,
                "type": "realtime",
                "keywords": ", ".join(item.get("synonyms_en" if english else "synonyms_vi", [])),
                "group": "Vi phạm giao thông" if not english else "Traffic violations",
            }
        )
    return out


def _statement(query: RequestQuery, now: datetime | None) -> sa.Select:
    stmt = (
        sa.select(
            Case.id,
            Case.district_code,
            Case.unit_code,
            Case.verdict,
            Case.report_count,
            Case.created_at,
            Case.updated_at,
            Report.violation,
            Report.lat,
            Report.lon,
        )
        .select_from(Case)
        .join(Report, Report.id == Case.first_report_id)
        # Not absorbed (merged), not closed for want of evidence (expired), and holding
        # evidence: what reviewers see (a flood of reports without files is not news).
        .where(Case.status == "open", Case.evidence_at.is_not(None))
    )
    if query.ids:
        return stmt.where(Case.id.in_(query.ids)).order_by(Case.created_at.desc(), Case.id)
    start, end = window(query, now)
    stmt = stmt.where(Case.created_at >= start, Case.created_at <= end)
    if query.service_codes:
        stmt = stmt.where(Report.violation.in_(query.service_codes))
    closed = sa.and_(Case.verdict.is_not(None), Case.verdict.in_(CLOSING_VERDICTS))
    if query.statuses == ("closed",):
        stmt = stmt.where(closed)
    elif query.statuses == ("open",):
        stmt = stmt.where(sa.not_(closed))
    return (
        stmt.order_by(Case.created_at.desc(), Case.id)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )


def _notes(case_ids: Sequence[str]) -> dict[str, str | None]:
    """Each case's latest reason code of a rejection or a request for information."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        sa.select(Decision.case_id, Decision.reason_code)
        .where(Decision.case_id.in_(case_ids), Decision.kind.in_(NOTE_DECISIONS))
        .order_by(Decision.at, Decision.id)
    ).all()
    return {case_id: code for case_id, code in rows}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _address(district_code: str | None) -> str:
    info = area_info(district_code) if district_code else None
    return f"{info.name}, {info.province_name}" if info else ""


def _status_notes(verdict: str | None, reason: str | None, lang: str) -> str:
    if verdict in ("rejected", "needs_info"):
        return reason_text(reason, lang) or ""
    if verdict == "penalty_issued":
        return "A penalty decision was issued" if lang == "en" else "Đã ra quyết định xử phạt"
    if verdict == "verified":
        return "Violation verified" if lang == "en" else "Đã xác minh vi phạm"
    return ""


def requests(query: RequestQuery, lang: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """The cases the query selects, newest first, as GeoReport v2 service requests."""
    rows = db.session.execute(_statement(query, now)).all()
    notes = _notes([row.id for row in rows])
    names = catalogue.by_code()
    return [_request(row, notes.get(row.id), names, lang) for row in rows]


def _request(row: Any, reason: str | None, names: dict[str, Any], lang: str) -> dict[str, Any]:
    item = names.get(row.violation, {})
    english = lang == "en"
    # The unit the case is with (it keeps the unit it was routed or forwarded to).
    unit = unit_name(row.unit_code) or getattr(unit_for(row.district_code), "name", "")
    count = row.report_count or 1
    description = (
        f"{count} report(s) of this violation" if english else f"{count} phản ánh về vi phạm này"
    )
    return {
        "service_request_id": row.id,
        "status": "closed" if row.verdict in CLOSING_VERDICTS else "open",
        "status_notes": _status_notes(row.verdict, reason, lang),
        "service_name": item.get("short_en" if english else "short_vi", row.violation),
        "service_code": row.violation,
        "description": description,
        "agency_responsible": unit,
        "service_notice": "",
        "requested_datetime": _iso(row.created_at),
        "updated_datetime": _iso(row.updated_at),
        "expected_datetime": None,
        "address": _address(row.district_code),
        "address_id": "",
        "zipcode": "",
        "lat": snap(row.lat),
        "long": snap(row.lon),
        "media_url": "",
    }
