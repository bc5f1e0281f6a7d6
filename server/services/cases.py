"""Cases: reports of the same violation reviewed once, with the history of each case.

The rules of *when* two reports are the same violation live in :mod:`server.dedup`
(pure); this module gathers candidates from the database, applies those rules, and keeps
``cases``, ``reports.case_id`` and ``case_events`` consistent.

At ingest (:func:`assign_case`, inside ``put_report``'s transaction)
    Candidates are the reports sharing a declared file (SHA-256, indexed) and the reports
    with the same plate match key and violation captured within the dedup window and
    bounding box (index ``ix_reports_plate_violation_time``). The best match of
    :func:`server.dedup.find_case` decides the case; without one the report opens a new
    case in its own district. A case stays with the district it was opened in (unless
    it had none: then the first routed report joining it gives it one), whatever the
    districts of the reports that join later; moving it is :func:`forward_case`.

When an image arrives (:func:`join_similar_media`, inside ``mark_received``)
    Its pHash is compared with the pHashes of (a) every image with the *same* pHash (an
    indexed lookup, any time) and (b) every image of reports captured within
    ``DEDUP_PHASH_WINDOW_HOURS`` of this report (``ix_media_captured_phash``); the
    Hamming threshold is ``DEDUP_PHASH_MAX_DISTANCE``. A bucketed index that finds every
    hash within 12 bits of 64 would need 13 bands of ~5 bits, each matching ~1/32 of all
    images: no better than a scan at a million reports. So similar-but-not-identical
    photos are only matched within the time window (trade-off: a re-encoded copy reported
    with a capture time days away is not joined automatically; byte-identical files and
    pixel-identical images still are). On a match the two *cases* merge: the case whose
    first report is earlier survives and absorbs the other's reports; the absorbed case
    stays, empty, as ``status='merged'`` pointing at the survivor, and both histories
    record the merge. Cases made by a reviewer's split (``manual``) are never merged
    automatically.

Where membership is recorded
    On the report: ``case_id``, ``join_reason`` (``same_media``, ``similar_media``,
    ``same_plate``; NULL for the report that opened the case), ``join_match_report_id``
    (the report it matched) and ``joined_at``. ``case_events`` records what changed a
    case afterwards: merges, splits, forwarding, routing by hand, unit changes.

First reporter
    ``cases.first_report_id`` is the member with the earliest ``captured_at`` (ties: the
    earliest ``received_at``, then the smallest id); it is kept up to date on every join,
    merge and split. A reward rule pays only that report.

Concurrency
    SQLite serialises writers. On PostgreSQL, ingest takes transaction-scoped advisory
    locks on the plate match key and on each declared SHA-256 (sorted, so two requests
    never wait on each other in a cycle) before looking for candidates, so two reports of
    the same car arriving at once end in one case. Similar-photo merges take one global
    advisory lock (:func:`lock_similar_media`), first in ``mark_received``'s transaction,
    so two near-identical photos received at once still meet. Case rows are then
    locked with ``SELECT … FOR UPDATE`` (a case merged meanwhile is followed to its
    survivor). These locks are always taken before the status-feed lock of
    :mod:`server.services.status`.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app

from ..dedup import DedupConfig, ReportFacts, candidate_window, find_case, join_reason
from ..extensions import db
from ..models import Media, Report, utcnow
from ..models.geo import Case, CaseEvent
from . import routing

_CANDIDATE_LIMIT = 200  # rows of the same-pHash lookup (a photo re-sent many times)
_PHASH_LOCK = "phash-merge"

SPLIT = "split"


class CaseError(ValueError):
    """A case operation that cannot be carried out (unknown id, nothing to split ...)."""


def dedup_config() -> DedupConfig:
    c = current_app.config
    return DedupConfig(
        radius_m=float(c["DEDUP_RADIUS_M"]),
        window_minutes=float(c["DEDUP_WINDOW_MINUTES"]),
        phash_max_distance=int(c["DEDUP_PHASH_MAX_DISTANCE"]),
    )


def phash_window() -> timedelta:
    return timedelta(hours=float(current_app.config["DEDUP_PHASH_WINDOW_HOURS"]))


# ---------------------------------------------------------------------------- locking


def _lock_key(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# One round trip for all keys: unnest() yields the sorted array in order, and each row's
# lock is taken as the row is produced, so keys are always locked in ascending order.
_LOCK_KEYS = sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS t(k)")


def _advisory_locks(names: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on PostgreSQL (no-op elsewhere), in key order."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(n) for n in names})
    if keys:
        db.session.connection().execute(_LOCK_KEYS, {"keys": keys}).all()


_LOCK_CASE = (
    sa.select(Case)
    .where(Case.id == sa.bindparam("case_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
# The same lock at ingest, reading only what joining a case needs (no ORM object).
_LOCK_CASE_ROW = (
    sa.select(
        Case.id, Case.merged_into_id, Case.first_report_id, Case.district_code, Case.unit_code
    )
    .where(Case.id == sa.bindparam("case_id"))
    .with_for_update()
)


class _CaseLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def merged_into_id(self) -> str | None: ...


C = TypeVar("C", bound=_CaseLike)


def _follow_merges(case_id: str, read: Callable[[str], C | None]) -> C:
    """The live case (following merges) as ``read`` returns it (``read`` locks it)."""
    seen = set()
    while True:
        case = read(case_id)
        if case is None:
            raise CaseError(f"no case {case_id}")
        if case.merged_into_id is None or case.merged_into_id in seen:
            return case
        seen.add(case.id)
        case_id = case.merged_into_id


def _lock_case(case_id: str) -> Case:
    """The live case (following merges), locked for update and freshly read."""
    return _follow_merges(
        case_id,
        lambda cid: db.session.execute(_LOCK_CASE, {"case_id": cid}).scalar_one_or_none(),
    )


def _lock_case_row(case_id: str) -> sa.Row:
    """:func:`_lock_case` as a row of ``_LOCK_CASE_ROW`` (the ingest path)."""
    conn = db.session.connection()
    return _follow_merges(
        case_id, lambda cid: conn.execute(_LOCK_CASE_ROW, {"case_id": cid}).one_or_none()
    )


# ---------------------------------------------------------------------------- helpers


def _event(case: Case, kind: str, actor: str = "system", **fields: object) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor=actor[:64], created_at=utcnow(), **fields)
    db.session.add(event)
    return event


def _rank(captured_at: datetime, received_at: datetime | None, report_id: str) -> tuple:
    return (captured_at, received_at or utcnow(), report_id)


def _report_rank(report_id: str) -> tuple:
    row = db.session.execute(
        sa.select(Report.captured_at, Report.received_at).where(Report.id == report_id)
    ).one()
    return _rank(row.captured_at, row.received_at, report_id)


def _earliest_member(case_id: str) -> str | None:
    return db.session.scalar(
        sa.select(Report.id)
        .where(Report.case_id == case_id)
        .order_by(Report.captured_at, Report.received_at, Report.id)
        .limit(1)
    )


def _new_case(report: Report, *, manual: bool = False) -> Case:
    unit = routing.unit_for(report.district_code)
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


def _take_district_if_unrouted(case: Case, district_code: str | None, report_id: str) -> None:
    """An unrouted case gets the district of a routed report that joins it."""
    if case.district_code is not None or not district_code:
        return
    unit = routing.unit_for(district_code)
    _event(
        case,
        "routed",
        report_id=report_id,
        to_district=district_code,
        to_unit=unit.code if unit else None,
    )
    case.district_code = district_code
    case.unit_code = unit.code if unit else None


def _facts(
    report_id: str,
    violation: str,
    plate_key: str | None,
    lat: float,
    lon: float,
    captured_at: datetime,
    shas: Iterable[str] = (),
    phashes: Iterable[str] = (),
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
    )


def _best_match(
    new: ReportFacts, candidates: list[tuple[str, ReportFacts]], cfg: DedupConfig
) -> tuple[str, str, str] | None:
    """``(case_id, reason, matched_report_id)`` of the best candidate, or None.

    :func:`server.dedup.find_case` picks the case and reason; the matched report is the
    earliest-captured candidate of that case giving that reason (the one it ranked first).
    """
    found = find_case(new, candidates, cfg)
    if found is None:
        return None
    case_id, reason = found
    matched = min(
        (f for c, f in candidates if c == case_id and join_reason(new, f, cfg) == reason),
        key=lambda f: (f.captured_at, f.report_id),
    )
    return case_id, reason, matched.report_id


# ---------------------------------------------------------------------------- ingest


_CANDIDATE_COLUMNS = (
    Report.id,
    Report.case_id,
    Report.violation,
    Report.plate_match_key,
    Report.lat,
    Report.lon,
    Report.captured_at,
)


@functools.cache
def _candidate_query(by_file: bool, by_plate: bool) -> sa.Select:
    """The candidate query, built once per shape (this runs on every ingest).

    Candidate ids: reports holding one of the declared files (``ix_media_sha256``) and
    reports with the same plate key and violation in the time window and bounding box of
    :func:`server.dedup.candidate_window` (``ix_reports_plate_violation_time``). They are
    read with all their media, so :func:`server.dedup.find_case` sees every reason.
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
        sa.select(*_CANDIDATE_COLUMNS, Report.received_at, Media.sha256, Media.phash)
        .join(Media, Media.report_id == Report.id)
        .where(
            Report.id.in_(ids[0] if len(ids) == 1 else sa.union(*ids)),
            Report.id != sa.bindparam("report_id"),
            Report.case_id.is_not(None),
        )
    )


def _ingest_candidates(
    report: Report, new: ReportFacts, cfg: DedupConfig
) -> tuple[list[tuple[str, ReportFacts]], dict[str, tuple]]:
    """``(case_id, facts)`` of the reports a new report could join (one query), and
    their first-reporter ranks."""
    by_file, by_plate = bool(new.media_sha256), bool(new.plate_match_key)
    if not (by_file or by_plate):
        return [], {}
    params: dict[str, object] = {"report_id": report.id}
    if by_file:
        params["shas"] = sorted(new.media_sha256)
    if by_plate:
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
    rows: dict[str, sa.Row] = {}
    shas: dict[str, set[str]] = defaultdict(set)
    phashes: dict[str, set[str]] = defaultdict(set)
    conn = db.session.connection()
    for r in conn.execute(_candidate_query(by_file, by_plate), params):
        rows.setdefault(r.id, r)
        shas[r.id].add(r.sha256)
        if r.phash:
            phashes[r.id].add(r.phash)
    ranks = {r.id: _rank(r.captured_at, r.received_at, r.id) for r in rows.values()}
    return [
        (
            r.case_id,
            _facts(
                r.id,
                r.violation,
                r.plate_match_key,
                r.lat,
                r.lon,
                r.captured_at,
                shas[r.id],
                phashes[r.id],
            ),
        )
        for r in rows.values()
    ], ranks


def assign_case(report: Report) -> str:
    """Put a new report (built, not yet inserted) into its case: an existing one it
    matches (updated here), or a new one (inserted here: the report points at it).
    Sets the report's case fields and returns its case id.

    Runs in the caller's transaction (the caller inserts the report and commits). Core
    statements only: ingest builds no ORM case objects.
    """
    cfg = dedup_config()
    new = _facts(
        report.id,
        report.violation,
        report.plate_match_key,
        report.lat,
        report.lon,
        report.captured_at,
        (m.sha256 for m in report.media),
    )
    keys = [f"sha:{s}" for s in new.media_sha256]
    if new.plate_match_key:
        keys.append(f"plate:{new.plate_match_key}")
    _advisory_locks(keys)
    candidates, ranks = _ingest_candidates(report, new, cfg)
    match = _best_match(new, candidates, cfg)
    now = utcnow()
    if match is None:
        case_id = _open_case(report, now)
        reason, matched = None, None
    else:
        case_id, reason, matched = match
        case_id = _join_case(report, _lock_case_row(case_id), ranks, now)
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
    unit = routing.unit_for(report.district_code)
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


def _join_case(report: Report, case: sa.Row, ranks: dict[str, tuple], now: datetime) -> str:
    """UPDATE the locked case ``case`` (a ``_LOCK_CASE_ROW``) that a new report joins:
    one more report, maybe a new first reporter, and the report's district if the case
    had none (recorded as a ``routed`` event). Returns the case id."""
    first = ranks.get(case.first_report_id) or _report_rank(case.first_report_id)
    mine = _rank(report.captured_at, report.received_at, report.id)
    district, unit_code = case.district_code, case.unit_code
    conn = db.session.connection()
    if district is None and report.district_code:
        unit = routing.unit_for(report.district_code)
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
            "p_first_report_id": report.id if mine < first else case.first_report_id,
            "p_district_code": district,
            "p_unit_code": unit_code,
            "p_now": now,
        },
    )
    return case.id


# ---------------------------------------------------------------------------- pHash


def _phash_candidates(report: Report, case: Case, phashes: set[str], cfg: DedupConfig) -> list:
    """Reports of other open, non-manual cases holding an image within the pHash threshold.

    Two lookups of ``(report_id, phash)`` pairs: the same pHash at any time (index
    ``ix_media_phash``), and every image captured within the pHash window (the covering
    index ``ix_media_captured_phash``). Hashes are compared here; the few reports that
    pass are then read in full.
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
        rows = [(r, p) for r, p in conn.execute(query) if len(p) == 16]
        if len(own) == 1:
            h = own[0]
            hits = [(r, p) for r, p in rows if (int(p, 16) ^ h).bit_count() <= limit]
        else:
            hits = [
                (r, p) for r, p in rows if any((int(p, 16) ^ h).bit_count() <= limit for h in own)
            ]
        for report_id, phash in hits:
            hashes[report_id].add(phash)
    if not hashes:
        return []
    rows = db.session.execute(
        sa.select(*_CANDIDATE_COLUMNS)
        .join(Case, Case.id == Report.case_id)
        .where(
            Report.id.in_(list(hashes)),
            Report.case_id != case.id,
            Case.manual.is_(False),
            Case.status == "open",
        )
    )
    return [
        (
            r.case_id,
            _facts(r.id, r.violation, None, r.lat, r.lon, r.captured_at, (), hashes[r.id]),
        )
        for r in rows
    ]


def lock_similar_media() -> None:
    """Serialise similar-photo merges (PostgreSQL; SQLite serialises every writer).

    Without it, two near-identical photos received at the same moment would each miss
    the other (neither pHash committed yet). Callers take it first in their
    transaction, before locking any report: a merge updates the reports of the
    absorbed case, so a transaction holding a report lock while waiting for this one
    could deadlock with the merge.
    """
    _advisory_locks([_PHASH_LOCK])


def join_similar_media(report: Report) -> Case | None:
    """After an image of ``report`` got its pHash: merge its case with the case of a
    report holding a similar image. Returns the surviving case, or None if nothing
    merged. Runs in the caller's transaction (the caller commits).
    """
    phashes = {m.phash for m in report.media if m.phash}
    if not phashes or report.case_id is None:
        return None
    lock_similar_media()  # normally already held (re-entrant): see its docstring
    db.session.flush()
    own = _lock_case(report.case_id)
    if own.manual:
        return None
    cfg = dedup_config()
    new = _facts(
        report.id,
        report.violation,
        None,
        report.lat,
        report.lon,
        report.captured_at,
        (),
        phashes,
    )
    match = _best_match(new, _phash_candidates(report, own, phashes, cfg), cfg)
    if match is None:
        return None
    other_id, reason, matched = match
    first, second = sorted([own.id, other_id])
    locked = {first: _lock_case(first), second: _lock_case(second)}
    own, other = locked[own.id], locked[other_id]
    if own.id == other.id:
        return own
    # The case whose first report is earlier survives.
    if _report_rank(other.first_report_id) <= _report_rank(own.first_report_id):
        survivor, absorbed, link, partner = other, own, report.id, matched
    else:
        survivor, absorbed, link, partner = own, other, matched, report.id
    _merge(survivor, absorbed, reason, link, partner, actor="system")
    return survivor


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
    if _report_rank(absorbed.first_report_id) < _report_rank(survivor.first_report_id):
        survivor.first_report_id = absorbed.first_report_id
    survivor.report_count += absorbed.report_count
    survivor.updated_at = now
    _take_district_if_unrouted(survivor, absorbed.district_code, link)
    _event(
        survivor,
        "absorbed",
        actor=actor,
        report_id=link,
        other_case_id=absorbed.id,
        reason=reason,
        note=f"{link} matched {partner}",
    )
    _event(
        absorbed, "merged", actor=actor, report_id=link, other_case_id=survivor.id, reason=reason
    )
    absorbed.status = "merged"
    absorbed.merged_into_id = survivor.id
    absorbed.report_count = 0
    absorbed.updated_at = now


# ---------------------------------------------------------------------------- reviewers


def _get_report(report_id: str) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise CaseError(f"no report {report_id}")
    return report


def split_report(report_id: str, actor: str, reason: str) -> Case:
    """A reviewer takes a report out of its case: it becomes a case of its own.

    The new case is in the report's own district and is ``manual`` (never merged
    automatically). The old case recomputes its first reporter. Both histories record
    the split. Commits.
    """
    report = _get_report(report_id)
    if report.case_id is None:
        raise CaseError(f"report {report_id} is in no case")
    old = _lock_case(report.case_id)
    if old.report_count <= 1:
        raise CaseError(f"report {report_id} is already alone in its case")
    new = _new_case(report, manual=True)
    old.report_count -= 1
    old.updated_at = utcnow()
    db.session.flush()
    if old.first_report_id == report.id:
        old.first_report_id = _earliest_member(old.id) or old.first_report_id
    _event(old, "split", actor=actor, report_id=report.id, other_case_id=new.id, note=reason)
    _event(
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
    routing.require_district(to_district)
    case = _lock_case(case_id)
    if case.id != case_id:
        raise CaseError(f"case {case_id} was merged into {case.id}: forward that case")
    if case.district_code == to_district:
        raise CaseError(f"case {case_id} is already with district {to_district}")
    unit = routing.unit_for(to_district)
    _event(
        case,
        "forwarded",
        actor=actor,
        from_district=case.district_code,
        to_district=to_district,
        from_unit=case.unit_code,
        to_unit=unit.code if unit else None,
        note=note,
    )
    case.district_code = to_district
    case.unit_code = unit.code if unit else None
    case.updated_at = utcnow()
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
    routing.require_district(district_code)
    unit = routing.unit_for(district_code)
    unit_code = unit.code if unit else None
    if isinstance(target, Report):
        report = target
        case = _lock_case(report.case_id) if report.case_id else None
        old = report.district_code
        report.district_code, report.route_rule, report.route_distance_m = (
            district_code,
            "by_hand",
            None,
        )
        if case is not None:
            moves_case = case.district_code is None
            _event(
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
        db.session.commit()
        return case
    case = _lock_case(target.id)
    _event(
        case,
        "routed_by_hand",
        actor=actor,
        from_district=case.district_code,
        to_district=district_code,
        from_unit=case.unit_code,
        to_unit=unit_code,
        note=note,
    )
    case.district_code, case.unit_code, case.updated_at = district_code, unit_code, utcnow()
    db.session.execute(
        sa.update(Report)
        .where(Report.case_id == case.id, Report.district_code.is_(None))
        .values(district_code=district_code, route_rule="by_hand", route_distance_m=None)
    )
    db.session.commit()
    return case


# ---------------------------------------------------------------------------- reading


def get_case(case_id: str) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise CaseError(f"no case {case_id}")
    return case


def members(case_id: str) -> list[Report]:
    """The reports of a case, first reporter first (earliest capture, then receipt)."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(Report.case_id == case_id)
            .order_by(Report.captured_at, Report.received_at, Report.id)
        )
    )


def history(case_id: str) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        )
    )
