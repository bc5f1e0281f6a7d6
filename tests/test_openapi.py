"""The OpenAPI document is valid OpenAPI 3 and describes the schemas the server uses."""

import re

from openapi_spec_validator import validate

from sync.schemas import ReportInSchema


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
