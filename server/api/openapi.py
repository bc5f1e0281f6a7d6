"""OpenAPI 3 document of the API, generated from the marshmallow schemas (apispec)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify

from sync import PROTOCOL_VERSION
from sync import schemas as s

from . import bp

PROBLEM = {"application/problem+json": {"schema": "Problem"}}


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(c): {"description": "Problem details (RFC 9457)", "content": PROBLEM} for c in codes
    }


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


ID = {"in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
BEARER = [{"device": []}]


@lru_cache(maxsize=1)
def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="RoadWatch sync API",
        version=PROTOCOL_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Offline-first traffic-violation reports; see sync/PROTOCOL.md."},
    )
    spec.components.security_scheme("device", {"type": "http", "scheme": "bearer"})
    for name, schema in [
        ("ReportIn", s.ReportInSchema),
        ("ReportOut", s.ReportOutSchema),
        ("DeviceOut", s.DeviceOutSchema),
        ("OfficerLogin", s.OfficerLoginSchema),
        ("OfficerDeviceOut", s.OfficerDeviceOutSchema),
        ("Violation", s.ViolationSchema),
        ("Changes", s.ChangesSchema),
        ("PushSubscription", s.PushSubscriptionSchema),
        ("Problem", s.ProblemSchema),
    ]:
        spec.components.schema(name, schema=schema)

    spec.path(
        path="/api/v1/devices",
        operations={
            "post": {
                "summary": "Register a device",
                "responses": {"201": {"description": "Registered", "content": _json("DeviceOut")}},
            }
        },
    )
    spec.path(
        path="/api/v1/push/vapid-public-key",
        operations={
            "get": {
                "summary": "The VAPID application server key (PROTOCOL §3.7)",
                "responses": {
                    "200": {
                        "description": "base64url of the uncompressed P-256 public key",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"public_key": {"type": "string"}},
                                }
                            }
                        },
                    }
                },
            }
        },
    )
    spec.path(
        path="/api/v1/push/subscription",
        operations={
            "put": {
                "summary": "Store or refresh this device's push subscription",
                "security": BEARER,
                "requestBody": {"required": True, "content": _json("PushSubscription")},
                "responses": {
                    "201": {"description": "Stored"},
                    "200": {"description": "Refreshed (or moved to this device)"},
                    **_problems(400, 401, 422),
                },
            },
            "delete": {
                "summary": "Forget a push subscription of this device",
                "security": BEARER,
                "responses": {"204": {"description": "Gone"}, **_problems(400, 401, 422)},
            },
        },
    )
    spec.path(
        path="/api/v1/officers/login",
        operations={
            "post": {
                "summary": "A patrol officer's device token (PROTOCOL §3.3a)",
                "requestBody": {"required": True, "content": _json("OfficerLogin")},
                "responses": {
                    "201": {"description": "Signed in", "content": _json("OfficerDeviceOut")},
                    **_problems(400, 401, 422, 429),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/reports/{report_id}",
        parameters=[{"name": "report_id", **ID}],
        operations={
            "put": {
                "summary": "Store a report once (idempotent by report_id)",
                "security": BEARER,
                "requestBody": {"required": True, "content": _json("ReportIn")},
                "responses": {
                    "201": {"description": "Stored", "content": _json("ReportOut")},
                    "200": {
                        "description": "Already stored, same body",
                        "content": _json("ReportOut"),
                    },
                    **_problems(400, 401, 409, 413, 415, 422),
                },
            },
            "get": {
                "summary": "The report as stored (without the reporter's identity)",
                "security": BEARER,
                "responses": {
                    "200": {"description": "The report", "content": _json("ReportOut")},
                    **_problems(400, 401, 404),
                },
            },
        },
    )
    spec.path(
        path="/api/v1/reports/{report_id}/media/{media_id}",
        parameters=[{"name": "report_id", **ID}, {"name": "media_id", **ID}],
        operations={
            "put": {
                "summary": "Upload the raw bytes of a declared media item",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "201": {"description": "Received and verified", "content": _json("ReportOut")},
                    "200": {"description": "Already received", "content": _json("ReportOut")},
                    **_problems(400, 401, 404, 411, 413, 422, 507),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/changes",
        operations={
            "get": {
                "summary": "Status changes of the device's reports after a cursor",
                "security": BEARER,
                "parameters": [
                    {"name": "since", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {"description": "Changes in order", "content": _json("Changes")},
                    **_problems(400, 401),
                },
            }
        },
    )
    spec.path(
        path="/api/v1/violations",
        operations={
            "get": {
                "summary": "The violation catalogue (Decree 168/2024)",
                "responses": {"200": {"description": "Catalogue"}},
            }
        },
    )
    # Resumable uploads, tus 1.0.0 (sync/PROTOCOL.md §3.5). Bodies are empty; the
    # protocol is in the headers.
    tus_header = {"in": "header", "schema": {"type": "string"}}
    tus_resumable = {"name": "Tus-Resumable", "required": True, **tus_header}
    upload_state = {
        "Tus-Resumable": {"schema": {"type": "string", "example": "1.0.0"}},
        "Upload-Offset": {"description": "Bytes durably on disk", "schema": {"type": "integer"}},
        "Upload-Length": {"schema": {"type": "integer"}},
        "Upload-Expires": {
            "description": "RFC 7231 date; absent once the upload is complete",
            "schema": {"type": "string"},
        },
    }
    tus_options = {
        "summary": "tus discovery and CORS preflight",
        "responses": {
            "204": {
                "description": "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm",
            }
        },
    }
    spec.path(
        path="/api/v1/uploads",
        operations={
            "options": tus_options,
            "post": {
                "summary": "tus creation (idempotent per media_id), with optional first chunk",
                "security": BEARER,
                "parameters": [
                    tus_resumable,
                    {"name": "Upload-Length", "required": True, **tus_header},
                    {
                        "name": "Upload-Metadata",
                        "required": True,
                        "description": "report_id <base64>,media_id <base64> (other keys ignored)",
                        **tus_header,
                    },
                    {"name": "Upload-Checksum", **tus_header},
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/offset+octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Created, or the media item's existing upload",
                        "headers": {"Location": {"schema": {"type": "string"}}, **upload_state},
                    },
                    **_problems(400, 401, 404, 412, 413, 422, 460, 507),
                },
            },
        },
    )
    spec.path(
        path="/api/v1/uploads/{upload_id}",
        parameters=[{"name": "upload_id", **ID, "schema": {"type": "string"}}],
        operations={
            "options": tus_options,
            "head": {
                "summary": "The upload's durable offset",
                "security": BEARER,
                "parameters": [tus_resumable],
                "responses": {
                    "200": {"description": "Where the upload stands", "headers": upload_state},
                    **_problems(401, 404, 410, 412),
                },
            },
            "patch": {
                "summary": "Append bytes at Upload-Offset; completes and verifies the evidence",
                "security": BEARER,
                "parameters": [
                    tus_resumable,
                    {"name": "Upload-Offset", "required": True, **tus_header},
                    {"name": "Upload-Checksum", "description": "sha1|sha256 <b64>", **tus_header},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/offset+octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
                "responses": {
                    "204": {"description": "Appended", "headers": upload_state},
                    **_problems(400, 401, 404, 409, 410, 412, 413, 415, 422, 423, 460, 507),
                },
            },
            "delete": {
                "summary": "tus termination (received evidence is never removed)",
                "security": BEARER,
                "parameters": [tus_resumable],
                "responses": {
                    "204": {"description": "Terminated"},
                    **_problems(401, 404, 412, 423),
                },
            },
            "post": {
                "summary": "PATCH or DELETE for clients that cannot send them: "
                "X-HTTP-Method-Override: PATCH | DELETE",
                "security": BEARER,
                "parameters": [
                    tus_resumable,
                    {
                        "name": "X-HTTP-Method-Override",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "enum": ["PATCH", "DELETE"]},
                    },
                ],
                "responses": {
                    "204": {"description": "As the overridden method"},
                    **_problems(400, 401, 404, 405, 409, 410, 412, 413, 415, 422, 423, 460, 507),
                },
            },
        },
    )
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(build_spec())
