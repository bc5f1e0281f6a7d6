"""/healthz (liveness: the process answers) and /readyz (readiness: the database and
the evidence store answer), as load balancers use them (server/health.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server import create_app
from tests.conftest import _test_config


@pytest.mark.usefixtures("storage")
def test_ready_when_the_database_and_the_store_answer(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"database": "ok", "storage": "ok", "disk": "ok"}
    assert resp.headers["Cache-Control"] == "no-store"


def test_liveness_answers_without_touching_the_database(tmp_path: Path):
    app = create_app({**_test_config("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)})
    client = app.test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok"}


@pytest.mark.parametrize(("lang", "title_word"), [("vi", "cơ sở dữ liệu"), ("en", "the database")])
def test_not_ready_when_the_database_is_down_names_it_without_secrets(
    tmp_path: Path, lang: str, title_word: str
):
    url = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/roadwatch_secret_db"
    app = create_app(_test_config(url, tmp_path))
    resp = app.test_client().get("/readyz", headers={"Accept-Language": lang})
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"].isdigit()
    body = resp.get_json()
    assert body["down"] == ["database"]
    assert body["database"] == "down" and body["storage"] == "ok"
    assert title_word in body["title"]
    assert set(body["message"]) == {"vi", "en"}
    text = resp.get_data(as_text=True)
    for secret in ("hunter2", "nobody", "roadwatch_secret_db", "127.0.0.1", "test-secret-key"):
        assert secret not in text


def test_not_ready_when_the_bucket_is_missing(db_url, tmp_path: Path, s3_server):
    config = {**_test_config(db_url, tmp_path), **s3_server.settings("no-such-bucket-rw")}
    app = create_app(config)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["down"] == ["storage"] and body["database"] == "ok"
    text = resp.get_data(as_text=True)
    assert "no-such-bucket-rw" not in text and s3_server.access_key not in text


def test_not_ready_when_the_evidence_folder_is_gone(app, client):
    assert client.get("/readyz").status_code == 200
    shutil.rmtree(app.extensions["settings"].media_root)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["down"] == ["storage"]
    assert app.extensions["settings"].media_root not in resp.get_data(as_text=True)


def test_an_unreachable_object_store_is_reported_quickly(db_url, tmp_path: Path, s3_server):
    import socket
    import time

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = {
        **s3_server.settings("roadwatch-test"),
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    app = create_app({**_test_config(db_url, tmp_path), **settings})
    start = time.monotonic()
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["down"] == ["storage"]
    assert time.monotonic() - start < 8  # one attempt, short timeouts: within a check timeout
