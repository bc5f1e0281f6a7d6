"""Evidence: verify received bytes, store them once, read EXIF, flag the report.

Both the direct upload (``PUT …/media/<media_id>``) and a completed resumable upload
end in :func:`accept_file`, so they share one verification path.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from werkzeug.exceptions import ClientDisconnected

from .. import flags, provenance, storage
from ..dedup import perceptual_hash
from ..exif import EMPTY_EXIF, read_exif
from ..extensions import db
from ..models import Device, Media, Report, utcnow
from ..settings import current_settings
from ..sniff import image_header_decodes, matches_declared, sniff
from ..storage import Body, IncompleteBody, Staged
from ..storage_backends import Store, open_store
from . import cases, custody, errors, signing
from .reports import get_own_report, thresholds
from .status import EXPIRED, set_status

IMAGE_TYPES = flags.IMAGE_TYPES


def media_store() -> Store:
    """The app's evidence store (one per app and settings): a folder, or a bucket."""
    settings = current_settings()
    cached = current_app.extensions.get("roadwatch.media_store")
    if cached is None or cached[0] is not settings:
        cached = (settings, open_store(settings))
        current_app.extensions["roadwatch.media_store"] = cached
    return cached[1]


def max_upload_bytes() -> int:
    return current_settings().max_upload_mb * 1024 * 1024


def declared_media(device: Device, report_id: str, media_id: str) -> Media:
    """The declared media item of the device's own report, or MediaNotDeclared."""
    report = get_own_report(device, report_id)
    if report.status == EXPIRED:
        raise errors.ReportExpired()
    for media in report.media:
        if media.id == media_id:
            return media
    raise errors.MediaNotDeclared()


def receive_direct(
    device: Device, report_id: str, media_id: str, body: Body, length: int | None
) -> tuple[Media, bool]:
    """Handle ``PUT …/media/<media_id>``: returns ``(media, newly_received)``."""
    media = declared_media(device, report_id, media_id)
    # End the lookup's transaction before streaming: the upload may take minutes.
    db.session.commit()
    if length is None:
        raise errors.LengthRequired()
    if length > max_upload_bytes():
        raise errors.TooLarge()
    if length != media.size:
        raise errors.SizeMismatch(expected=media.size, received=length)

    store = media_store()
    try:
        staged = store.stage(body, max_bytes=media.size)
    except storage.TooLarge:
        raise errors.SizeMismatch(expected=media.size) from None
    except storage.StorageFull:
        raise errors.StorageFull() from None
    except (ClientDisconnected, IncompleteBody):
        raise errors.UploadIncomplete() from None
    try:
        if staged.size < length:
            # Fewer bytes than Content-Length announced: the connection broke.
            raise errors.UploadIncomplete()
        verify(media, staged.size, staged.sha256, staged.head, staged.path)
    except errors.DomainError:
        store.discard(staged)
        raise
    return accept_file(media.id, store, staged)


def verify(media: Media, size: int, sha256: str, head: bytes, path: Path) -> None:
    """Check received bytes (staged at ``path``) against the declaration: SizeMismatch,
    ChecksumMismatch or ContentTypeMismatch when they differ, ImageNotDecodable when an
    image's magic bytes are right but its header does not decode (Pillow, no pixels)."""
    if size != media.size:
        raise errors.SizeMismatch(expected=media.size, received=size)
    if sha256 != media.sha256:
        raise errors.ChecksumMismatch()
    if not matches_declared(head, media.content_type):
        raise errors.ContentTypeMismatch()
    if not image_header_decodes(path, media.content_type):
        raise errors.ImageNotDecodable()


def accept_file(media_id: str, store: Store, staged: Staged) -> tuple[Media, bool]:
    """Store verified bytes under their hash and mark the media item received.

    Idempotent: bytes for an item already received are dropped (the stored copy is
    identical, having the same hash), and the answer is ``newly_received=False``.
    Images get a perceptual hash (None when they cannot be decoded), used to merge
    cases of near-identical photos. Photos and videos get their C2PA Content Credentials
    checked (:func:`server.provenance.check`: none, signed, untrusted, edited or invalid).
    """
    sniffed = sniff(staged.head) or ""
    is_image = sniffed.startswith("image/")
    with store.committed(staged) as blob:  # a local copy of the stored bytes
        exif = read_exif(blob).to_dict() if is_image else EMPTY_EXIF.to_dict()
        max_pixels = current_settings().phash_max_pixels
        phash = perceptual_hash(blob, max_pixels) if is_image else None
        anchors = current_settings().c2pa_trust_anchors
        credentials = provenance.check(blob, sniffed, trust_anchors=anchors)  # a child process
    return mark_received(media_id, exif, phash, credentials)


def mark_received(
    media_id: str,
    exif: dict,
    phash: str | None = None,
    credentials: provenance.Provenance | None = None,
) -> tuple[Media, bool]:
    """Mark a media item received (once), refresh flags and status, and with a
    ``phash`` join the report's case to a case with a similar photo. When the report's
    evidence is complete, its case's first reporter is chosen again (it rests on the
    server's receipt of the evidence). The case's ``evidence_at`` is set by its first
    file (:func:`server.services.cases.note_evidence`): the case enters the queue. A
    report that expired meanwhile raises ReportExpired (nothing is marked). The
    receipt, and a similar-photo merge, are appended to the custody trail
    (:mod:`.custody`). Commits."""
    report_id, case_id, captured_at = db.session.execute(
        db.select(Media.report_id, Report.case_id, Report.captured_at)
        .join(Report, Report.id == Media.report_id)
        .where(Media.id == media_id)
    ).one()
    if phash:
        # Before the case and report locks (see cases.locks). The capture time never
        # changes, so reading it before the locks is safe; the case id is re-checked.
        cases.lock_similar_media_near(captured_at, phash, cases.phash_window())
    # The report's case first, then the report (the lock order of cases.locks: a
    # reviewer's decision holds the case while it changes the report and writes status
    # events; locking the report first here deadlocked with it). The report lock
    # serialises completions of its files; the report and all its media are re-read
    # under it: the session may hold copies loaded before it, and a stale copy would
    # miss a file another request just received.
    case = cases.lock_case(case_id) if case_id is not None else None
    report = _lock_report(report_id)
    for _ in range(3):  # a split or merge moved the report before the case lock
        if report.case_id is None or (case is not None and case.id == report.case_id):
            break
        case = cases.lock_case(report.case_id)
        report = _lock_report(report_id)
    db.session.scalars(
        db.select(Media)
        .where(Media.report_id == report_id)
        .execution_options(populate_existing=True)
    ).all()
    media = db.session.get(Media, media_id)
    if media.received_at is not None:
        db.session.commit()
        return media, False
    if media.report.status == EXPIRED:  # expired while the bytes were arriving
        db.session.rollback()
        raise errors.ReportExpired()
    media.received_at = utcnow()
    media.exif = exif
    media.phash = phash
    if credentials is not None:  # None: not checked (a type without C2PA support)
        media.provenance = credentials.status
        media.provenance_detail = credentials.detail
    report: Report = media.report
    refresh_flags(report)
    joined = cases.join_similar_media(report) if phash else None  # locks before set_status
    complete = all(m.received for m in report.media)
    if report.case_id is not None:
        case = cases.lock_case(report.case_id)
        # The case's first evidence: from now on it is in the reviewers' queue.
        cases.note_evidence(case, media.received_at)
        if complete:
            cases.refresh_first_reporter(case)
    if report.status == "awaiting_evidence" and complete:
        set_status(report, "submitted")
    if joined is not None:  # after the case locks, like every chain entry
        custody.case_joined(
            case_id=joined.survivor.id,
            report_id=joined.report_id,
            reason=joined.reason,
            match_report_id=joined.match_report_id,
            absorbed_case_id=joined.absorbed_id,
        )
    custody.evidence_received(  # last: the chain lock after the case and report locks
        report_id=report.id,
        media_id=media.id,
        case_id=report.case_id,
        sha256=media.sha256,
        size=media.size,
        content_type=media.content_type,
    )
    db.session.commit()
    return media, True


def _lock_report(report_id: str) -> Report:
    return db.session.execute(
        db.select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def refresh_flags(report: Report) -> None:
    """Recompute the report's flags from its time, the server's receipt of its evidence
    (once all of it arrived) and the EXIF of received images."""
    t = thresholds()
    time_part = flags.time_flags(report.captured_at, report.received_at, t)
    # The receipt of the capture's own files: an answer's files (issue 26) come days
    # later by design, and are no sign of a late capture.
    own = [m for m in report.media if m.answer_id is None]
    received = [m.received_at for m in own if m.received_at is not None]
    evidence_at = max(received) if received and len(received) == len(own) else None
    time_part += flags.receipt_flags(report.captured_at, evidence_at or report.received_at, t)
    evidence_part = flags.evidence_flags(
        captured_at=report.captured_at,
        offset_min=report.captured_offset_min,
        lat=report.lat,
        lon=report.lon,
        evidence=[(m.content_type, m.exif) for m in report.media if m.received],
        t=t,
    )
    kept = {"vehicle_class_mismatch", *signing.SIGNATURE_FLAGS}  # set at ingest, for good
    other = [f for f in report.flags or [] if f in kept]
    report.flags = flags.merge(time_part, evidence_part, other)
