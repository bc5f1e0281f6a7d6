"""Report ingest: store each report exactly once, whatever the number of retries."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from sync.schemas import ReportInSchema

from .. import catalogue, flags
from ..extensions import db
from ..identity import encrypt_identity, identity_of, keyed_digest
from ..models import Device, Media, Report, ReportAnswer, utcnow
from ..models.accounts import OfficerDevice, User
from ..plates import match_key, normalize_plate
from ..settings import current_settings
from . import cases, custody, districts, errors, report_codes, signing
from .status import record_new_report

_report_in = ReportInSchema()

# captured_at must fall in these years (UTC): a dash cam whose clock was reset still
# reports (and is flagged as old), but year 1 or 9999 would overflow the date arithmetic
# of flags and case joining.
CAPTURED_AT_RANGE = (
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2200, 1, 1, tzinfo=UTC),
)

# One round trip before an insert: is this report id stored ("report"), is one of the
# declared media ids another report's ("media"), and is the token an active officer's
# ("officer")? Media of this same report id may have just been committed by a concurrent
# retry; that is not a conflict (the insert then fails and the request is answered as a
# retry).
_PRECHECK = sa.union_all(
    sa.select(sa.literal_column("'report'")).where(Report.id == sa.bindparam("report_id")),
    sa.select(sa.literal_column("'media'")).where(
        Media.id.in_(sa.bindparam("media_ids", expanding=True)),
        Media.report_id != sa.bindparam("report_id"),
    ),
    sa.select(sa.literal_column("'officer'"))
    .select_from(OfficerDevice)
    .join(User, User.id == OfficerDevice.user_id)
    .where(OfficerDevice.device_id == sa.bindparam("device_id"), User.active.is_(True)),
)
_INSERT_REPORT = sa.insert(Report.__table__)
_INSERT_MEDIA = sa.insert(Media.__table__)
# legacy_district_code is left out: only migration 0017 writes it (history).
_REPORT_COLUMNS = tuple(k for k in Report.__table__.columns.keys() if k != "legacy_district_code")
# exif is left out: a declared file has none yet, and the JSON type would store Python's
# None as a JSON 'null' rather than SQL NULL.
_MEDIA_COLUMNS = tuple(k for k in Media.__table__.columns.keys() if k != "exif")


def thresholds() -> flags.Thresholds:
    s = current_settings()
    return flags.Thresholds(
        exif_time_skew_minutes=s.flag_exif_time_skew_minutes,
        exif_distance_m=s.flag_exif_distance_m,
        future_tolerance_minutes=s.flag_future_tolerance_minutes,
        max_age_days=s.flag_max_age_days,
        receipt_gap_minutes=s.flag_receipt_gap_minutes,
    )


def validate_report(body: Any) -> dict[str, Any]:
    """Validated report data, or :class:`.errors.ValidationFailed` with field errors."""
    try:
        data = _report_in.load(body)
    except ValidationError as err:
        raise errors.ValidationFailed(field_errors(err.messages)) from None
    problems: dict[str, list[str]] = {}
    if not _captured_at_in_range(data["captured_at"]):
        low, high = (d.year for d in CAPTURED_AT_RANGE)
        problems["captured_at"] = [f"Must be between the years {low} and {high - 1}."]
    if not catalogue.is_known(data["violation"]):
        problems["violation"] = ["Unknown violation code."]
    limit_mb = current_settings().max_upload_mb
    for i, media in enumerate(data["media"]):
        if media["size"] > limit_mb * 1024 * 1024:
            problems[f"media.{i}.size"] = [f"Larger than the server accepts ({limit_mb} MiB)."]
    if problems:
        raise errors.ValidationFailed(problems)
    return data


def _captured_at_in_range(captured_at: datetime) -> bool:
    try:
        utc = captured_at.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+07:00 is before year 1 in UTC
        return False
    return CAPTURED_AT_RANGE[0] <= utc < CAPTURED_AT_RANGE[1]


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as ``{"location.lat": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(field_errors(value, path))
            else:
                out[path] = [str(m) for m in value] if isinstance(value, list) else [str(value)]
    else:
        out[prefix or "_schema"] = [str(m) for m in messages]
    return out


def canonical_digest(data: dict[str, Any]) -> str:
    """A keyed fingerprint of the validated body: equal for equal reports, whatever the
    key order, whitespace or number spelling of the JSON they came in."""

    def default(o: Any) -> str:
        if isinstance(o, datetime):
            return o.isoformat()
        return str(o)

    canon = json.dumps(data, sort_keys=True, separators=(",", ":"), default=default)
    return keyed_digest(canon.encode())


def put_report(
    device: Device,
    report_id: str,
    body: Any,
    admit: Callable[[], None] | None = None,
    *,
    _attempt: int = 1,
) -> tuple[Report, bool]:
    """Store a report once. Returns ``(report, created)``.

    ``admit`` is called only when the report is new, before anything is written: it may
    raise (a rate limit) so that retries of a stored report always get their 200.

    The same body again returns the stored report; a different body, or an id that
    belongs to another device, is a 409. One transaction: nothing is half-written.
    A new report is routed to its district (:mod:`.districts`) and put into its case
    (:func:`.cases.assign_case`) inside that transaction. A new report gets a short
    code (:mod:`.report_codes`); if another report has it, the report is stored again
    with a fresh one.
    """
    data = validate_report(body)
    digest = canonical_digest(data)
    media_ids = [str(m["media_id"]) for m in data["media"]]
    found = set(
        db.session.connection().scalars(
            _PRECHECK, {"report_id": report_id, "media_ids": media_ids, "device_id": device.id}
        )
    )
    data["reporter"]["kind"] = _reporter_kind("officer" in found, data["reporter"]["kind"])
    if "report" in found:  # a retry (or a conflict): read the stored report in full
        existing = db.session.get(Report, report_id)
        if existing is not None:
            return _same_or_conflict(existing, device, digest), False
    if "media" in found:
        raise errors.MediaIdConflict()
    if admit is not None:
        admit()

    report = _new_report(device, report_id, data, digest)
    # Joins the report to its case, or opens one (inserted first: the report points at
    # it); its locks come before the status-feed lock of record_new_report.
    cases.assign_case(report)
    try:
        _insert(report)
    except IntegrityError as exc:
        db.session.rollback()
        if report_codes.is_code_collision(exc):
            if _attempt >= report_codes.MAX_ATTEMPTS:
                raise
            return put_report(device, report_id, body, _attempt=_attempt + 1)
        # Another request stored this id (or one of these media ids) first.
        existing = db.session.get(Report, report_id)
        if existing is None:
            raise errors.MediaIdConflict() from None
        return _same_or_conflict(existing, device, digest), False
    record_new_report(report.id, report.status, report.updated_at)
    if report.join_reason is not None:  # joined an existing case: the trail says so
        custody.case_joined(
            case_id=report.case_id,
            report_id=report.id,
            reason=report.join_reason,
            match_report_id=report.join_match_report_id,
            locked=True,  # record_new_report took the feed lock
        )
    db.session.commit()
    _attach(report)
    return report, True


def _insert(report: Report) -> None:
    """INSERT the report and its media rows (Core: no unit-of-work flush per ingest);
    one round trip on PostgreSQL."""
    conn = db.session.connection()
    row = _values(report, _REPORT_COLUMNS)
    media = [_values(m, _MEDIA_COLUMNS) for m in report.media]
    if conn.dialect.name == "postgresql":
        params = {f"r_{k}": v for k, v in row.items()}
        for i, m in enumerate(media):
            params.update({f"m{i}_{k}": v for k, v in m.items()})
        conn.execute(_insert_with_media(len(media)), params)
    else:
        conn.execute(_INSERT_REPORT, row)
        conn.execute(_INSERT_MEDIA, media)


def _values(obj: Report | Media, columns: tuple[str, ...]) -> dict[str, Any]:
    values = vars(obj)
    return {k: values[k] for k in columns}


@functools.cache
def _insert_with_media(n_media: int) -> sa.Insert:
    """PostgreSQL: the report and its ``n_media`` media rows in one statement, the
    report's INSERT as a data-modifying CTE (foreign keys are checked at the end of the
    statement). Parameters: ``r_<column>`` and ``m<i>_<column>``."""
    reports, media = Report.__table__, Media.__table__

    def bound(table: sa.Table, prefix: str, columns: tuple[str, ...]) -> dict[str, Any]:
        return {k: sa.bindparam(f"{prefix}{k}", type_=table.c[k].type) for k in columns}

    # One single-row INSERT per row: a multi-row VALUES insert is not cacheable, and
    # would be compiled again on every call.
    ctes = [sa.insert(reports).values(bound(reports, "r_", _REPORT_COLUMNS)).cte("new_report")]
    ctes += [
        sa.insert(media).values(bound(media, f"m{i}_", _MEDIA_COLUMNS)).cte(f"new_media_{i}")
        for i in range(1, n_media)
    ]
    return sa.insert(media).values(bound(media, "m0_", _MEDIA_COLUMNS)).add_cte(*ctes)


def _attach(report: Report) -> None:
    """Make the report just inserted (and its media) persistent in the session, as if
    read back: callers get a live ORM object without a SELECT."""
    for media in report.media:
        make_transient_to_detached(media)
    make_transient_to_detached(report)
    db.session.add(report)


def _reporter_kind(is_officer: bool, claimed: str) -> str:
    """``officer`` exactly when the token is an officer's (``/api/v1/officers/login``),
    whatever the body claims; a citizen's token cannot send an officer's report."""
    if is_officer:
        return "officer"
    if claimed == "officer":
        raise errors.ValidationFailed(
            {"reporter.kind": ["Only an officer's token (officer login) may send this."]}
        )
    return claimed


def _same_or_conflict(existing: Report, device: Device, digest: str) -> Report:
    if existing.device_id != device.id or existing.body_digest != digest:
        raise errors.ReportConflict()
    return existing


def _report_flags(
    captured_at: datetime, now: datetime, vehicle_class: str, violation: dict[str, Any]
) -> list[str]:
    """The plausibility flags a report gets on arrival (time, receipt, vehicle class)."""
    raised_flags = flags.time_flags(captured_at, now, thresholds())
    raised_flags += flags.receipt_flags(captured_at, now, thresholds())
    if violation["vehicle_classes"] and vehicle_class not in violation["vehicle_classes"]:
        raised_flags.append("vehicle_class_mismatch")
    return raised_flags


def _new_report(device: Device, report_id: str, data: dict[str, Any], digest: str) -> Report:
    loc = data["location"]
    captured_at: datetime = data["captured_at"]
    offset = captured_at.utcoffset()
    plate = normalize_plate(data["plate"], data["vehicle_class"])
    violation = catalogue.by_code()[data["violation"]]
    now = utcnow()
    report_flags = _report_flags(captured_at, now, data["vehicle_class"], violation)
    seal = signing.check_report(device, report_id, data)  # stored and flagged, never refused
    report_flags += seal.flags
    # Routed on the location the report gives (see server.services.districts).
    route = districts.route_point(loc["lat"], loc["lon"])
    report = Report(
        id=report_id,
        code=report_codes.new_code(),
        device_id=device.id,
        body_digest=digest,
        violation=data["violation"],
        vehicle_class=data["vehicle_class"],
        plate_raw=data["plate"],
        plate_kind=plate.kind,
        plate_compact=plate.compact[:64],  # NFKC can expand a character into several
        plate_display=plate.display,
        plate_match_key=match_key(plate, data["vehicle_class"]),
        vehicle_description=data["vehicle_description"],
        note=data["note"],
        captured_at=captured_at,
        captured_offset_min=int(offset.total_seconds() // 60) if offset else 0,
        lat=loc["lat"],
        lon=loc["lon"],
        accuracy_m=loc["accuracy_m"],
        location_source=loc["source"],
        reporter_kind=data["reporter"]["kind"],
        identity_ciphertext=encrypt_identity(identity_of(data["reporter"])),
        status="awaiting_evidence",
        flags=report_flags,
        received_at=now,
        updated_at=now,
        district_code=route.district_code,
        route_rule=route.rule,
        route_distance_m=route.distance_m,
        route_location_source=loc["source"],
        # set by cases.assign_case
        case_id=None,
        join_reason=None,
        join_match_report_id=None,
        joined_at=None,
        merged_from_case_id=None,
        signature_status=seal.status,
        capture_manifest=seal.manifest,
        capture_signature=seal.signature,
        signing_key_id=seal.key_id,
    )
    report.media = [
        Media(
            id=str(m["media_id"]),
            report_id=report_id,
            position=i,
            sha256=m["sha256"],
            size=m["size"],
            content_type=m["content_type"],
            captured_at=captured_at,
            received_at=None,
            exif=None,
            phash=None,
            provenance=None,  # C2PA check on receipt (server.provenance)
            provenance_detail=None,
            answer_id=None,  # a file of the report itself (not of an answer)
        )
        for i, m in enumerate(data["media"])
    ]
    return report


def get_own_report(device: Device, report_id: str) -> Report:
    """The device's own report; another device's report is indistinguishable from none."""
    report = db.session.get(Report, report_id)
    if report is None or report.device_id != device.id:
        raise errors.ReportNotFound()
    return report


def public_view(report: Report) -> dict[str, Any]:
    """The report as its device sees it. Never contains the reporter's identity."""
    from datetime import timedelta, timezone

    local = report.captured_at.astimezone(timezone(timedelta(minutes=report.captured_offset_min)))
    return {
        "report_id": report.id,
        "report_code": report.code,
        "status": report.status,
        "violation": report.violation,
        "vehicle_class": report.vehicle_class,
        "plate": report.plate_raw,
        "plate_normalized": report.plate_display,
        "plate_kind": report.plate_kind,
        "vehicle_description": report.vehicle_description,
        "note": report.note,
        "captured_at": local.isoformat(),
        "location": {
            "lat": report.lat,
            "lon": report.lon,
            "accuracy_m": report.accuracy_m,
            "source": report.location_source,
        },
        "reporter_kind": report.reporter_kind,
        "named_report": report.has_identity,
        "flags": list(report.flags or []),
        "evidence": [
            {
                "media_id": m.id,
                "sha256": m.sha256,
                "size": m.size,
                "content_type": m.content_type,
                "received": m.received,
                "exif": m.exif,
                "answer_id": m.answer_id,
            }
            for m in report.media
        ],
        "district": districts.district_ref(report.district_code),
        "police_unit": _police_unit(report.district_code),
        "case_id": report.case_id,
        "received_at": report.received_at.isoformat(),
        "answers": answer_views(report),
    }


# A report in these statuses was never asked for information (a request moves it to
# needs_info, and nothing moves it back to these).
NEVER_ASKED = frozenset({"awaiting_evidence", "submitted", "expired"})


def answer_views(report: Report) -> list[dict[str, Any]]:
    """The report's answers to requests for information, oldest first (PROTOCOL §3.10).
    A report never asked for information (still before any review) has none: no query,
    so the ingest path's answer costs nothing more."""
    if report.status in NEVER_ASKED:
        return []
    rows = db.session.scalars(
        sa.select(ReportAnswer)
        .where(ReportAnswer.report_id == report.id)
        .order_by(ReportAnswer.created_at, ReportAnswer.id)
    ).all()
    if not rows:
        return []
    files: dict[str, list[str]] = {}
    for m in report.media:
        if m.answer_id:
            files.setdefault(m.answer_id, []).append(m.id)
    return [
        {
            "answer_id": a.id,
            "report_id": a.report_id,
            "text": a.text,
            "media_ids": files.get(a.id, []),
            "at": a.created_at.isoformat(),
        }
        for a in rows
    ]


def _police_unit(district_code: str | None) -> dict[str, str] | None:
    """``{code, name}`` of the police unit that handles the district, or None.

    The routing cache's answer (:func:`.districts.unit_for`, re-read each second), the
    unit new cases of the district get: answering a report after its commit then needs
    no new transaction."""
    unit = districts.unit_for(district_code)
    return {"code": unit.code, "name": unit.name} if unit is not None else None
