"""A reporter's answer to a request for information (issue 26, PROTOCOL §3.10).

A reviewer asks for more (``needs_info`` with an ``INFO`` reason); the reporter answers
on the same report from the phone: a short text and/or files. The answer is stored once,
idempotent by the phone's ``answer_id`` (the same body again: 200; another body or
another report: 409), and its files become media items of the report (``answer_id``
set), so they come through the same upload paths (tus or a direct PUT) and the same
verification, EXIF, flags and custody entries as a capture's files.

Storing an answer, in one transaction:

* the report's status becomes ``info_added`` ("Đã bổ sung, chờ xem xét");
* its case leaves ``needs_info`` (``verdict`` None: waiting for a reviewer again) and
  gets ``answered_at``: the queue shows it first, marked "đã bổ sung", until the next
  decision (:func:`server.services.review._set_verdict` clears it);
* the custody trail gets an ``answer_received`` entry (subject the report): the answer's
  id, the SHA-256 of its text and its files' declarations.

Only a report whose status is ``needs_info`` takes a new answer (``409
no_information_requested`` otherwise); a retry of a stored answer is answered whatever
the status has become since.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from sync.schemas import AnswerInSchema

from ..extensions import db
from ..models import Device, Media, Report, ReportAnswer, utcnow
from ..settings import current_settings
from . import cases, custody, errors
from .reports import canonical_digest, field_errors, get_own_report
from .status import set_status

ANSWERED = "info_added"
_answer_in = AnswerInSchema()


def validate_answer(body: Any) -> dict[str, Any]:
    try:
        data = _answer_in.load(body)
    except ValidationError as err:
        raise errors.ValidationFailed(field_errors(err.messages)) from None
    problems: dict[str, list[str]] = {}
    settings = current_settings()
    if len(data["media"]) > settings.max_answer_media:
        problems["media"] = [f"At most {settings.max_answer_media} files."]
    for i, media in enumerate(data["media"]):
        if media["size"] > settings.max_upload_mb * 1024 * 1024:
            problems[f"media.{i}.size"] = [
                f"Larger than the server accepts ({settings.max_upload_mb} MiB)."
            ]
    if problems:
        raise errors.ValidationFailed(problems)
    data["text"] = data["text"].strip()
    return data


def put_answer(
    device: Device, report_id: str, answer_id: str, body: Any
) -> tuple[ReportAnswer, bool]:
    """Store the answer once: ``(answer, created)``. Commits."""
    data = validate_answer(body)
    digest = canonical_digest({"report_id": report_id, **data})
    report = get_own_report(device, report_id)
    existing = db.session.get(ReportAnswer, answer_id)
    if existing is not None:
        return _same_or_conflict(existing, report, digest), False
    # The case first, then the report (the lock order of cases.locks), then re-read.
    if report.case_id is not None:
        cases.lock_case(report.case_id)
    report = db.session.execute(
        sa.select(Report)
        .where(Report.id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    existing = db.session.get(ReportAnswer, answer_id)  # another request stored it first
    if existing is not None:
        return _same_or_conflict(existing, report, digest), False
    if report.status != "needs_info":
        raise errors.NoInformationRequested()
    media_ids = [str(m["media_id"]) for m in data["media"]]
    if media_ids and db.session.scalar(
        sa.select(sa.func.count()).select_from(Media).where(Media.id.in_(media_ids))
    ):
        raise errors.MediaIdConflict()
    now = utcnow()
    answer = ReportAnswer(
        id=answer_id,
        report_id=report.id,
        case_id=report.case_id,
        body_digest=digest,
        text=data["text"],
        created_at=now,
    )
    db.session.add(answer)
    position = max((m.position for m in report.media), default=-1) + 1
    for i, m in enumerate(data["media"]):
        db.session.add(
            Media(
                id=str(m["media_id"]),
                report_id=report.id,
                position=position + i,
                sha256=m["sha256"],
                size=m["size"],
                content_type=m["content_type"],
                captured_at=report.captured_at,
                answer_id=answer_id,
            )
        )
    db.session.flush()
    set_status(report, ANSWERED, actor="reporter")
    if report.case_id is not None:
        case = cases.lock_case(report.case_id)
        if case.verdict == "needs_info":
            case.verdict = None
            case.verdict_at = now
        case.answered_at = now
    custody.answer_received(
        report_id=report.id,
        answer_id=answer_id,
        case_id=report.case_id,
        text_sha256=hashlib.sha256(data["text"].encode("utf-8")).hexdigest(),
        media=[
            {
                "media_id": str(m["media_id"]),
                "sha256": m["sha256"],
                "size": m["size"],
                "content_type": m["content_type"],
            }
            for m in data["media"]
        ],
    )
    db.session.commit()
    db.session.refresh(report)
    return answer, True


def _same_or_conflict(existing: ReportAnswer, report: Report, digest: str) -> ReportAnswer:
    if existing.report_id != report.id or existing.body_digest != digest:
        raise errors.AnswerConflict()
    return existing


def answers_of_case(case_id: str) -> list[ReportAnswer]:
    """Every answer given on the case's current reports, oldest first (the console)."""
    return list(
        db.session.scalars(
            sa.select(ReportAnswer)
            .join(Report, Report.id == ReportAnswer.report_id)
            .where(Report.case_id == case_id)
            .order_by(ReportAnswer.created_at, ReportAnswer.id)
        )
    )


def overdue_before(now: datetime | None = None) -> datetime:
    """A request for information made before this time and still unanswered is overdue
    (``INFO_REQUEST_WAIT_DAYS``, default 7)."""
    days = current_settings().info_request_wait_days
    return (now or utcnow()) - timedelta(days=days)
