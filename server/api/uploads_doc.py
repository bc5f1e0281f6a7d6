"""OpenAPI pieces of the tus views in :mod:`server.api.uploads` (sync/PROTOCOL.md §3.5).

Bodies of tus answers are empty; the protocol is in the headers, described here once
and used by the ``@operation`` declarations beside each view.
"""

from __future__ import annotations

from typing import Any

from .operations import Reply

_HEADER: dict[str, Any] = {"in": "header", "schema": {"type": "string"}}
TUS_RESUMABLE = {
    "name": "Tus-Resumable",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["1.0.0"]},
}
_COUNT: dict[str, Any] = {"in": "header", "schema": {"type": "integer", "minimum": 0}}
UPLOAD_LENGTH = {"name": "Upload-Length", "required": True, **_COUNT}
UPLOAD_METADATA = {
    "name": "Upload-Metadata",
    "required": True,
    "description": "report_id <base64>,media_id <base64> (other keys ignored)",
    **_HEADER,
}
UPLOAD_CHECKSUM = {"name": "Upload-Checksum", **_HEADER}
UPLOAD_CHECKSUM_PATCH = {
    "name": "Upload-Checksum",
    "in": "header",
    "description": "sha1|sha256 <b64>",
    # A digest of the algorithm's size (sha1 20 bytes, sha256 32), in base64; empty = absent.
    "schema": {
        "type": "string",
        "pattern": "^(|sha1 [A-Za-z0-9+/]{27}=|sha256 [A-Za-z0-9+/]{43}=)$",
    },
}
UPLOAD_OFFSET = {"name": "Upload-Offset", "required": True, **_COUNT}
METHOD_OVERRIDE = {
    "name": "X-HTTP-Method-Override",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "enum": ["PATCH", "DELETE"]},
}

OFFSET_OCTET_STREAM_BODY = {
    "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}
}

UPLOAD_STATE: dict[str, Any] = {
    "Tus-Resumable": {"schema": {"type": "string", "enum": ["1.0.0"]}},
    "Upload-Offset": {"description": "Bytes durably on disk", "schema": {"type": "integer"}},
    "Upload-Length": {"schema": {"type": "integer"}},
    "Upload-Expires": {
        "description": "RFC 7231 date; absent once the upload is complete",
        "schema": {"type": "string"},
    },
}
CREATED = Reply(
    "Created, or the media item's existing upload",
    headers={"Location": {"schema": {"type": "string"}}, **UPLOAD_STATE},
)

# Shared by the two OPTIONS views (collection and one upload).
OPTIONS_SUMMARY = "tus discovery and CORS preflight"
OPTIONS_RESPONSES = {
    204: Reply("Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"),
}
