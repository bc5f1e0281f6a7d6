"""Cases: reports of the same violation reviewed once, with the history of each case.

The rules of *when* two reports are the same violation live in :mod:`server.dedup`
(pure); this package gathers candidates from the database, applies those rules, and
keeps ``cases``, ``reports.case_id`` and ``case_events`` consistent. One module a job:
:mod:`.locks` (advisory and row locks), :mod:`.matching` (dedup facts, case plates),
:mod:`.first` (who reported first), :mod:`.ingest` (joins at ingest), :mod:`.similar`
(similar-photo merges), :mod:`.hints` (similar photos that may not join),
:mod:`.merges` (a reviewer's merge and its undo), :mod:`.reviewers` (split, forward,
route by hand), :mod:`.reads`, :mod:`.events`.

Product rule 6: a case holds one violation by one vehicle. No automatic join ever puts
two plates in one case: a report joins only a case whose plates are compatible with its
own (:func:`server.dedup.plates_compatible`), whichever report of the case it matched.

At ingest (:func:`assign_case`, inside ``put_report``'s transaction)
    Candidates are the reports sharing a declared file (SHA-256, indexed) and the reports
    with the same plate match key and violation captured within the dedup window and
    bounding box (index ``ix_reports_plate_violation_time``). The best match of
    :func:`server.dedup.find_match` decides the case; without one the report opens a new
    case in its own district (a shared file that may not join is a hint). A case stays
    with the district it was opened in (unless it had none: then the first routed report
    joining it gives it one), whatever the districts of the reports that join later;
    moving it is :func:`forward_case`.

When an image arrives (:func:`join_similar_media`, inside ``mark_received``)
    Its pHash is compared with the pHashes of (a) every image with the *same* pHash (an
    indexed lookup, any time) and (b) every image of reports captured within
    ``DEDUP_PHASH_WINDOW_HOURS`` of this report (``ix_media_captured_phash``); the
    Hamming threshold is ``DEDUP_PHASH_MAX_DISTANCE``. A bucketed index that finds every
    hash within 12 bits of 64 would need 13 bands of ~5 bits, each matching ~1/32 of all
    images: no better than a scan at a million reports. So similar-but-not-identical
    photos are only looked up within the time window. A similar photo merges two *cases*
    only with compatible plates across both cases, the same violation and district,
    within the dedup radius and window (:func:`server.dedup.join_reason`): two photos of
    one street corner are a few bits apart whatever car is in them. The case whose
    first reporter reported first survives and absorbs the other's reports; the absorbed
    case stays, empty, as ``status='merged'`` pointing at the survivor, and both
    histories record the merge. Cases made by a reviewer's split (``manual``) are never
    merged automatically. Every other similar photo is a hint (:mod:`.hints`), and a
    reviewer may merge two cases of one district by hand (:func:`merge_cases`; undone by
    splitting a report of the absorbed group out).

Where membership is recorded
    On the report: ``case_id``, ``join_reason`` (``same_media``, ``similar_media``,
    ``same_plate``, ``merged_by_hand``; NULL for the report that opened the case),
    ``merged_from_case_id`` (after a reviewer's merge), ``join_match_report_id``
    (the report it matched) and ``joined_at``. ``case_events`` records what changed a
    case afterwards: merges, splits, forwarding, routing by hand, unit changes, and
    similar-photo hints.

Evidence and the queue
    A report's case opens (or is joined) when the report is stored, before any file;
    ``cases.evidence_at`` records when the first file of any member arrived
    (:mod:`.arrival`). Only cases with evidence are in the reviewers' queue and digests;
    the rest wait under "awaiting evidence" and their reports expire
    (:mod:`server.services.evidence_expiry`). Merges take the earlier ``evidence_at``;
    splits and expiries recompute it from the members.

First reporter
    ``cases.first_report_id`` rests on the server's receipt of each member's evidence
    (:func:`server.dedup.first_reporter`): reports whose evidence has all arrived come
    first, ordered by that receipt, and the claimed ``captured_at`` orders only those
    whose evidence arrived within ``FIRST_REPORTER_SETTLE_MINUTES`` of the earliest. It
    is kept up to date on every join, merge and split and when a member's evidence
    completes (:func:`refresh_first_reporter`). A reward rule pays only that report.

Concurrency
    SQLite serialises writers. On PostgreSQL, ingest takes transaction-scoped advisory
    locks on the plate match key and on each declared SHA-256 (sorted, so two requests
    never wait on each other in a cycle) before looking for candidates, so two reports of
    the same car arriving at once end in one case. A received photo locks its
    neighbourhood (its pHash, the time buckets around its capture time:
    :func:`lock_similar_media_near`), first in ``mark_received``'s transaction, so two
    near-identical photos received at once still meet while unrelated photos do not wait
    on each other; merges by hand and expiry hold the similar-photo lock exclusively
    (:func:`lock_similar_media`). Case rows are then
    locked with ``SELECT … FOR UPDATE`` (a case merged meanwhile is followed to its
    survivor). These locks are always taken before the status-feed lock of
    :mod:`server.services.status`.
"""

from .arrival import earliest_evidence, note_evidence, refresh_evidence_at
from .errors import CaseError
from .first import refresh_first_reporter
from .hints import SIMILAR_PHOTO, similar_cases
from .ingest import assign_case
from .locks import lock_case, lock_case_exact, lock_similar_media, lock_similar_media_near
from .matching import dedup_config, phash_window
from .merges import MERGED_BY_HAND, merge_cases
from .reads import get_case, history, members
from .reviewers import SPLIT, forward_case, route_by_hand, split_report
from .similar import CasesJoined, join_similar_media

__all__ = [
    "MERGED_BY_HAND",
    "SIMILAR_PHOTO",
    "SPLIT",
    "CaseError",
    "CasesJoined",
    "assign_case",
    "dedup_config",
    "earliest_evidence",
    "forward_case",
    "get_case",
    "history",
    "join_similar_media",
    "lock_case",
    "lock_case_exact",
    "lock_similar_media",
    "lock_similar_media_near",
    "members",
    "merge_cases",
    "note_evidence",
    "phash_window",
    "refresh_evidence_at",
    "refresh_first_reporter",
    "route_by_hand",
    "similar_cases",
    "split_report",
]
