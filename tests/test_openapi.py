"""The OpenAPI document is valid OpenAPI 3 and describes the schemas the server uses."""

import re

import pytest
from openapi_spec_validator import validate

from server.api.openapi import operations
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
