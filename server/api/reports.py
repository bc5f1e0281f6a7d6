"""Reports and their evidence, for the device that made them."""

from __future__ import annotations

import uuid

from flask import g, request, url_for

from sync.schemas import AnswerInSchema, AnswerOutSchema, ReportInSchema, ReportOutSchema

from ..auth import device_required
from ..problems import ApiError
from ..request_body import request_body
from ..services import answers, evidence, rate_limits, reports
from . import bp
from .body import json_object
from .operations import Reply, operation

BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def _uuid(value: str) -> str:
    """The canonical lowercase form of a UUID, or a 400 problem."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError("invalid_id") from None


@bp.put("/reports/<report_id>")
@operation(
    operation_id="putReport",
    summary="Store a report once (idempotent by report_id)",
    request=ReportInSchema,
    responses={
        201: Reply("Stored", ReportOutSchema),
        200: Reply("Already stored, same body", ReportOutSchema),
    },
    problems=(400, 409, 413, 415, 422, 429),
    device=True,
)
@device_required
def put_report(report_id: str):
    """Store a report once: 201 the first time, 200 for the same body again, 409 otherwise."""
    report_id = _uuid(report_id)
    address, device_id = request.remote_addr or "-", g.device.id
    report, created = reports.put_report(
        g.device,
        report_id,
        json_object(),
        admit=lambda: rate_limits.new_report(address, device_id),
    )
    location = url_for("api.get_report", report_id=report.id)
    return reports.public_view(report), 201 if created else 200, {"Location": location}


@bp.get("/reports/<report_id>")
@operation(
    operation_id="getReport",
    summary="The report as stored (without the reporter's identity)",
    responses={200: Reply("The report", ReportOutSchema)},
    problems=(400, 404),
    device=True,
)
@device_required
def get_report(report_id: str):
    report = reports.get_own_report(g.device, _uuid(report_id))
    # One device's report: no shared cache keeps it, no browser cache writes it to disk.
    return reports.public_view(report), 200, {"Cache-Control": "private, no-store"}


@bp.put("/reports/<report_id>/media/<media_id>")
@operation(
    operation_id="putMedia",
    summary="Upload the raw bytes of a declared media item",
    request=BINARY,
    responses={
        201: Reply("Received and verified", ReportOutSchema),
        200: Reply("Already received", ReportOutSchema),
    },
    problems=(400, 404, 410, 411, 413, 422, 507),
    device=True,
)
@device_required
def put_media(report_id: str, media_id: str):
    """Receive the raw bytes of a declared media item (not resumable; see /uploads)."""
    media, created = evidence.receive_direct(
        g.device,
        _uuid(report_id),
        _uuid(media_id),
        request_body(request.environ, request.stream),
        request.content_length,
    )
    report = reports.get_own_report(g.device, media.report_id)
    return reports.public_view(report), 201 if created else 200


@bp.put("/reports/<report_id>/answers/<answer_id>")
@operation(
    operation_id="putAnswer",
    summary="Answer a request for information on a report (idempotent by answer_id)",
    request=AnswerInSchema,
    responses={
        201: Reply("Stored: the report is back with the reviewers", AnswerOutSchema),
        200: Reply("Already stored, same body", AnswerOutSchema),
    },
    problems=(400, 404, 409, 413, 415, 422),
    device=True,
)
@device_required
def put_answer(report_id: str, answer_id: str):
    """Store the reporter's answer (text and/or declared files) once: 201 the first time,
    200 for the same body again, 409 for another body or a report not waiting for it.
    The files are then uploaded like a report's (tus, or PUT …/media/<media_id>)."""
    report_id, answer_id = _uuid(report_id), _uuid(answer_id)
    answer, created = answers.put_answer(g.device, report_id, answer_id, json_object())
    report = reports.get_own_report(g.device, report_id)
    view = next(a for a in reports.answer_views(report) if a["answer_id"] == answer.id)
    location = url_for("api.get_report", report_id=report_id)
    return view, 201 if created else 200, {"Location": location}
