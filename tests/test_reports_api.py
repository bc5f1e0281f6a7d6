"""Report ingest: exactly once, whatever the retries; the device sees only its own."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from server.extensions import db
from server.models import Media, Report, StatusEvent
from tests.factories import Api, photo, report_body


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_register_device_returns_id_and_token(client):
    resp = client.post("/api/v1/devices")
    assert resp.status_code == 201
    body = resp.get_json()
    assert uuid.UUID(body["device_id"])
    assert len(body["token"]) >= 40


def test_first_put_creates_and_same_body_again_returns_same_report(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    body = report_body()
    first = api.put_report(rid, body)
    assert first.status_code == 201, first.get_json()
    again = api.put_report(rid, body)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert count(app, Report) == 1
    assert count(app, Media) == 1


def test_same_report_with_other_key_order_and_number_spelling_is_a_retry(client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    body = report_body()
    assert api.put_report(rid, body).status_code == 201
    reordered = dict(reversed(list(body.items())))
    reordered["location"] = {**body["location"], "accuracy_m": 8}  # 8 == 8.0
    assert api.put_report(rid, reordered).status_code == 200


def test_same_id_with_different_body_is_a_conflict(app, client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body()).status_code == 201
    resp = api.put_report(rid, report_body(note="changed after sending"))
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == "report_conflict"
    with app.app_context():
        assert db.session.get(Report, rid).note == "Đỗ trên vỉa hè trước số 12"


def test_twenty_concurrent_puts_store_one_row(app):
    """One 201 and nineteen 200 when 20 threads send the same report at once."""
    api = Api.register(app.test_client())
    rid = str(uuid.uuid4())
    body = report_body()
    barrier = threading.Barrier(20)

    def send(_: int) -> int:
        client = app.test_client()
        barrier.wait()
        return client.put(f"/api/v1/reports/{rid}", json=body, headers=api.auth).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = sorted(pool.map(send, range(20)))
    assert codes == [200] * 19 + [201]
    assert count(app, Report) == 1
    assert count(app, Media) == 1
    assert count(app, StatusEvent) == 1


def test_get_report_shows_stored_fields_and_normalised_plate(client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    media = photo()
    api.put_report(rid, report_body([media], plate="30a 123 45"))
    resp = api.get_report(rid)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["report_id"] == rid
    assert body["status"] == "awaiting_evidence"
    assert body["plate"] == "30a 123 45"
    assert body["plate_normalized"] == "30A-123.45"
    assert body["captured_at"] == "2026-11-20T08:15:30+07:00"
    assert body["named_report"] is True
    assert body["evidence"] == [
        {**media.decl, "received": False, "exif": None, "answer_id": None},
    ]
    assert body["answers"] == []  # no request for information answered (issue 26)
    assert isinstance(body["flags"], list)


def test_another_devices_report_is_not_found(client):
    owner, other = Api.register(client), Api.register(client)
    rid = str(uuid.uuid4())
    media = photo()
    owner.put_report(rid, report_body([media]))
    assert other.get_report(rid).status_code == 404
    assert other.get_report(rid).get_json()["code"] == "report_not_found"
    assert other.put_media(rid, media).status_code == 404
    # Claiming the id from another device is a conflict, not a takeover.
    assert other.put_report(rid, report_body([media])).status_code == 409


def test_media_id_of_another_report_cannot_be_reused(app, client):
    api = Api.register(client)
    media = photo()
    assert api.put_report(str(uuid.uuid4()), report_body([media])).status_code == 201
    resp = api.put_report(str(uuid.uuid4()), report_body([media]))
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "media_id_conflict"
    assert count(app, Report) == 1


def test_violation_catalogue_lists_codes_with_both_languages(client):
    resp = client.get("/api/v1/violations")
    assert resp.status_code == 200
    items = resp.get_json()["violations"]
    assert len(items) == 39
    red = next(v for v in items if v["code"] == "RED_LIGHT")
    assert red["name_vi"].startswith("Không chấp hành")
    assert "car" in red["vehicle_classes"]
    assert "168/2024" in red["legal_reference"]


def test_vehicle_class_that_does_not_fit_the_violation_is_flagged_not_rejected(client):
    api = Api.register(client)
    rid = str(uuid.uuid4())
    resp = api.put_report(rid, report_body(violation="NO_HELMET", vehicle_class="car"))
    assert resp.status_code == 201
    assert "vehicle_class_mismatch" in resp.get_json()["flags"]
