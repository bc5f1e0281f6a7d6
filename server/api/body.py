"""Reading JSON request bodies with problem+json answers for every way they go wrong."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from ..problems import ApiError
from ..settings import current_settings


def json_body() -> Any:
    """The parsed JSON body: 415 if not JSON, 413 if too large, 400 if malformed."""
    if request.mimetype != "application/json":
        raise ApiError("unsupported_media_type")
    limit = current_settings().max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("payload_too_large")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise ApiError("payload_too_large")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("malformed_json") from None


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError("json_object_required")
    return body
