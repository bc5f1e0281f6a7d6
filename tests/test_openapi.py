"""The OpenAPI document is valid OpenAPI 3 and describes the schemas the server uses."""

import re

import pytest
from openapi_spec_validator import validate

from server.api.openapi import openapi_path, operations
from server.api.operations import Reply, dump_reply, operation
from sync.schemas import DeviceOutSchema, ReportInSchema


def test_openapi_document_is_valid_and_lists_the_endpoints(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/devices",
        "/api/v1/reports/{report_id}",
        "/api/v1/changes",
        "/api/v1/reports/{report_id}/media/{media_id}",
        "/api/v1/violations",
    ):
        assert path in spec["paths"]


def test_report_schema_in_the_document_comes_from_marshmallow(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    props = spec["components"]["schemas"]["ReportIn"]["properties"]
    assert set(props) == set(ReportInSchema().fields)
    assert set(spec["components"]["schemas"]["ReportIn"]["required"]) >= {
        "violation",
        "vehicle_class",
        "captured_at",
        "location",
        "reporter",
        "media",
    }


def test_every_api_route_and_method_is_in_the_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        automatic = {"OPTIONS"} if getattr(rule, "provide_automatic_options", False) else set()
        for method in sorted((rule.methods or set()) - {"HEAD"} - automatic):
            if method.lower() not in spec["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_every_operation_has_a_unique_operation_id(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = [
        op.get("operationId")
        for item in spec["paths"].values()
        for method, op in item.items()
        if method != "parameters"
    ]
    assert None not in ids
    assert len(ids) == len(set(ids))


def test_each_documented_response_schema_is_the_one_the_view_dumps(app, client):
    """The document's response schema is the schema of the view's ``@operation``, which
    dumps the view's JSON body (tests/test_wire_format.py checks the bodies)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    components = spec["components"]["schemas"]
    checked = 0
    for path, method, op in operations(app):
        assert op is not None, f"{method.upper()} {path} has no @operation"
        for status, reply in op.responses.items():
            content = spec["paths"][path][method]["responses"][str(status)].get("content")
            if reply.schema is None:
                assert content is None or "application/json" not in content
                continue
            ref = content["application/json"]["schema"]["$ref"]
            documented = components[ref.rsplit("/", 1)[1]]["properties"]
            assert set(documented) == set(reply.schema().dump_fields), (method, path, status)
            checked += 1
    assert checked >= 10


def test_a_json_body_for_an_undocumented_status_is_refused():
    @operation(operation_id="x", summary="x", responses={200: Reply("ok", DeviceOutSchema)})
    def view():
        return {"device_id": "d", "token": "t"}, 201

    with pytest.raises(TypeError, match="201"):
        view()
    assert dump_reply(view.openapi, {}, ("", 204)) == ("", 204)


# -- every status the server answers is in the document ---------------------------------------

TUS = {"Tus-Resumable": "1.0.0"}
NO_UPLOAD = "/api/v1/uploads/" + "0" * 32
NO_REPORT = "/api/v1/reports/6f1c0b5e-0000-4000-8000-000000000000"


def _raise(exc: Exception):
    def fail(*args, **kwargs):
        raise exc

    return fail


def _db_busy() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT 1", {}, Exception("database is locked"))


# (why, method, path, request kwargs, send the device token, (module, attribute, error) to
# make a service raise, or None, the status expected). Errors a client cannot provoke on
# demand (a lock held by another request, an expired upload, a full disk, a busy database,
# a flood) are raised by the service the view calls, so the view's own handling is tested.
STATUS_CASES = [
    ("no token", "GET", "/api/v1/changes", {}, False, None, 401),
    ("bad cursor", "GET", "/api/v1/changes?since=x", {}, True, None, 400),
    ("limit 0", "GET", "/api/v1/changes?limit=0", {}, True, None, 422),
    ("limit 501", "GET", "/api/v1/changes?limit=501", {}, True, None, 422),
    (
        "push subscription not JSON",
        "PUT",
        "/api/v1/push/subscription",
        {"data": "x", "content_type": "text/plain"},
        True,
        None,
        415,
    ),
    (
        "push unsubscribe not JSON",
        "DELETE",
        "/api/v1/push/subscription",
        {"data": "x", "content_type": "text/plain"},
        True,
        None,
        415,
    ),
    (
        "push endpoint missing",
        "PUT",
        "/api/v1/push/subscription",
        {"json": {}},
        True,
        None,
        422,
    ),
    (
        "report not JSON",
        "PUT",
        NO_REPORT,
        {"data": "x", "content_type": "text/plain"},
        True,
        None,
        415,
    ),
    ("report empty", "PUT", NO_REPORT, {"json": {}}, True, None, 422),
    ("report unknown", "GET", NO_REPORT, {}, True, None, 404),
    ("bad report id", "GET", "/api/v1/reports/nope", {}, True, None, 400),
    ("tus version missing", "HEAD", NO_UPLOAD, {}, True, None, 412),
    ("upload unknown", "HEAD", NO_UPLOAD, {"headers": TUS}, True, None, 404),
    (
        "upload locked (HEAD)",
        "HEAD",
        NO_UPLOAD,
        {"headers": TUS},
        True,
        ("server.services.uploads", "head", "UploadBusy"),
        423,
    ),
    (
        "upload expired (HEAD)",
        "HEAD",
        NO_UPLOAD,
        {"headers": TUS},
        True,
        ("server.services.uploads", "head", "UploadExpired"),
        410,
    ),
    (
        "upload expired (DELETE)",
        "DELETE",
        NO_UPLOAD,
        {"headers": TUS},
        True,
        ("server.services.uploads", "terminate", "UploadExpired"),
        410,
    ),
    (
        "upload locked (DELETE)",
        "DELETE",
        NO_UPLOAD,
        {"headers": TUS},
        True,
        ("server.services.uploads", "terminate", "UploadBusy"),
        423,
    ),
    (
        "PATCH not offset+octet-stream",
        "PATCH",
        NO_UPLOAD,
        {"headers": {**TUS, "Upload-Offset": "0"}, "data": b"x"},
        True,
        None,
        415,
    ),
    (
        "disk full (PATCH)",
        "PATCH",
        NO_UPLOAD,
        {
            "headers": {**TUS, "Upload-Offset": "0"},
            "data": b"x",
            "content_type": "application/offset+octet-stream",
        },
        True,
        ("server.services.uploads", "patch", "StorageFull"),
        507,
    ),
    (
        "override unknown method",
        "POST",
        NO_UPLOAD,
        {"headers": {**TUS, "X-HTTP-Method-Override": "GET"}},
        True,
        None,
        405,
    ),
    (
        "registration flood",
        "POST",
        "/api/v1/devices",
        {},
        False,
        ("server.services.rate_limits", "device_registration", "RateLimited"),
        429,
    ),
    (
        "database busy",
        "GET",
        "/api/v1/changes",
        {},
        True,
        ("server.services.changes", "changes_for", "db"),
        503,
    ),
]


@pytest.mark.parametrize(
    "why,method,path,kwargs,token,failure,status", STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_each_status_the_server_answers_is_documented_for_its_operation(
    app, client, monkeypatch, why, method, path, kwargs, token, failure, status
):
    import importlib

    from server.services import errors
    from tests.factories import Api

    kwargs = dict(kwargs)  # the table's dict is shared by both backends' runs
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers.update(Api.register(client).auth)
    if failure is not None:
        module, attr, error = failure
        exc = _db_busy() if error == "db" else getattr(errors, error)()
        monkeypatch.setattr(importlib.import_module(module), attr, _raise(exc))
    resp = client.open(path, method=method, headers=headers, **kwargs)
    assert resp.status_code == status, resp.get_data(as_text=True)

    rule, _ = app.url_map.bind("localhost").match(path.split("?")[0], method, return_rule=True)
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = spec["paths"][openapi_path(rule)][method.lower()]["responses"]
    assert str(status) in documented, f"{method} {rule.rule} answers {status} undocumented"
    if status >= 400 and method != "HEAD":
        assert resp.mimetype == "application/problem+json"
        validate_problem = documented[str(status)]["content"]["application/problem+json"]
        assert validate_problem["schema"]["$ref"].endswith("/Problem")
    if status in (423, 429, 503, 507):
        assert resp.headers.get("Retry-After", "").isdigit()
        assert "Retry-After" in documented[str(status)]["headers"]


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_the_document_is_written_so_generators_keep_types_and_values(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    problem = schemas["Problem"]
    assert problem["additionalProperties"] is True
    assert {"expected", "received", "errors", "code", "status"} <= set(problem["properties"])
    assert schemas["PushSubscription"]["properties"]["endpoint"]["format"] == "uri"
    district = schemas["ReportOut"]["properties"]["district"]
    assert district == {"allOf": [{"$ref": "#/components/schemas/DistrictRef"}], "nullable": True}
    tus_headers = [
        p
        for node in _walk(spec["paths"])
        for p in node.get("parameters", [])
        if p.get("name") == "Tus-Resumable"
    ]
    assert tus_headers and all(p["schema"]["enum"] == ["1.0.0"] for p in tus_headers)
    patch = spec["paths"]["/api/v1/uploads/{upload_id}"]["patch"]
    assert "application/offset+octet-stream" in patch["requestBody"]["content"]
    limit = next(
        p for p in spec["paths"]["/api/v1/changes"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)
    # No sibling of a $ref (OpenAPI 3.0 ignores them) and no marshmallow-only formats.
    for node in _walk(spec):
        assert "$ref" not in node or len(node) == 1, node
        assert node.get("format") != "url"
