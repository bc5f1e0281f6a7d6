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
    return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed: 400 ``malformed_json`` if it is not JSON, 400 ``json_too_deep``
    if it nests deeper than the parser's recursion limit (a hostile body, not a 500)."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("malformed_json") from None
    except RecursionError:
        raise ApiError("json_too_deep") from None
    require_unicode_text(value)
    return value


def require_unicode_text(value: Any) -> None:
    """400 ``malformed_json`` when a string of the parsed body (a key or a value) is not
    Unicode text: JSON lets ``"\ud800"`` (a lone surrogate) through, which no
    database, encryption or log can encode (a 500 otherwise)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                errors = {"body": ["A string is not Unicode text (a lone surrogate)."]}
                raise ApiError("malformed_json", errors=errors) from None


def json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise ApiError("json_object_required")
    return body
