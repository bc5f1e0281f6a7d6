"""Joining a new report to its case at ingest (:func:`assign_case`).

Candidates are the reports sharing a declared file (SHA-256, indexed) and the reports
with the same plate match key and violation captured within the dedup window and
bounding box (index ``ix_reports_plate_violation_time``). The best match of
:func:`server.dedup.find_match` decides the case (never one holding another vehicle's
plate); without one the report opens a new case in its own district. A shared file that
may not join (other plates, another violation) is recorded as a hint in both cases
(:mod:`.hints`). Core statements only: ingest builds no ORM case objects.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa

from ...dedup import SAME_MEDIA, DedupConfig, Match, Receipt, ReportFacts, candidate_window
from ...extensions import db
from ...models import Case, CaseEvent, Media, Report, utcnow
from .. import districts
from .first import choose_first
from .hints import Hint, record_hints
from .locks import advisory_locks, lock_case_row
from .matching import CANDIDATE_COLUMNS, best_match, dedup_config, facts, facts_of_row


@functools.cache
def _candidate_query(by_file: bool, by_plate: bool) -> sa.Select:
    """The candidate query, built once per shape (this runs on every ingest).

    Candidate ids: reports holding one of the declared files (``ix_media_sha256``) and
    reports with the same plate key and violation in the time window and bounding box of
    :func:`server.dedup.candidate_window` (``ix_reports_plate_violation_time``). They are
    read with all their media, so :func:`server.dedup.find_match` sees every reason.
    """
    ids = []
    if by_file:
        ids.append(
            sa.select(Media.report_id).where(Media.sha256.in_(sa.bindparam("shas", expanding=True)))
        )
    if by_plate:
        ids.append(
            sa.select(Report.id).where(
                Report.plate_match_key == sa.bindparam("plate_key"),
                Report.violation == sa.bindparam("violation"),
                Report.captured_at.between(sa.bindparam("t_min"), sa.bindparam("t_max")),
                Report.lat.between(sa.bindparam("lat_min"), sa.bindparam("lat_max")),
                Report.lon.between(sa.bindparam("lon_min"), sa.bindparam("lon_max")),
            )
        )
    return (
        sa.select(*CANDIDATE_COLUMNS, Media.sha256, Media.phash)
        .join(Media, Media.report_id == Report.id)
        .where(
            Report.id.in_(ids[0] if len(ids) == 1 else sa.union(*ids)),
            Report.id != sa.bindparam("report_id"),
            Report.case_id.is_not(None),
        )
    )


def _candidate_params(report: Report, new: ReportFacts, cfg: DedupConfig) -> dict[str, object]:
    """The bound values of :func:`_candidate_query` for a new report."""
    params: dict[str, object] = {"report_id": report.id}
    if new.media_sha256:
        params["shas"] = sorted(new.media_sha256)
    if new.plate_match_key:
        t_min, t_max, (lat0, lat1, lon0, lon1) = candidate_window(new, cfg)
        params.update(
            plate_key=new.plate_match_key,
            violation=new.violation,
            t_min=t_min,
            t_max=t_max,
            lat_min=lat0,
            lat_max=lat1,
            lon_min=lon0,
            lon_max=lon1,
        )
    return params


def _ingest_candidates(
    report: Report, new: ReportFacts, cfg: DedupConfig
) -> list[tuple[str, ReportFacts]]:
    """``(case_id, facts)`` of the reports a new report could join (one query)."""
    by_file, by_plate = bool(new.media_sha256), bool(new.plate_match_key)
    if not (by_file or by_plate):
        return []
    params = _candidate_params(report, new, cfg)
    rows: dict[str, sa.Row] = {}
    shas: dict[str, set[str]] = defaultdict(set)
    phashes: dict[str, set[str]] = defaultdict(set)
    conn = db.session.connection()
    for r in conn.execute(_candidate_query(by_file, by_plate), params):
        rows.setdefault(r.id, r)
        shas[r.id].add(r.sha256)
        if r.phash:
            phashes[r.id].add(r.phash)
    return [
        (
            r.case_id,
            facts_of_row(r, shas[r.id], phashes[r.id]),
        )
        for r in rows.values()
    ]


def assign_case(report: Report) -> str:
    """Put a new report (built, not yet inserted) into its case: an existing one it
    matches (updated here), or a new one (inserted here: the report points at it).
    Sets the report's case fields and returns its case id.

    Runs in the caller's transaction (the caller inserts the report and commits). Core
    statements only: ingest builds no ORM case objects.
    """
    cfg = dedup_config()
    new = facts(
        report.id,
        report.violation,
        report.plate_match_key,
        report.lat,
        report.lon,
        report.captured_at,
        (m.sha256 for m in report.media),
        district_code=report.district_code,
    )
    keys = [f"sha:{s}" for s in new.media_sha256]
    if new.plate_match_key:
        keys.append(f"plate:{new.plate_match_key}")
    advisory_locks(keys)
    candidates = _ingest_candidates(report, new, cfg)
    match = best_match(new, candidates, cfg)
    now = utcnow()
    if match is None:
        case_id = _open_case(report, now)
        reason, matched = None, None
    else:
        case_id, reason, matched = match
        case_id = _join_case(report, lock_case_row(case_id), now)
    _hint_shared_files(case_id, report.id, new, candidates, match)
    report.case_id = case_id
    report.join_reason = reason
    report.join_match_report_id = matched
    report.joined_at = now
    return case_id


_INSERT_CASE = sa.insert(Case.__table__)
_INSERT_CASE_EVENT = sa.insert(CaseEvent.__table__)
_JOIN_CASE = (
    sa.update(Case.__table__)
    .where(Case.__table__.c.id == sa.bindparam("p_case_id"))
    .values(
        report_count=Case.__table__.c.report_count + 1,
        first_report_id=sa.bindparam("p_first_report_id"),
        district_code=sa.bindparam("p_district_code"),
        unit_code=sa.bindparam("p_unit_code"),
        updated_at=sa.bindparam("p_now"),
    )
)


def _open_case(report: Report, now: datetime) -> str:
    """INSERT the case a new report opens, in the report's district; returns its id."""
    unit = districts.unit_for(report.district_code)
    case_id = str(uuid.uuid4())
    db.session.connection().execute(
        _INSERT_CASE,
        {
            "id": case_id,
            "district_code": report.district_code,
            "unit_code": unit.code if unit else None,
            "first_report_id": report.id,
            "status": "open",
            "merged_into_id": None,
            "manual": False,
            "report_count": 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    return case_id


def _hint_shared_files(
    case_id: str,
    report_id: str,
    new: ReportFacts,
    candidates: list[tuple[str, ReportFacts]],
    match: Match | None,
) -> None:
    """Record a hint to each other case holding one of the new report's files that the
    report did not join (another plate or violation): a reviewer should look."""
    joined = match.case_id if match else None
    hints = [
        Hint(other_case, report_id, other.report_id, SAME_MEDIA)
        for other_case, other in candidates
        if other_case not in (case_id, joined) and new.media_sha256 & other.media_sha256
    ]
    if hints:
        record_hints(case_id, hints)


def _join_case(report: Report, case: sa.Row, now: datetime) -> str:
    """UPDATE the locked case ``case`` (from :func:`.locks.lock_case_row`) that a report joins:
    one more report, maybe a new first reporter (:mod:`.first`: the new report has no
    evidence yet), and the report's district if the case had none (recorded as a
    ``routed`` event). Returns the case id."""
    mine = Receipt(report.id, report.captured_at, report.received_at or now, None)
    first = choose_first(case.id, [mine]) or case.first_report_id
    district, unit_code = case.district_code, case.unit_code
    conn = db.session.connection()
    if district is None and report.district_code:
        unit = districts.unit_for(report.district_code)
        district, unit_code = report.district_code, unit.code if unit else None
        conn.execute(
            _INSERT_CASE_EVENT,
            {
                "case_id": case.id,
                "kind": "routed",
                "actor": "system",
                "report_id": report.id,
                "to_district": district,
                "to_unit": unit_code,
                "created_at": now,
            },
        )
    conn.execute(
        _JOIN_CASE,
        {
            "p_case_id": case.id,
            "p_first_report_id": first,
            "p_district_code": district,
            "p_unit_code": unit_code,
            "p_now": now,
        },
    )
    return case.id
