"""What the rules of :mod:`server.dedup` need from the database.

:func:`facts` turns stored columns into :class:`server.dedup.ReportFacts`;
:func:`case_plate_keys` reads the plate keys of candidate cases (a case is joined only
when the plates of the whole case are compatible, not just those of the report that
matched); :func:`best_match` picks the case (and the report) a new report matches.
Who reported first is :mod:`.first`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ...dedup import DedupConfig, Match, ReportFacts, find_match
from ...extensions import db
from ...models import Report
from ...settings import current_settings

# What a candidate report is read with (then turned into ReportFacts by facts()).
CANDIDATE_COLUMNS = (
    Report.id,
    Report.case_id,
    Report.violation,
    Report.plate_match_key,
    Report.lat,
    Report.lon,
    Report.captured_at,
    Report.district_code,
)


def dedup_config() -> DedupConfig:
    s = current_settings()
    return DedupConfig(
        radius_m=s.dedup_radius_m,
        window_minutes=s.dedup_window_minutes,
        phash_max_distance=s.dedup_phash_max_distance,
    )


def phash_window() -> timedelta:
    """How far apart in time similar photos are still looked up (for hints)."""
    return timedelta(hours=current_settings().dedup_phash_window_hours)


def facts(
    report_id: str,
    violation: str,
    plate_key: str | None,
    lat: float,
    lon: float,
    captured_at: datetime,
    shas: Iterable[str] = (),
    phashes: Iterable[str] = (),
    district_code: str | None = None,
) -> ReportFacts:
    return ReportFacts(
        report_id=report_id,
        violation=violation,
        plate_match_key=plate_key,
        lat=lat,
        lon=lon,
        captured_at=captured_at,
        media_sha256=frozenset(shas),
        media_phash=frozenset(p for p in phashes if p),
        district_code=district_code,
    )


def facts_of_row(row: Any, shas: Iterable[str] = (), phashes: Iterable[str] = ()) -> ReportFacts:
    """:func:`facts` of a row selected with :data:`CANDIDATE_COLUMNS` (and its files)."""
    return facts(
        row.id,
        row.violation,
        row.plate_match_key,
        row.lat,
        row.lon,
        row.captured_at,
        shas,
        phashes,
        row.district_code,
    )


def case_plate_keys(case_ids: Collection[str]) -> dict[str, frozenset[str]]:
    """The distinct plate match keys of the reports of each case (one query)."""
    keys: dict[str, set[str]] = {c: set() for c in case_ids}
    if not keys:
        return {}
    rows = db.session.connection().execute(
        sa.select(Report.case_id, Report.plate_match_key)
        .where(Report.case_id.in_(sorted(keys)), Report.plate_match_key.is_not(None))
        .distinct()
    )
    for case_id, key in rows:
        if key:
            keys[case_id].add(key)
    return {c: frozenset(k) for c, k in keys.items()}


def best_match(
    new: ReportFacts,
    candidates: list[tuple[str, ReportFacts]],
    cfg: DedupConfig,
    own_plates: Collection[str] | None = None,
) -> Match | None:
    """The case, reason and matched report of the best candidate, or None.

    :func:`server.dedup.find_match` decides, given the plate keys of every candidate
    case: a case holding another vehicle's plate is never joined.
    """
    if not candidates:
        return None
    plates = case_plate_keys({case_id for case_id, _ in candidates})
    return find_match(new, candidates, cfg, plates, own_plates)
