"""Merging cases when a received image looks like another case's (:func:`join_similar_media`).

Its pHash is compared with the pHashes of (a) every image with the *same* pHash (an
indexed lookup, any time) and (b) every image of reports captured within
``DEDUP_PHASH_WINDOW_HOURS`` of this report (``ix_media_captured_phash``). A similar
photo merges the two *cases* only under the rules of :func:`server.dedup.join_reason`
(the same violation and district, within the dedup radius and window) and only when the
plates of both whole cases are compatible (:func:`server.dedup.plates_compatible`); the
case whose first reporter reported first survives and absorbs the other's reports; the
absorbed case stays, empty, as ``status='merged'`` pointing at the survivor, and both
histories record the merge. Cases made by a reviewer's split (``manual``) are never
merged automatically, and neither is a case with a verdict when it would be the one
absorbed (a decided case may take a later report in, and then shows it as new since the
verdict). Every other similar photo is recorded as a hint (:mod:`.hints`).
Degenerate hashes (uniform images stored before they were skipped) are never compared.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from ...dedup import SIMILAR_MEDIA, DedupConfig, Match, ReportFacts, photo_distance, usable_phash
from ...extensions import db
from ...models import Case, Media, Report, utcnow
from .. import districts
from .arrival import refresh_evidence_at
from .events import add_event
from .first import earlier_case, refresh_first_reporter
from .hints import MAX_HINTS, Hint, record_hints
from .locks import lock_case
from .matching import (
    CANDIDATE_COLUMNS,
    best_match,
    case_plate_keys,
    dedup_config,
    facts,
    facts_of_row,
    phash_window,
)


class CasesJoined(NamedTuple):
    """An automatic merge: ``absorbed_id``'s reports moved into ``survivor`` because
    ``report_id`` (of the absorbed case) matched ``match_report_id`` for ``reason``."""

    survivor: Case
    absorbed_id: str
    report_id: str
    match_report_id: str
    reason: str


_CANDIDATE_LIMIT = 200  # rows of the same-pHash lookup (a photo re-sent many times)


def _near_hashes(report: Report, phashes: set[str], cfg: DedupConfig) -> dict[str, set[str]]:
    """``{report_id: its pHashes within the threshold}`` of images that may match.

    Two lookups of ``(report_id, phash)`` pairs: the same pHash at any time (index
    ``ix_media_phash``), and every image captured within the pHash window (the covering
    index ``ix_media_captured_phash``). Hashes are compared here.
    """
    window = phash_window()
    pairs = sa.select(Media.report_id, Media.phash)
    same_hash = pairs.where(Media.phash.in_(sorted(phashes))).limit(_CANDIDATE_LIMIT)
    near_in_time = pairs.where(
        Media.captured_at.between(report.captured_at - window, report.captured_at + window),
        Media.phash.is_not(None),
    )
    own = [int(h, 16) for h in phashes]
    limit = cfg.phash_max_distance
    hashes: dict[str, set[str]] = defaultdict(set)
    # The window may hold thousands of images: read them through Core (no ORM rows)
    # and compare integers; the caller has flushed the session.
    conn = db.session.connection()
    for query in (same_hash, near_in_time):
        rows = [(r, p) for r, p in conn.execute(query) if usable_phash(p)]
        if len(own) == 1:
            h = own[0]
            hits = [(r, p) for r, p in rows if (int(p, 16) ^ h).bit_count() <= limit]
        else:
            hits = [
                (r, p) for r, p in rows if any((int(p, 16) ^ h).bit_count() <= limit for h in own)
            ]
        for report_id, phash in hits:
            hashes[report_id].add(phash)
    return hashes


def _phash_candidates(
    report: Report, case: Case, phashes: set[str], cfg: DedupConfig
) -> list[tuple[str, ReportFacts, bool]]:
    """``(case_id, facts, manual)`` of the reports of other open cases holding an image
    within the pHash threshold (the few reports :func:`_near_hashes` finds, read in full)."""
    hashes = _near_hashes(report, phashes, cfg)
    if not hashes:
        return []
    rows = db.session.execute(
        sa.select(*CANDIDATE_COLUMNS, Case.manual)
        .join(Case, Case.id == Report.case_id)
        .where(Report.id.in_(list(hashes)), Report.case_id != case.id, Case.status == "open")
    )
    return [
        (
            r.case_id,
            facts_of_row(r, (), hashes[r.id]),
            r.manual,
        )
        for r in rows
    ]


def join_similar_media(report: Report) -> CasesJoined | None:
    """After an image of ``report`` got its pHash: merge its case with the case of a
    report holding a similar image, if the rules allow; record the other similar photos
    as hints. Returns what merged (the caller appends it to the custody trail), or None
    if nothing merged. Runs in the caller's transaction (the caller commits).
    """
    phashes = {m.phash for m in report.media if m.phash and usable_phash(m.phash)}
    if not phashes or report.case_id is None:
        return None
    # The caller holds the new photo's neighbourhood locks (lock_similar_media_near,
    # taken first in mark_received): the candidates read below cannot miss a photo
    # received at the same moment that could match it.
    db.session.flush()
    own = lock_case(report.case_id)
    cfg = dedup_config()
    new = facts(
        report.id,
        report.violation,
        report.plate_match_key,
        report.lat,
        report.lon,
        report.captured_at,
        (),
        phashes,
        report.district_code,
    )
    candidates = _phash_candidates(report, own, phashes, cfg)
    joinable = [] if own.manual else [(c, f) for c, f, manual in candidates if not manual]
    match = best_match(new, joinable, cfg, own_plates=case_plate_keys([own.id])[own.id])
    _hint_the_rest(own.id, new, candidates, match)
    if match is None:
        return None
    other_id, reason, matched = match
    first, second = sorted([own.id, other_id])
    locked = {first: lock_case(first), second: lock_case(second)}
    own, other = locked[own.id], locked[other_id]
    if own.id == other.id:
        return None  # merged meanwhile: nothing more to do
    if earlier_case(other, own) is other:
        survivor, absorbed, link, partner = other, own, report.id, matched
    else:
        survivor, absorbed, link, partner = own, other, matched, report.id
    if absorbed.verdict is not None:
        # A case a reviewer has decided is never absorbed automatically (its verdict
        # would vanish into the other case): the reviewer is told by a hint instead.
        record_hints(own.id, [Hint(other.id, report.id, matched, SIMILAR_MEDIA)])
        return None
    _merge(survivor, absorbed, reason, link, partner, actor="system")
    return CasesJoined(survivor, absorbed.id, link, partner, reason)


def _hint_the_rest(
    case_id: str,
    new: ReportFacts,
    candidates: list[tuple[str, ReportFacts, bool]],
    match: Match | None,
) -> None:
    """Hints to the nearest similar photos of other cases the report did not join."""
    joined = match.case_id if match else None
    nearest: dict[str, tuple[int, str]] = {}
    for other_case, other, _ in candidates:
        if other_case == joined:
            continue
        distance = photo_distance(new.media_phash, other.media_phash)
        if distance is not None and (distance, other.report_id) < nearest.get(other_case, (65, "")):
            nearest[other_case] = (distance, other.report_id)
    ranked = sorted(nearest.items(), key=lambda item: (item[1], item[0]))[:MAX_HINTS]
    record_hints(
        case_id, [Hint(c, new.report_id, report_id, SIMILAR_MEDIA) for c, (_, report_id) in ranked]
    )


def _merge(
    survivor: Case, absorbed: Case, reason: str, link: str, partner: str, actor: str
) -> None:
    """Move every report of ``absorbed`` into ``survivor``.

    ``link`` (a report of ``absorbed``) matched ``partner`` (a report of ``survivor``)
    for ``reason``. The absorbed case's founder records that reason: it is why its whole
    group joined; the other members keep the reasons they joined with.
    """
    now = utcnow()
    db.session.execute(
        sa.update(Report)
        .where(Report.case_id == absorbed.id, Report.join_reason.is_(None))
        .values(join_reason=reason, join_match_report_id=partner, joined_at=now)
    )
    db.session.execute(
        sa.update(Report).where(Report.case_id == absorbed.id).values(case_id=survivor.id)
    )
    survivor.report_count += absorbed.report_count
    survivor.updated_at = now
    refresh_first_reporter(survivor)
    refresh_evidence_at(survivor)  # the earlier of the two
    _take_district_if_unrouted(survivor, absorbed.district_code, link)
    add_event(
        survivor,
        "absorbed",
        actor=actor,
        report_id=link,
        other_case_id=absorbed.id,
        reason=reason,
        note=f"{link} matched {partner}",
    )
    add_event(
        absorbed, "merged", actor=actor, report_id=link, other_case_id=survivor.id, reason=reason
    )
    absorbed.status = "merged"
    absorbed.merged_into_id = survivor.id
    absorbed.report_count = 0
    absorbed.evidence_at = None  # empty: its evidence is the survivor's now
    absorbed.updated_at = now


def _take_district_if_unrouted(case: Case, district_code: str | None, report_id: str) -> None:
    """An unrouted case gets the district of a routed report that joins it."""
    if case.district_code is not None or not district_code:
        return
    unit = districts.unit_for(district_code)
    add_event(
        case,
        "routed",
        report_id=report_id,
        to_district=district_code,
        to_unit=unit.code if unit else None,
    )
    case.district_code = district_code
    case.unit_code = unit.code if unit else None
