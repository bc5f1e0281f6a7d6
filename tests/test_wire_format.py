"""One wire format: every JSON response is its documented marshmallow schema, key for key.

Each documented JSON response of the API (a status with a schema in the view's
``@operation``) is produced here by a real request, and its keys, nested ones included,
must equal the schema's fields. A field added only to a view's data fails the dump
(``OutSchema`` refuses undeclared keys); a field added only to a schema is missing from
the response and fails here. A new documented JSON response without an example here
fails too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema
from marshmallow import fields as mf
from werkzeug.test import TestResponse

from server import sniff
from server.api.openapi import operations
from server.exif import ExifData
from server.extensions import db
from server.models import Report
from server.services import accounts
from server.services.status import set_status
from sync import schemas
from sync.content_types import ACCEPTED_CONTENT_TYPES
from tests.factories import Api, MediaFile, photo, report_body

PASSWORD = "correct horse battery staple"
FCM = "https://fcm.googleapis.com/fcm/send/"


def push_subscription(endpoint: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}


@dataclass
class World:
    """A device with one report whose evidence (a photo with EXIF) has arrived."""

    app: Flask
    client: FlaskClient
    api: Api
    report_id: str
    body: dict[str, Any]
    media: MediaFile


def _officer_login(w: World) -> TestResponse:
    with w.app.app_context():
        accounts.create_user("officer9", PASSWORD, "officer", display_name="Officer Nine")
    login = {"username": "officer9", "password": PASSWORD}
    return w.client.post("/api/v1/officers/login", json=login)


def _changes(w: World) -> TestResponse:
    with w.app.app_context():
        report = db.session.get(Report, w.report_id)
        set_status(report, "rejected", reason_code="not_a_violation", public_note="Xe được phép")
        db.session.commit()
    return w.client.get("/api/v1/changes", headers=w.api.auth)


def _put_report_again(w: World) -> TestResponse:
    return w.api.put_report(w.report_id, w.body)


def _put_report_new(w: World) -> TestResponse:
    return w.api.put_report(str(uuid.uuid4()), report_body())


def _put_media_new(w: World) -> TestResponse:
    media = photo(lat=21.03)
    rid = str(uuid.uuid4())
    assert w.api.put_report(rid, report_body([media])).status_code == 201
    return w.api.put_media(rid, media)


def _put_media_again(w: World) -> TestResponse:
    return w.api.put_media(w.report_id, w.media)


def _subscribe(w: World, endpoint: str) -> TestResponse:
    body = push_subscription(endpoint)
    return w.client.put("/api/v1/push/subscription", json=body, headers=w.api.auth)


def _subscribe_again(w: World) -> TestResponse:
    assert _subscribe(w, FCM + "again").status_code == 201
    return _subscribe(w, FCM + "again")


def _put_key(w: World) -> TestResponse:
    from cryptography.hazmat.primitives.asymmetric import ec

    from sync.seal import public_spki

    spki = public_spki(ec.generate_private_key(ec.SECP256R1()))
    return w.client.put("/api/v1/devices/key", json={"spki": spki}, headers=w.api.auth)


def _put_key_again(w: World) -> TestResponse:
    resp = _put_key(w)
    assert resp.status_code == 201
    return w.client.put(
        "/api/v1/devices/key", json={"spki": _spki_of(w, resp)}, headers=w.api.auth
    )


def _spki_of(w: World, resp: TestResponse) -> str:
    from server.models import DeviceKey

    with w.app.app_context():
        return db.session.get(DeviceKey, resp.get_json()["device_id"]).public_key


def _ask_info(w: World) -> None:
    """A reviewer asks the report's reporter for more (``needs_info``)."""
    from server.models import Case
    from server.services import review

    with w.app.app_context():
        report = db.session.get(Report, w.report_id)
        user = accounts.create_user(
            f"rev_{uuid.uuid4().hex[:8]}", "correct horse battery", "admin"
        )
        review.decide(
            user, db.session.get(Case, report.case_id), "needs_info", reason_code="need_video"
        )


def _put_answer(w: World, answer_id: str) -> TestResponse:
    return w.client.put(
        f"/api/v1/reports/{w.report_id}/answers/{answer_id}",
        json={"text": "Xe đỗ từ 8 giờ"},
        headers=w.api.auth,
    )


def _answer_new(w: World) -> TestResponse:
    _ask_info(w)
    return _put_answer(w, str(uuid.uuid4()))


def _answer_again(w: World) -> TestResponse:
    _ask_info(w)
    answer_id = str(uuid.uuid4())
    assert _put_answer(w, answer_id).status_code == 201
    return _put_answer(w, answer_id)


# (method, OpenAPI path, status) -> a request answered with that status.
EXAMPLES: dict[tuple[str, str, int], Callable[[World], TestResponse]] = {
    ("post", "/api/v1/devices", 201): lambda w: w.client.post("/api/v1/devices"),
    ("post", "/api/v1/officers/login", 201): _officer_login,
    ("put", "/api/v1/devices/key", 201): _put_key,
    ("put", "/api/v1/devices/key", 200): _put_key_again,
    ("put", "/api/v1/reports/{report_id}", 201): _put_report_new,
    ("put", "/api/v1/reports/{report_id}", 200): _put_report_again,
    ("get", "/api/v1/reports/{report_id}", 200): lambda w: w.api.get_report(w.report_id),
    ("put", "/api/v1/reports/{report_id}/media/{media_id}", 201): _put_media_new,
    ("put", "/api/v1/reports/{report_id}/media/{media_id}", 200): _put_media_again,
    ("get", "/api/v1/changes", 200): _changes,
    ("get", "/api/v1/violations", 200): lambda w: w.client.get("/api/v1/violations"),
    ("get", "/api/v1/places", 200): lambda w: w.client.get("/api/v1/places"),
    ("get", "/api/v1/places/{province_code}", 200): (
        lambda w: w.client.get("/api/v1/places/01")
    ),
    ("put", "/api/v1/reports/{report_id}/answers/{answer_id}", 201): _answer_new,
    ("put", "/api/v1/reports/{report_id}/answers/{answer_id}", 200): _answer_again,
    ("get", "/api/v1/push/vapid-public-key", 200): (
        lambda w: w.client.get("/api/v1/push/vapid-public-key")
    ),
    ("put", "/api/v1/push/subscription", 201): lambda w: _subscribe(w, FCM + "new"),
    ("put", "/api/v1/push/subscription", 200): _subscribe_again,
}


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    api = Api.register(client)
    media = photo()
    report_id, body = str(uuid.uuid4()), report_body([media])
    assert api.put_report(report_id, body).status_code == 201
    assert api.put_media(report_id, media).status_code == 201
    return World(app, client, api, report_id, body, media)


def json_responses(app: Flask) -> dict[tuple[str, str, int], type[Schema]]:
    """Every documented JSON response: (method, path, status) -> its schema."""
    found = {}
    for path, method, op in operations(app):
        for status, reply in (op.responses if op else {}).items():
            if reply.schema is not None:
                found[(method, path, status)] = reply.schema
    return found


def _nested(field: mf.Field) -> tuple[Schema | None, bool]:
    """The schema a field nests (and whether it holds a list of them)."""
    if isinstance(field, mf.Nested):
        return field.schema, bool(field.many)
    if isinstance(field, mf.List) and isinstance(field.inner, mf.Nested):
        return field.inner.schema, True
    return None, False


def key_mismatches(data: Any, schema: Schema, where: str = "") -> list[str]:
    """Where the keys of ``data`` differ from the schema's fields, nested schemas included."""
    if not isinstance(data, dict):
        return [f"{where or '/'}: not an object"]
    wanted = set(schema.dump_fields)
    if set(data) != wanted:
        return [f"{where or '/'}: extra {sorted(set(data) - wanted)} missing "
                f"{sorted(wanted - set(data))}"]
    out = []
    for name, field in schema.dump_fields.items():
        inner, many = _nested(field)
        value = data[name]
        if inner is None or value is None:
            continue
        for i, item in enumerate(value if many else [value]):
            out += key_mismatches(item, inner, f"{where}/{name}" + (f"[{i}]" if many else ""))
    return out


def test_every_documented_json_response_has_an_example(app: Flask) -> None:
    assert set(json_responses(app)) == set(EXAMPLES)


@pytest.mark.parametrize("key", list(EXAMPLES), ids=lambda k: f"{k[0]} {k[1]} {k[2]}")
def test_response_keys_equal_the_documented_schema_fields(world: World, key) -> None:
    resp = EXAMPLES[key](world)
    assert resp.status_code == key[2], resp.get_data(as_text=True)
    schema = json_responses(world.app)[key]()
    assert key_mismatches(resp.get_json(), schema) == []


def test_a_report_response_reaches_every_nested_schema(world: World) -> None:
    """The report example is not vacuous: district, location and EXIF are objects."""
    view = world.api.get_report(world.report_id).get_json()
    assert view["district"] and view["location"] and view["evidence"][0]["exif"]


def test_dumping_a_key_the_schema_lacks_is_an_error() -> None:
    with pytest.raises(ValueError, match="new_field"):
        schemas.DeviceOutSchema().dump({"device_id": "d", "token": "t", "new_field": 1})
    with pytest.raises(ValueError, match="new_field"):
        schemas.ChangesSchema().dump(
            {"changes": [{"cursor": "1", "new_field": 1}], "next": "1", "has_more": False}
        )


def test_exif_schema_is_what_the_server_stores() -> None:
    assert set(schemas.ExifSchema().fields) == {f.name for f in fields(ExifData)}


def test_one_list_of_accepted_content_types() -> None:
    assert schemas.CONTENT_TYPES is ACCEPTED_CONTENT_TYPES
    assert sniff.ALLOWED_TYPES is ACCEPTED_CONTENT_TYPES
    assert set(sniff._FAMILY) == set(ACCEPTED_CONTENT_TYPES)
