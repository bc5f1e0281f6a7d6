"""Bad input: a clear 4xx problem+json for each, and nothing stored.

Each row names what is wrong, how the request is made, and the status and problem
code expected. After every request the database and the media folder are checked to
be exactly as they were.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Media, Report, StatusEvent
from server.settings import settings_of
from tests.factories import Api, MediaFile, photo, report_body

RID = "6f1c1d2e-8a39-4b8e-9a3e-0c7d2b6f4a11"


def mutate(path: str, value: Any) -> Callable[[dict], dict]:
    """A body with ``path`` (dotted; ``-`` deletes) set to ``value``."""

    def apply(body: dict) -> dict:
        body = copy.deepcopy(body)
        *parents, last = path.split(".")
        node: Any = body
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
        return body

    return apply


DELETE = object()

# (id, body mutation, status, code)
BAD_REPORT_BODIES = [
    ("unknown violation code", mutate("violation", "FLYING_CAR"), 422, "validation_failed"),
    ("empty violation", mutate("violation", ""), 422, "validation_failed"),
    ("lat 91", mutate("location.lat", 91), 422, "validation_failed"),
    ("lat -90.5", mutate("location.lat", -90.5), 422, "validation_failed"),
    ("lon 181", mutate("location.lon", 181), 422, "validation_failed"),
    ("lat as a string", mutate("location.lat", "21.02"), 422, "validation_failed"),
    ("lat as a boolean", mutate("location.lat", True), 422, "validation_failed"),
    ("lat missing", mutate("location.lat", DELETE), 422, "validation_failed"),
    ("negative accuracy", mutate("location.accuracy_m", -1), 422, "validation_failed"),
    ("unknown location source", mutate("location.source", "satellite"), 422, "validation_failed"),
    ("location not an object", mutate("location", [21.0, 105.8]), 422, "validation_failed"),
    ("captured_at missing", mutate("captured_at", DELETE), 422, "validation_failed"),
    (
        "captured_at without offset",
        mutate("captured_at", "2026-11-20T08:15:30"),
        422,
        "validation_failed",
    ),
    ("captured_at not a date", mutate("captured_at", "yesterday"), 422, "validation_failed"),
    # Years that overflow date arithmetic (flags, case windows) once shifted to UTC.
    *(
        (f"captured_at {when}", mutate("captured_at", when), 422, "validation_failed")
        for when in (
            "0001-01-01T00:00:00+07:00",
            "0001-01-01T00:00:00-07:00",
            "9999-12-31T23:59:59+07:00",
            "9999-12-31T23:59:59-07:00",
        )
    ),
    ("captured_at a number", mutate("captured_at", 1763600000), 422, "validation_failed"),
    ("unknown vehicle class", mutate("vehicle_class", "spaceship"), 422, "validation_failed"),
    ("plate not a string", mutate("plate", 12345), 422, "validation_failed"),
    ("plate too long", mutate("plate", "3" * 33), 422, "validation_failed"),
    ("note too long", mutate("note", "x" * 2001), 422, "validation_failed"),
    ("unknown reporter kind", mutate("reporter.kind", "journalist"), 422, "validation_failed"),
    ("national id of 5 digits", mutate("reporter.national_id", "12345"), 422, "validation_failed"),
    ("phone of letters", mutate("reporter.phone", "call me"), 422, "validation_failed"),
    ("reporter missing", mutate("reporter", DELETE), 422, "validation_failed"),
    ("no media", mutate("media", []), 422, "validation_failed"),
    (
        "eleven media",
        lambda b: {**b, "media": [photo().decl for _ in range(11)]},
        422,
        "validation_failed",
    ),
    ("media id not a uuid", mutate("media.0.media_id", "photo-1"), 422, "validation_failed"),
    ("sha256 not hex", mutate("media.0.sha256", "z" * 64), 422, "validation_failed"),
    ("sha256 upper case", mutate("media.0.sha256", "A" * 64), 422, "validation_failed"),
    ("size zero", mutate("media.0.size", 0), 422, "validation_failed"),
    ("size as a string", mutate("media.0.size", "2048"), 422, "validation_failed"),
    (
        "size over the upload limit",
        mutate("media.0.size", 26 * 1024 * 1024),
        422,
        "validation_failed",
    ),
    (
        "pdf content type",
        mutate("media.0.content_type", "application/pdf"),
        422,
        "validation_failed",
    ),
    ("the same media twice", lambda b: {**b, "media": b["media"] * 2}, 422, "validation_failed"),
    ("unknown field", mutate("speed_kmh", 80), 422, "validation_failed"),
]


def snapshot(app) -> tuple[int, int, int, list[str]]:
    with app.app_context():
        counts = tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Report, Media, StatusEvent)
        )
        received = db.session.scalar(
            sa.select(sa.func.count()).select_from(Media).where(Media.received_at.is_not(None))
        )
    root = Path(settings_of(app).media_root)
    files = sorted(str(Path(d, f).relative_to(root)) for d, _, fs in os.walk(root) for f in fs)
    return (*counts, received, files)  # type: ignore[return-value]


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["message"]["vi"] and body["message"]["en"]
    assert body["message"]["vi"] != body["message"]["en"]
    return body


@pytest.mark.parametrize(
    "mutation,status,code",
    [r[1:] for r in BAD_REPORT_BODIES],
    ids=[r[0] for r in BAD_REPORT_BODIES],
)
def test_bad_report_body_is_rejected_and_nothing_stored(app, client, mutation, status, code):
    api = Api.register(client)
    before = snapshot(app)
    resp = api.put_report(RID, mutation(report_body()))
    body = assert_problem(resp, status, code)
    assert body["errors"], "a validation problem names the fields at fault"
    assert snapshot(app) == before


def _raw(api: Api, data: bytes | str, content_type: str = "application/json", path: str = RID):
    return api.client.put(
        f"/api/v1/reports/{path}", data=data, headers={**api.auth, "Content-Type": content_type}
    )


def _with_lone_surrogate(field: str) -> str:
    """A report body whose ``field`` holds ``\\ud800`` (valid JSON, not Unicode text)."""
    body = report_body()
    body[field] = "MARK"
    return json.dumps(body).replace("MARK", "30A\\ud800")


BAD_REQUESTS: list[tuple[str, Callable[[Api], Any], int, str]] = [
    ("malformed json", lambda api: _raw(api, '{"violation": "RED_LIGHT",'), 400, "malformed_json"),
    ("json array", lambda api: _raw(api, "[1, 2, 3]"), 400, "json_object_required"),
    ("json string", lambda api: _raw(api, '"hello"'), 400, "json_object_required"),
    ("not utf-8", lambda api: _raw(api, b"\xff\xfe{}"), 400, "malformed_json"),
    (
        "text/plain body",
        lambda api: _raw(api, json.dumps(report_body()), "text/plain"),
        415,
        "unsupported_media_type",
    ),
    (
        "body over the limit",
        lambda api: _raw(api, json.dumps(report_body(note="x" * 70_000))),
        413,
        "payload_too_large",
    ),
    (
        "report id not a uuid",
        lambda api: _raw(api, json.dumps(report_body()), path="report-1"),
        400,
        "invalid_id",
    ),
    (
        "nan latitude",
        lambda api: _raw(api, json.dumps(report_body()).replace("21.028511", "NaN")),
        422,
        "validation_failed",
    ),
    (
        "no token",
        lambda api: api.client.put(f"/api/v1/reports/{RID}", json=report_body()),
        401,
        "unauthorized",
    ),
    (
        "wrong token",
        lambda api: api.client.put(
            f"/api/v1/reports/{RID}", json=report_body(), headers={"Authorization": "Bearer nope"}
        ),
        401,
        "invalid_token",
    ),
    (
        "basic auth instead of bearer",
        lambda api: api.client.put(
            f"/api/v1/reports/{RID}", json=report_body(), headers={"Authorization": "Basic dTpw"}
        ),
        401,
        "unauthorized",
    ),
    (
        "delete a report",
        lambda api: api.client.delete(f"/api/v1/reports/{RID}", headers=api.auth),
        405,
        "method_not_allowed",
    ),
    (
        "unknown api path",
        lambda api: api.client.get("/api/v1/nothing-here", headers=api.auth),
        404,
        "not_found",
    ),
    (
        "get an unknown report",
        lambda api: api.get_report(str(uuid.uuid4())),
        404,
        "report_not_found",
    ),
    (
        "json nested 30,000 deep",
        lambda api: _raw(api, '{"note": ' + "[" * 30_000 + "]" * 30_000 + "}"),
        400,
        "json_too_deep",
    ),
    (
        "officer login nested 30,000 deep",
        lambda api: api.client.post(
            "/api/v1/officers/login",
            data="[" * 30_000 + "]" * 30_000,
            headers={"Content-Type": "application/json"},
        ),
        400,
        "json_too_deep",
    ),
    (
        "a lone surrogate in the plate",
        lambda api: _raw(api, _with_lone_surrogate("plate")),
        400,
        "malformed_json",
    ),
    (
        "a lone surrogate in the note",
        lambda api: _raw(api, _with_lone_surrogate("note")),
        400,
        "malformed_json",
    ),
    (
        "a lone surrogate in a key",
        lambda api: _raw(api, json.dumps(report_body())[:-1] + ', "\\udfff": 1}'),
        400,
        "malformed_json",
    ),
    (
        "officer login with a lone surrogate in the username",
        lambda api: api.client.post(
            "/api/v1/officers/login",
            data='{"username": "officer\\ud800", "password": "x"}',
            headers={"Content-Type": "application/json"},
        ),
        400,
        "malformed_json",
    ),
    (
        "changes with a bad cursor",
        lambda api: api.client.get("/api/v1/changes?since=abc", headers=api.auth),
        400,
        "invalid_cursor",
    ),
]


@pytest.mark.parametrize(
    "send,status,code", [r[1:] for r in BAD_REQUESTS], ids=[r[0] for r in BAD_REQUESTS]
)
def test_bad_request_is_rejected_and_nothing_stored(app, client, send, status, code):
    api = Api.register(client)
    before = snapshot(app)
    assert_problem(send(api), status, code)
    assert snapshot(app) == before


TEXT = b"this is not a photo, just some text\n" * 10


def _upload(api: Api, rid: str, media: MediaFile, data: bytes | None = None, **kw: Any):
    return api.client.put(
        f"/api/v1/reports/{rid}/media/{kw.get('media_id', media.media_id)}",
        data=media.data if data is None else data,
        headers={
            **(api.auth if kw.get("auth", True) else {}),
            "Content-Type": "application/octet-stream",
        },
    )


# (id, declared media, how it is sent, status, code); the report declares `declared`.
BAD_UPLOADS: list[tuple[str, Callable[[], MediaFile], Callable[..., Any], int, str]] = [
    (
        "sha256 mismatch",
        photo,
        lambda api, rid, m: _upload(
            api, rid, m, photo(make="Other").data[: m.decl["size"]].ljust(m.decl["size"], b"\0")
        ),
        422,
        "checksum_mismatch",
    ),
    (
        "fewer bytes than declared",
        photo,
        lambda api, rid, m: _upload(api, rid, m, m.data[:-10]),
        422,
        "size_mismatch",
    ),
    (
        "more bytes than declared",
        photo,
        lambda api, rid, m: _upload(api, rid, m, m.data + b"tail"),
        422,
        "size_mismatch",
    ),
    (
        "text declared as jpeg",
        lambda: MediaFile(TEXT, "image/jpeg"),
        lambda api, rid, m: _upload(api, rid, m),
        422,
        "content_type_mismatch",
    ),
    (
        "jpeg declared as mp4",
        lambda: MediaFile(photo().data, "video/mp4"),
        lambda api, rid, m: _upload(api, rid, m),
        422,
        "content_type_mismatch",
    ),
    (
        "media id not declared",
        photo,
        lambda api, rid, m: _upload(api, rid, m, media_id=str(uuid.uuid4())),
        404,
        "media_not_declared",
    ),
    (
        "media id not a uuid",
        photo,
        lambda api, rid, m: _upload(api, rid, m, media_id="x"),
        400,
        "invalid_id",
    ),
    ("no token", photo, lambda api, rid, m: _upload(api, rid, m, auth=False), 401, "unauthorized"),
    (
        "another device's report",
        photo,
        lambda api, rid, m: _upload(Api.register(api.client), rid, m),
        404,
        "report_not_found",
    ),
]


@pytest.mark.parametrize(
    "make_media,send,status,code", [r[1:] for r in BAD_UPLOADS], ids=[r[0] for r in BAD_UPLOADS]
)
def test_bad_upload_is_rejected_and_nothing_received(app, client, make_media, send, status, code):
    api = Api.register(client)
    media = make_media()
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    before = snapshot(app)
    assert_problem(send(api, rid, media), status, code)
    assert snapshot(app) == before
    assert api.get_report(rid).get_json()["evidence"][0]["received"] is False


def test_the_table_has_at_least_thirty_bad_inputs():
    assert len(BAD_REPORT_BODIES) + len(BAD_REQUESTS) + len(BAD_UPLOADS) >= 30


def test_english_title_on_request_vietnamese_by_default(client):
    vi = client.put(f"/api/v1/reports/{RID}", json={})
    en = client.put(
        f"/api/v1/reports/{RID}", json={}, headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    assert vi.get_json()["title"] == vi.get_json()["message"]["vi"]
    assert vi.headers["Content-Language"] == "vi"
    assert en.get_json()["title"] == en.get_json()["message"]["en"]
    assert en.headers["Content-Language"] == "en"


# Query strings of the reviewers' queue that once made a 500: each is a normal page.
ODD_QUEUE_QUERIES = [
    ("page past 64 bits", "page=" + str(2**64 + 1)),
    ("page of 5,000 digits", "page=" + "9" * 5000),
    ("negative page", "page=-" + str(2**70)),
    ("until the last day", "until=9999-12-31"),
    ("since the first day", "since=0001-01-01"),
    ("both ends of the calendar", "since=0001-01-01&until=9999-12-31&state=all"),
]


@pytest.mark.parametrize(
    "query", [q for _, q in ODD_QUEUE_QUERIES], ids=[i for i, _ in ODD_QUEUE_QUERIES]
)
def test_odd_queue_queries_give_a_normal_page(app, client, query):
    from server.services import accounts
    from tests.test_console import PASSWORD, login

    with app.app_context():
        accounts.create_user("rev", PASSWORD, "reviewer", districts=["006"])
    assert login(client, "rev").status_code == 302
    resp = client.get(f"/console/queue?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"


# Found by the fuzz run (tests/test_fuzz_api.py): an empty Upload-Checksum was refused as an
# unknown algorithm (400); an empty field carries no checksum, so it is treated as absent.
@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_an_empty_upload_checksum_is_no_checksum(client, value):
    from server.api.tus_headers import parse_checksum

    assert parse_checksum(value) is None
    api = Api.register(client)
    resp = client.patch(
        "/api/v1/uploads/" + "0" * 32,
        data=b"x",
        headers={
            **api.auth,
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Upload-Checksum": value,
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert resp.status_code == 404, resp.get_data(as_text=True)
    assert resp.get_json()["code"] == "upload_not_found"
