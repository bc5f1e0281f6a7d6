"""What only a bucket can show (a real SeaweedFS, tests/seaweed.py): an upload begun on
one node and finished on another, the upload lock held across nodes, the console
streaming evidence from the bucket, and the sweep clearing the bucket.

The storage and tus tests run on both stores (tests/test_storage.py, tests/test_tus.py);
these are the bucket's own.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from server import create_app
from server.extensions import db
from server.models import utcnow
from server.services.upload_expiry import expire
from server.settings import settings_of
from tests.conftest import _test_config
from tests.factories import Api
from tests.test_console import build_world, session_for
from tests.test_tus import (
    KIB,
    Tus,
    big_photo,
    declare,
    expire_now,
    holding_lock,
    offset_of,
    partial_files,
    received,
    store_of,
    stored_blobs,
    stored_bytes,
    upload_rows,
)

pytestmark = pytest.mark.usefixtures("storage")


@pytest.fixture
def storage() -> str:
    """Every test here stores evidence in a bucket."""
    return "s3"


@pytest.fixture
def api(client) -> Api:
    return Api.register(client)


@pytest.fixture
def tus(api: Api) -> Tus:
    return Tus(api)


@pytest.fixture
def node_b(app: Flask, tmp_path: Path):
    """A second app node: the same database and bucket, a local folder of its own."""
    s = settings_of(app)
    config = {
        **_test_config(s.database_url, tmp_path / "node-b"),
        "STORAGE_URL": s.storage_url,
        "S3_ENDPOINT_URL": s.s3_endpoint_url,
        "S3_ACCESS_KEY_ID": s.s3_access_key_id,
        "S3_SECRET_ACCESS_KEY": s.s3_secret_access_key,
        "S3_REGION": s.s3_region,
    }
    other = create_app(config)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_an_upload_cut_on_one_node_is_resumed_and_finished_on_another(app, api, node_b):
    media = big_photo(size=900 * KIB, seed=31)
    rid = declare(api, media)
    on_a = Tus(api)
    on_b = Tus(type(api)(node_b.test_client(), api.device_id, api.token))
    url = on_a.create(rid, media).headers["Location"]
    assert on_a.patch(url, 0, media.data[: 300 * KIB]).status_code == 204

    assert offset_of(on_b.head(url)) == 300 * KIB  # node B reads the bucket, not A's disk
    done = on_b.patch(url, 300 * KIB, media.data[300 * KIB :])
    assert done.status_code == 204, done.get_data(as_text=True)
    assert received(app, media)
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    assert stored_blobs(app) == [media.decl["sha256"]]
    assert partial_files(app) == []
    # Neither node keeps a local copy.
    for node in (app, node_b):
        assert list((Path(settings_of(node).media_root) / "tmp").iterdir()) == []


def test_the_upload_lock_holds_across_nodes_on_postgresql(app, api, node_b, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("several nodes share PostgreSQL (SQLite's lock file is one machine's)")
    media = big_photo(size=300 * KIB, seed=33)
    rid = declare(api, media)
    url = Tus(api).create(rid, media).headers["Location"]
    on_b = Tus(type(api)(node_b.test_client(), api.device_id, api.token))
    with holding_lock(app, url):  # node A is writing it
        assert on_b.patch(url, 0, media.data).status_code == 423
        assert on_b.head(url).status_code == 423
    assert on_b.patch(url, 0, media.data).status_code == 204
    assert received(app, media)


def test_the_console_streams_evidence_from_the_bucket(app, client):
    world = build_world(app, client)
    c = session_for(app, "rev_a")
    whole = c.get(f"/console/media/{world.media['a1']}")
    assert whole.status_code == 200
    assert whole.mimetype == "image/jpeg" and whole.data[:2] == b"\xff\xd8"
    assert whole.headers["Accept-Ranges"] == "bytes"  # streamed from S3 in pieces
    assert whole.headers["Content-Length"] == str(len(whole.data))
    assert "no-store" in whole.headers["Cache-Control"]
    part = c.get(f"/console/media/{world.media['a1']}", headers={"Range": "bytes=2-9"})
    assert part.status_code == 206
    assert part.data == whole.data[2:10]
    assert part.headers["Content-Range"] == f"bytes 2-9/{len(whole.data)}"


def test_the_sweep_clears_expired_uploads_orphans_and_open_multipart_uploads(app, tus):
    old, live, done = (big_photo(size=200 * KIB, seed=s) for s in (41, 42, 43))
    rid = declare(tus.api, old, live, done)
    old_url = tus.create(rid, old).headers["Location"]
    tus.patch(old_url, 0, old.data[: 100 * KIB])
    live_url = tus.create(rid, live).headers["Location"]
    tus.patch(live_url, 0, live.data[: 100 * KIB])
    done_url = tus.create(rid, done).headers["Location"]
    assert tus.patch(done_url, 0, done.data).status_code == 204
    expire_now(app, old_url, done_url)  # a completed upload never expires
    store = store_of(app)
    orphan = "f" * 32  # objects of an upload without a row (a crash between the two)
    store.create_partial(orphan)
    multipart = store.client.create_multipart_upload(Bucket=store.bucket, Key=store.prefix + "x")

    with app.app_context():
        result = expire()
    assert result.expired_uploads == 1
    assert tus.head(old_url).status_code == 404
    assert sorted(partial_files(app)) == sorted([live_url.rsplit("/", 1)[1], orphan])
    assert offset_of(tus.head(live_url)) == 100 * KIB

    # Past the expiry period: the orphan's objects and the open multipart upload go.
    with app.app_context():
        later = utcnow() + timedelta(hours=settings_of(app).upload_expiry_hours + 1)
        result = expire(now=later)
    assert result.orphan_partials >= 2
    assert orphan not in partial_files(app)
    open_uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert multipart["UploadId"] not in {u["UploadId"] for u in open_uploads}
    # Evidence is never touched.
    assert received(app, done)
    assert stored_bytes(app, done.decl["sha256"]) == done.data
    assert {r.id for r in upload_rows(app) if r.completed_at} == {done_url.rsplit("/", 1)[1]}


def test_an_unreachable_bucket_is_a_503_to_retry_and_the_upload_succeeds_after(
    app, api, tmp_path
) -> None:
    """The object store down (here: a node pointed at a closed port) is a temporary
    condition: 503 problem+json with Retry-After, never a 500; the phone's next try,
    once the store is back, finishes the upload."""
    from tests.faults.server import free_port

    s = settings_of(app)
    down = create_app(
        {
            **_test_config(s.database_url, tmp_path / "down"),
            "STORAGE_URL": s.storage_url,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "S3_ACCESS_KEY_ID": s.s3_access_key_id,
            "S3_SECRET_ACCESS_KEY": s.s3_secret_access_key,
            "S3_REGION": s.s3_region,
        }
    )
    try:
        media = big_photo(40 * KIB)
        rid = declare(api, media)
        client = down.test_client()
        resp = client.put(
            f"/api/v1/reports/{rid}/media/{media.media_id}",
            data=media.data,
            headers={**api.auth, "Content-Type": "image/jpeg"},
        )
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.mimetype == "application/problem+json"
        assert resp.headers["Retry-After"] == "30"
        assert resp.get_json()["code"] == "service_unavailable"
        assert received(app, media) is False
        # The store is back (the other node): the same request now succeeds.
        again = api.put_media(rid, media)
        assert again.status_code == 201
        assert received(app, media) is True
    finally:
        with down.app_context():
            db.session.remove()
            db.engine.dispose()
