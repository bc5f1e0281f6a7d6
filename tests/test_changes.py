"""The change feed: in order, never missing or repeating a change, only the device's own."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Report
from server.services.status import _FEED_LOCK, set_status
from tests.factories import Api, photo, report_body


def poll_all(api: Api, since: str | None = None, limit: int = 100) -> tuple[list[dict], str]:
    """Follow the feed to its end, as a phone does."""
    seen: list[dict] = []
    cursor = since
    while True:
        query = f"?limit={limit}" + (f"&since={cursor}" if cursor else "")
        body = api.client.get(f"/api/v1/changes{query}", headers=api.auth).get_json()
        seen.extend(body["changes"])
        cursor = body["next"]
        if not body["has_more"]:
            return seen, cursor


def test_a_new_device_has_no_changes(client):
    api = Api.register(client)
    resp = client.get("/api/v1/changes", headers=api.auth)
    assert resp.status_code == 200
    assert resp.get_json() == {"changes": [], "next": "0", "has_more": False}
    assert resp.headers["Cache-Control"] == "no-store"


def test_feed_follows_a_report_from_registration_to_submission(client):
    api = Api.register(client)
    rid, media = str(uuid.uuid4()), photo()
    api.put_report(rid, report_body([media]))
    first, cursor = poll_all(api)
    assert [(c["report_id"], c["status"]) for c in first] == [(rid, "awaiting_evidence")]
    api.put_media(rid, media)
    second, cursor2 = poll_all(api, cursor)
    assert [c["status"] for c in second] == ["submitted"]
    assert poll_all(api, cursor2)[0] == []


def test_another_devices_changes_are_not_shown(client):
    mine, theirs = Api.register(client), Api.register(client)
    theirs.put_report(str(uuid.uuid4()), report_body())
    assert poll_all(mine)[0] == []


def test_paging_returns_every_change_once_in_order(app, client):
    api = Api.register(client)
    for _ in range(7):
        api.put_report(str(uuid.uuid4()), report_body())
    paged, _ = poll_all(api, limit=2)
    whole, _ = poll_all(api, limit=500)
    assert paged == whole
    cursors = [int(c["cursor"]) for c in paged]
    assert cursors == sorted(set(cursors)) and len(cursors) == 7


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten"])
def test_limit_out_of_range_is_a_problem(client, limit):
    api = Api.register(client)
    resp = client.get(f"/api/v1/changes?limit={limit}", headers=api.auth)
    assert resp.status_code == 422
    assert resp.get_json()["code"] == "validation_failed"


def test_feed_needs_a_device_token(client):
    assert client.get("/api/v1/changes").status_code == 401


def test_an_uncommitted_status_change_blocks_other_writers_so_none_is_skipped(app, client):
    """While a status event is uncommitted, no other event can take a later cursor and
    commit first: the feed can never show seq N+1 while N is still to come."""
    api = Api.register(client)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body())
    _, cursor = poll_all(api)
    with app.app_context():
        set_status(db.session.get(Report, rid), "needs_info", public_note="Thêm ảnh biển số")
        db.session.flush()  # the event row exists, uncommitted
        url = db.engine.url
        if url.get_backend_name() == "postgresql":
            other = sa.create_engine(url)
            with other.connect() as conn:
                got = conn.execute(
                    sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _FEED_LOCK}
                )
                assert got.scalar() is False
            other.dispose()
            # Not visible to the device until committed (polled from another thread, so
            # from another session; on SQLite a poller would simply wait for the lock).
            with ThreadPoolExecutor(max_workers=1) as pool:
                assert pool.submit(poll_all, api, cursor).result()[0] == []
        else:
            conn = sqlite3.connect(url.database, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                conn.execute("BEGIN IMMEDIATE")
            conn.close()
        db.session.commit()
    changes, _ = poll_all(api, cursor)
    assert [(c["status"], c["public_note"]) for c in changes] == [
        ("needs_info", "Thêm ảnh biển số")
    ]


def test_polling_while_changes_commit_concurrently_misses_and_repeats_nothing(app):
    """Eight writers register reports while a poller follows the feed; at the end the
    poller has seen every change exactly once, in cursor order."""
    api = Api.register(app.test_client())
    done = threading.Event()
    seen: list[dict] = []

    def poller() -> None:
        cursor = None
        client = app.test_client()
        while True:
            finished = done.is_set()
            q = "?limit=3" + (f"&since={cursor}" if cursor else "")
            body = client.get(f"/api/v1/changes{q}", headers=api.auth).get_json()
            seen.extend(body["changes"])
            cursor = body["next"]
            if finished and not body["has_more"]:
                return

    def writer(i: int) -> None:
        client = app.test_client()
        for _ in range(5):
            client.put(f"/api/v1/reports/{uuid.uuid4()}", json=report_body(), headers=api.auth)

    poll_thread = threading.Thread(target=poller)
    poll_thread.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))
    done.set()
    poll_thread.join(timeout=120)
    cursors = [int(c["cursor"]) for c in seen]
    assert len(cursors) == 40
    assert cursors == sorted(cursors) and len(set(cursors)) == 40
