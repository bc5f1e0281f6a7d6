"""The informant's identity: encrypted at rest, never in a response, an error or a log."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from server.extensions import db
from server.identity import decrypt_identity
from server.models import Report
from server.settings import override, settings_of
from tests.factories import (
    SECRET_NAME,
    SECRET_NATIONAL_ID,
    SECRET_PHONE,
    Api,
    photo,
    report_body,
)

SECRETS = (SECRET_NAME, SECRET_NATIONAL_ID, SECRET_PHONE)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    # Also the ASCII-escaped form JSON may use for the Vietnamese name.
    assert SECRET_NAME.encode("unicode_escape").decode() not in text


def dump_database(app) -> str:
    """Every value of every row of every table, as text."""
    out = []
    with app.app_context():
        meta = sa.MetaData()
        meta.reflect(bind=db.engine)
        with db.engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(table.select()):
                    out.extend(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(out)


def test_identity_is_encrypted_at_rest_and_the_key_is_not_in_the_database(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    media = photo()
    api.put_report(rid, report_body([media]))
    api.put_media(rid, media)
    dump = dump_database(app)
    assert_no_secret(dump)
    assert settings_of(app).identity_key not in dump
    with app.app_context():
        report = db.session.get(Report, rid)
        assert decrypt_identity(report.identity_ciphertext) == {
            "name": SECRET_NAME,
            "national_id": SECRET_NATIONAL_ID,
            "phone": SECRET_PHONE,
        }


def test_an_anonymous_report_stores_no_identity(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    resp = api.put_report(rid, report_body(reporter={"kind": "citizen"}))
    assert resp.get_json()["named_report"] is False
    with app.app_context():
        assert db.session.get(Report, rid).identity_ciphertext is None


def test_no_api_response_or_log_line_contains_the_identity(app, client, caplog):
    """Every kind of response the API gives in a report's life, errors included."""
    caplog.set_level(logging.DEBUG)
    api = Api.register(client)
    rid = str(uuid.uuid4())
    media = photo()
    body = report_body([media])
    bad_id = report_body([photo()])
    bad_id["reporter"]["national_id"] = SECRET_NATIONAL_ID + "9"
    bad_phone = report_body([photo()])
    bad_phone["reporter"]["phone"] = SECRET_PHONE + "x"
    responses = [
        api.put_report(rid, body),
        api.put_report(rid, body),
        api.put_report(rid, report_body([media], note="changed")),  # 409
        api.put_report(str(uuid.uuid4()), bad_id),  # 422 naming the field, not the value
        api.put_report(str(uuid.uuid4()), bad_phone),
        api.get_report(rid),
        api.put_media(rid, media),
        api.client.get("/api/v1/changes", headers=api.auth),
        api.client.get("/api/v1/openapi.json"),
    ]
    assert [r.status_code for r in responses][:5] == [201, 200, 409, 422, 422]
    for resp in responses:
        assert_no_secret(resp.get_data(as_text=True))
        assert_no_secret(str(dict(resp.headers)))
    assert_no_secret(caplog.text)


def test_a_server_error_while_storing_does_not_leak_the_identity(app, client, caplog, monkeypatch):
    from server.services import reports

    def explode(identity):
        raise RuntimeError("encryption backend unavailable")

    monkeypatch.setattr(reports, "encrypt_identity", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    api = Api.register(client)
    resp = api.put_report(str(uuid.uuid4()), report_body())
    assert resp.status_code == 500
    assert resp.get_json()["code"] == "internal_error"
    assert_no_secret(resp.get_data(as_text=True))
    assert_no_secret(caplog.text)
    assert "encryption backend unavailable" in caplog.text  # the error itself is logged


def test_rotated_keys_still_decrypt_old_records(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    old_key = settings_of(app).identity_key
    override(app, IDENTITY_KEY=f"{Fernet.generate_key().decode()},{old_key}")
    with app.app_context():
        report = db.session.get(Report, rid)
        assert decrypt_identity(report.identity_ciphertext)["name"] == SECRET_NAME


def test_a_wrong_key_fails_without_revealing_anything(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    override(app, IDENTITY_KEY=Fernet.generate_key().decode())
    with app.app_context():
        report = db.session.get(Report, rid)
        with pytest.raises(RuntimeError) as err:
            decrypt_identity(report.identity_ciphertext)
    assert_no_secret(str(err.value))
