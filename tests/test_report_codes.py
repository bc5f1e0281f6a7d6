"""Short report codes (issue 14, item 5): 8 unambiguous characters, unique per server,
assigned when the report is stored, in the report's JSON, and backfilled by 0013."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.services import report_codes
from tests.factories import Api, report_body

CODE = re.compile(r"^[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$")


def test_alphabet_is_crockford_without_ambiguous_letters():
    assert len(report_codes.ALPHABET) == 32
    assert len(set(report_codes.ALPHABET)) == 32
    assert not set("ILOU") & set(report_codes.ALPHABET)
    for _ in range(200):
        assert CODE.match(report_codes.new_code())


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("7kq2m9xd", "7KQ2M9XD"),
        ("7KQ2-M9XD", "7KQ2M9XD"),
        (" 7kq2 m9xd ", "7KQ2M9XD"),
        ("O1L2I3U4", "01121 3V4".replace(" ", "")),
        ("7KQ2M9X", None),
        ("7KQ2M9XD1", None),
        ("7KQ2M9X*", None),
        ("", None),
    ],
)
def test_typed_code_is_normalized(typed, code):
    assert report_codes.normalize_code(typed) == code


def _put(api: Api, **overrides):
    rid = str(uuid.uuid4())
    resp = api.put_report(rid, report_body(**overrides))
    assert resp.status_code == 201, resp.get_json()
    return rid, resp.get_json()


def test_report_json_carries_its_code_and_get_returns_the_same(app, client):
    api = Api.register(client)
    rid, body = _put(api)
    assert CODE.match(body["report_code"])
    assert api.get_report(rid).get_json()["report_code"] == body["report_code"]
    # A retry of the same body keeps the code the report was stored with.
    again = api.put_report(rid, report_body(media=None))
    assert again.status_code in (200, 409)
    with app.app_context():
        assert db.session.get(Report, rid).code == body["report_code"]


def test_report_json_names_times_and_unit_fields(client):
    api = Api.register(client)
    _, body = _put(api)
    assert body["captured_at"].startswith("2026-11-20T08:15:30")
    assert body["received_at"]
    assert "police_unit" in body  # null or {code, name}
    if body["police_unit"] is not None:
        assert set(body["police_unit"]) == {"code", "name"}


def test_codes_differ_between_reports(client):
    api = Api.register(client)
    codes = {_put(api)[1]["report_code"] for _ in range(12)}
    assert len(codes) == 12


def test_database_refuses_a_second_report_with_the_same_code(app, client):
    api = Api.register(client)
    rid, _ = _put(api)
    rid2, _ = _put(api)
    with app.app_context():
        code = db.session.get(Report, rid).code
        with pytest.raises(sa.exc.IntegrityError) as err:
            db.session.execute(sa.update(Report).where(Report.id == rid2).values(code=code))
            db.session.flush()
        assert report_codes.is_code_collision(err.value)
        db.session.rollback()


def test_a_code_already_taken_is_drawn_again(app, client, monkeypatch):
    api = Api.register(client)
    _, first = _put(api)
    taken = first["report_code"]
    draws = iter([taken, taken, "ZZZZ9999"])
    monkeypatch.setattr(report_codes, "new_code", lambda: next(draws))
    rid, second = _put(api)
    assert second["report_code"] == "ZZZZ9999"
    with app.app_context():
        assert db.session.get(Report, rid).code == "ZZZZ9999"
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
        assert total == 2  # nothing half-written by the attempts that collided


def test_a_code_that_keeps_colliding_gives_up(client, monkeypatch):
    api = Api.register(client)
    _, first = _put(api)
    monkeypatch.setattr(report_codes, "new_code", lambda: first["report_code"])
    rid = str(uuid.uuid4())
    # Never in practice (5 draws in a row among 32**8 codes): the phone retries later.
    assert api.put_report(rid, report_body()).status_code == 500
    assert api.get_report(rid).status_code == 404


def test_migration_0013_backfills_codes_of_existing_reports(app, client):
    from flask_migrate import downgrade, upgrade

    api = Api.register(client)
    ids = [_put(api)[0] for _ in range(3)]
    with app.app_context():
        db.session.remove()
        downgrade(revision="0012")
        upgrade(revision="0013")
        db.session.remove()
        codes = dict(db.session.execute(sa.select(Report.id, Report.code)).all())
    assert set(codes) == set(ids)
    assert all(CODE.match(c) for c in codes.values())
    assert len(set(codes.values())) == 3
