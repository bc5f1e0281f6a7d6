"""The OpenAPI 3 document, collected from the operations declared beside the views.

Each ``/api/v1`` view carries its :class:`~server.api.operations.Operation` (see
:func:`~server.api.operations.operation`); this module walks ``app.url_map``, turns each
into an OpenAPI operation and lets apispec render the marshmallow schemas. A route
without an operation is left out of the document, which tests/test_openapi.py notices.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from werkzeug.routing import Rule

from sync import PROTOCOL_VERSION
from sync.schemas import ProblemSchema

from . import bp
from .operations import Operation, Reply, operation, operation_of

API_PREFIX = "/api/v1/"
UUID = {"type": "string", "format": "uuid"}
# Every path parameter of the API, by name (a new one must be described here).
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "report_id": UUID,
    "media_id": UUID,
    "answer_id": UUID,
    "upload_id": {"type": "string"},
    "province_code": {"type": "string", "pattern": "^[0-9A-Za-z]{1,16}$"},
}
DEVICE_SECURITY = [{"device": []}]
PROBLEM = Reply("Problem details (RFC 9457)", ProblemSchema)
# Any operation may meet a locked or unreachable database (server/problems.py answers 503).
ALWAYS_PROBLEMS = (503,)
# Problems that tell the client when to try again (server/problems.py DOMAIN_PROBLEMS).
RETRY_AFTER = {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait"}
RETRY_AFTER_STATUSES = {423, 429, 503, 507}
# Members a problem carries beside ProblemSchema's (details of services/errors.py exceptions,
# e.g. SizeMismatch's expected/received sizes); others may be added, so the schema is open.
PROBLEM_EXTRA_MEMBERS: dict[str, Any] = {
    "expected": {"type": "integer", "description": "the declared size (size_mismatch)"},
    "received": {"type": "integer", "description": "the size received (size_mismatch)"},
    "reason": {
        "type": "string",
        "description": "content_type_mismatch: image_not_decodable when an image's magic"
        " bytes are right but its header does not decode",
    },
}


def operations(app: Flask) -> Iterator[tuple[str, str, Operation | None]]:
    """``(OpenAPI path, lower-case method, operation or None)`` of every /api/v1 route.

    Flask's automatic HEAD (of a GET) and OPTIONS are not operations of their own.
    """
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX):
            continue
        methods = set(rule.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        if getattr(rule, "provide_automatic_options", False):
            methods.discard("OPTIONS")
        op = operation_of(app.view_functions[rule.endpoint])
        for method in sorted(methods):
            yield openapi_path(rule), method.lower(), op


def openapi_path(rule: Rule) -> str:
    """``/reports/<report_id>`` -> ``/reports/{report_id}``."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)


def _content(body: Any, mimetype: str = "application/json") -> dict[str, Any]:
    """An OpenAPI ``content`` map: a schema's JSON, or a content map as given."""
    if isinstance(body, type):
        return {mimetype: {"schema": body}}
    return dict(body)


def _response(reply: Reply, mimetype: str = "application/json") -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    if reply.schema is not None:
        out["content"] = _content(reply.schema, mimetype)
    if reply.headers:
        out["headers"] = dict(reply.headers)
    return out


def operation_dict(op: Operation) -> dict[str, Any]:
    """The OpenAPI operation object of ``op`` (schemas still as marshmallow classes)."""
    responses = {str(status): _response(reply) for status, reply in op.responses.items()}
    problems = sorted({*op.problems, *ALWAYS_PROBLEMS, *((401,) if op.device else ())})
    for status in problems:
        responses[str(status)] = _response(PROBLEM, "application/problem+json")
        if status in RETRY_AFTER_STATUSES:
            responses[str(status)]["headers"] = {"Retry-After": RETRY_AFTER}
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.device:
        out["security"] = DEVICE_SECURITY
    if op.parameters:
        out["parameters"] = [dict(p) for p in op.parameters]
    if op.request is not None:
        out["requestBody"] = {"required": op.request_required, "content": _content(op.request)}
    out["responses"] = responses
    return out


def path_parameters(path: str) -> list[dict[str, Any]]:
    names = re.findall(r"{([^}]+)}", path)
    return [{"name": n, "in": "path", "required": True, "schema": PATH_PARAMS[n]} for n in names]


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s /api/v1 routes."""
    spec = APISpec(
        title="RoadWatch sync API",
        version=PROTOCOL_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Offline-first traffic-violation reports; see sync/PROTOCOL.md."},
    )
    spec.components.security_scheme("device", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", schema=ProblemSchema)
    paths: dict[str, dict[str, Any]] = defaultdict(dict)
    for path, method, op in operations(app):
        if op is not None:
            paths[path][method] = operation_dict(op)
    for path, ops in sorted(paths.items()):
        spec.path(path=path, operations=ops, parameters=path_parameters(path))
    out = spec.to_dict()
    problem = out["components"]["schemas"]["Problem"]
    problem["properties"].update(PROBLEM_EXTRA_MEMBERS)
    problem["additionalProperties"] = True
    for schema in out["components"]["schemas"].values():
        _for_generators(schema)
    return out


def _for_generators(schema: Any) -> None:
    """Rewrite, in place, what client generators and fuzzers misread in apispec's output:
    marshmallow's ``format: url`` is OpenAPI's ``uri``, and a nullable ``$ref`` (whose
    siblings OpenAPI 3.0 ignores) becomes ``allOf: [$ref]`` + ``nullable`` so it keeps its type.
    """
    if isinstance(schema, list):
        for item in schema:
            _for_generators(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("format") == "url":
        schema["format"] = "uri"
    if "$ref" in schema and len(schema) > 1:
        schema["allOf"] = [{"$ref": schema.pop("$ref")}]
    # apispec writes Nested(allow_none=True) as anyOf [a nullable bare object, $ref].
    any_of = schema.get("anyOf")
    nullable_object = {"nullable": True, "type": "object"}
    if isinstance(any_of, list) and len(any_of) == 2 and nullable_object in any_of:
        refs = [s for s in any_of if "$ref" in s]
        if refs:
            del schema["anyOf"]
            schema.update({"allOf": refs, "nullable": True})
    for value in schema.values():
        _for_generators(value)


def spec_of(app: Flask) -> dict[str, Any]:
    """``build_spec(app)``, built once per application."""
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = build_spec(app)
    return app.extensions["openapi"]


@bp.get("/openapi.json")
@operation(
    operation_id="getOpenApi",
    summary="This document",
    responses={200: Reply("OpenAPI 3.0 document")},
)
def openapi_json():
    # Not dumped through a schema: the document is returned as a Response, not as data.
    return current_app.json.response(spec_of(current_app))
