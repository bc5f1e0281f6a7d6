"""A bounded fuzz run of the API against its own OpenAPI document (issue 17 item 8).

schemathesis generates requests for every operation of ``/api/v1/openapi.json`` from the
document's schemas (valid and invalid ones), sends them to the app in process (WSGI) with a
registered device's token, and runs all its checks on every answer: no 5xx, every status
and header documented, every body matching its schema, and the rest. A failure is a server
bug or a document bug; fix that, never the check. The run is bounded and deterministic:
few examples per operation, derandomised, on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server import create_app
from tests.conftest import _migrate, _test_config

MAX_EXAMPLES = 12
# Operations whose requests are also checked beyond what JSON Schema can say, and answer a
# schema-valid body with 422: a device key must be a real P-256 point given once (spki or
# jwk), a push endpoint must be on the configured push services, a report's violation must be
# in the catalogue and its signature must verify, and a POST /uploads/{id} overriding PATCH
# needs the offset+octet-stream body that an overridden DELETE does not; a tus creation's
# Upload-Metadata must hold base64 UUIDs of a declared report and media item (answered 400,
# as tus clients expect); an answer to a request for information needs a text or files
# (one of two optional fields) and a report that was asked for more (a state). Only the
# check "a schema-valid request is accepted" is skipped
# for them; every other check runs.
SEMANTIC = {
    "putDeviceKey",
    "putPushSubscription",
    "putReport",
    "overrideUpload",
    "createUpload",
    "putAnswer",
}

# tus chunks (application/offset+octet-stream) are raw bytes, sent as octet-stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = Path(tmp_path_factory.mktemp("fuzz"))
    url = f"sqlite:///{folder / 'roadwatch.sqlite3'}"
    _migrate(url, folder)
    app = create_app(_test_config(url, folder))
    yield app
    with app.app_context():
        from server.extensions import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Flask):
    resp = fuzz_app.test_client().post("/api/v1/devices")
    assert resp.status_code == 201
    token = resp.get_json()["token"]
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    # HTTP APIs ignore query parameters and headers they do not know (proxies and clients
    # add them: cache busters, tracing); the document does not forbid them, so requests
    # with extra ones are not negative examples that must be refused.
    api.config.generation.update(allow_extra_parameters=False)
    # The in-process WSGI transport does not undo Content-Encoding, and /places and
    # /violations answer gzip when it is accepted: ask for the body as is.
    api.config.update(headers={"Accept-Encoding": "identity"})
    checks = api.config.checks
    # tus 1.0.0 answers a missing or unsupported Tus-Resumable with 412 (tus core protocol,
    # sync/PROTOCOL.md §3.5), and a POST /uploads/{id} without X-HTTP-Method-Override with
    # 405 + Allow; both are documented for those operations. Only these statuses are added.
    checks.negative_data_rejection.expected_statuses = [
        *checks.negative_data_rejection.expected_statuses,
        "412",
    ]
    checks.missing_required_header.expected_statuses = [
        *checks.missing_required_header.expected_statuses,
        "405",
        "412",
    ]

    @api.auth()
    class DeviceToken:
        """A registered device's bearer token (the operations' ``device`` security)."""

        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return api


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case):
    semantic = case.operation.definition.raw.get("operationId") in SEMANTIC
    case.call_and_validate(excluded_checks=[positive_data_acceptance] if semantic else [])
