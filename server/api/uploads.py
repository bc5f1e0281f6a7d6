"""Resumable evidence uploads, tus 1.0.0, at /api/v1/uploads (see sync/PROTOCOL.md §3.5).

Thin views: headers in (parsed by :mod:`.tus_headers`), plain values to
:mod:`server.services.uploads`, headers out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, request, url_for

from ..auth import device_required
from ..problems import ApiError
from ..request_body import request_body
from ..services import uploads as tus
from ..services.evidence import max_upload_bytes
from . import bp
from . import uploads_doc as doc
from .operations import Reply, operation
from .tus_headers import (
    OFFSET_OCTET_STREAM,
    TUS_EXTENSIONS,
    TUS_VERSION,
    parse_checksum,
    parse_length,
    parse_metadata,
    state_headers,
)

UPLOADS_PATH = f"{bp.url_prefix}/uploads"
ALLOW_METHODS = "POST, HEAD, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = (
    "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata, "
    "Upload-Offset, Upload-Checksum, Upload-Defer-Length, Upload-Concat, "
    "X-HTTP-Method-Override"
)
EXPOSE_HEADERS = (
    "Location, Upload-Offset, Upload-Length, Upload-Expires, Tus-Resumable, Tus-Version, "
    "Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Retry-After"
)
PREFLIGHT_MAX_AGE = "86400"


def tus_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (412) a request that does not speak tus 1.0.0, before anything else."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("Tus-Resumable", "").strip() != TUS_VERSION:
            raise ApiError("tus_version_unsupported", headers={"Tus-Version": TUS_VERSION})
        return view(*args, **kwargs)

    return wrapper


@bp.after_app_request
def _tus_response_headers(resp: Response) -> Response:
    """Tus-Resumable and CORS on every answer under /uploads, errors included."""
    if request.path == UPLOADS_PATH or request.path.startswith(UPLOADS_PATH + "/"):
        resp.headers["Tus-Resumable"] = TUS_VERSION
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if request.method != "OPTIONS":
            resp.headers["Cache-Control"] = "no-store"
    return resp


def _uuid(value: str | None, key: str) -> str:
    if not value:
        raise ApiError("bad_request", errors={"Upload-Metadata": [f"{key} is required."]})
    try:
        return str(uuid.UUID(value))
    except ValueError:
        errors = {"Upload-Metadata": [f"{key} is not a UUID."]}
        raise ApiError("invalid_id", errors=errors) from None


def _chunk() -> tus.Chunk:
    return tus.Chunk(
        body=request_body(request.environ, request.stream),
        content_length=request.content_length,
        checksum=parse_checksum(request.headers.get("Upload-Checksum")),
    )


@bp.route("/uploads", methods=["OPTIONS"], provide_automatic_options=False)
@operation(
    operation_id="uploadsOptions",
    summary=doc.OPTIONS_SUMMARY,
    responses=doc.OPTIONS_RESPONSES,
)
def upload_options():
    """Server capabilities (tus discovery) and the answer to CORS preflights."""
    return (
        "",
        204,
        {
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": ",".join(TUS_EXTENSIONS),
            "Tus-Max-Size": str(max_upload_bytes()),
            "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        },
    )


@bp.route("/uploads/<upload_id>", methods=["OPTIONS"], provide_automatic_options=False)
@operation(
    operation_id="uploadOptions",
    summary=doc.OPTIONS_SUMMARY,
    responses=doc.OPTIONS_RESPONSES,
)
def upload_preflight(upload_id: str):
    """As :func:`upload_options`, for one upload's URL."""
    return upload_options()


@bp.post("/uploads", provide_automatic_options=False)
@operation(
    operation_id="createUpload",
    summary="tus creation at offset 0 (one upload per media_id), with optional first chunk",
    parameters=(doc.TUS_RESUMABLE, doc.UPLOAD_LENGTH, doc.UPLOAD_METADATA, doc.UPLOAD_CHECKSUM),
    request=doc.OFFSET_OCTET_STREAM_BODY,
    request_required=False,
    responses={201: doc.CREATED},
    problems=(400, 404, 410, 412, 413, 422, 423, 460, 503, 507),
    device=True,
)
@tus_request
@device_required
def create_upload():
    """tus creation (+ creation-with-upload): the media item's one upload, at offset 0."""
    for unsupported in ("Upload-Defer-Length", "Upload-Concat"):
        if unsupported in request.headers:
            raise ApiError("bad_request", errors={unsupported: ["Not supported by this server."]})
    length = parse_length(request.headers.get("Upload-Length"), "Upload-Length")
    metadata = parse_metadata(request.headers.get("Upload-Metadata"))
    report_id = _uuid(metadata.get("report_id"), "report_id")
    media_id = _uuid(metadata.get("media_id"), "media_id")
    chunk = _chunk() if request.mimetype == OFFSET_OCTET_STREAM else None
    state, _created = tus.create(g.device, report_id, media_id, length, chunk)
    headers = state_headers(state)
    headers["Location"] = url_for("api.head_upload", upload_id=state.id)
    return "", 201, headers


@bp.route("/uploads/<upload_id>", methods=["HEAD"], provide_automatic_options=False)
@operation(
    operation_id="headUpload",
    summary="The upload's durable offset",
    parameters=(doc.TUS_RESUMABLE,),
    responses={200: Reply("Where the upload stands", headers=doc.UPLOAD_STATE)},
    problems=(404, 410, 412, 423, 503, 507),
    device=True,
)
@tus_request
@device_required
def head_upload(upload_id: str):
    """The durable offset: bytes fsynced to disk, also after a crash."""
    return "", 200, state_headers(tus.head(g.device, upload_id))


@bp.patch("/uploads/<upload_id>", provide_automatic_options=False)
@operation(
    operation_id="patchUpload",
    summary="Append bytes at Upload-Offset; completes and verifies the evidence",
    parameters=(doc.TUS_RESUMABLE, doc.UPLOAD_OFFSET, doc.UPLOAD_CHECKSUM_PATCH),
    request=doc.OFFSET_OCTET_STREAM_BODY,
    responses={204: Reply("Appended", headers=doc.UPLOAD_STATE)},
    problems=(400, 404, 409, 410, 412, 413, 415, 422, 423, 460, 503, 507),
    device=True,
)
@tus_request
@device_required
def patch_upload(upload_id: str):
    if request.mimetype != OFFSET_OCTET_STREAM:
        raise ApiError("upload_content_type")
    offset = parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
    state = tus.patch(g.device, upload_id, offset, _chunk())
    return "", 204, state_headers(state)


@bp.delete("/uploads/<upload_id>", provide_automatic_options=False)
@operation(
    operation_id="deleteUpload",
    summary="tus termination (received evidence is never removed)",
    parameters=(doc.TUS_RESUMABLE,),
    responses={204: Reply("Terminated")},
    problems=(404, 410, 412, 423),
    device=True,
)
@tus_request
@device_required
def delete_upload(upload_id: str):
    """tus termination: unfinished bytes are removed; received evidence never is."""
    tus.terminate(g.device, upload_id)
    return "", 204


@bp.post("/uploads/<upload_id>", provide_automatic_options=False)
@operation(
    operation_id="overrideUpload",
    summary="PATCH or DELETE for clients that cannot send them: "
    "X-HTTP-Method-Override: PATCH | DELETE",
    parameters=(doc.TUS_RESUMABLE, doc.METHOD_OVERRIDE),
    # The bytes of an overridden PATCH (with its Upload-Offset); none for DELETE.
    request=doc.OFFSET_OCTET_STREAM_BODY,
    request_required=False,
    responses={204: Reply("As the overridden method")},
    problems=(400, 404, 405, 409, 410, 412, 413, 415, 422, 423, 460, 503, 507),
    device=True,
)
def override_upload(upload_id: str):
    """``POST`` + ``X-HTTP-Method-Override`` for clients that cannot send PATCH/DELETE."""
    views = {"PATCH": patch_upload, "DELETE": delete_upload, "HEAD": head_upload}
    view = views.get(request.headers.get("X-HTTP-Method-Override", "").strip().upper())
    if view is None:
        raise ApiError("method_not_allowed", headers={"Allow": ALLOW_METHODS})
    return view(upload_id)
