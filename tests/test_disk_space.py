"""A full disk is told, not crashed on (issue 28): /readyz and doctor check the free
space of MEDIA_ROOT (MEDIA_MIN_FREE_MB), and spool files left by a killed process are
swept when a worker starts."""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from server import create_app
from server.services.evidence import media_store
from server.settings import override
from tests.conftest import _test_config

ROOT = Path(__file__).resolve().parents[1]
# More free space than any test machine has: the disk counts as full.
MORE_THAN_ANY_DISK_MB = 1024**4


@pytest.mark.usefixtures("storage")
def test_readyz_is_not_ready_when_media_root_has_less_than_the_minimum_free(app):
    client = app.test_client()
    assert client.get("/readyz").get_json()["disk"] == "ok"
    override(app, MEDIA_MIN_FREE_MB=MORE_THAN_ANY_DISK_MB)
    resp = client.get("/readyz", headers={"Accept-Language": "en"})
    assert resp.status_code == 503
    assert resp.headers["Retry-After"].isdigit()
    body = resp.get_json()
    assert body["down"] == ["disk"]
    assert body["database"] == "ok" and body["storage"] == "ok"
    assert "free space" in body["title"]
    assert str(app.extensions["settings"].media_root) not in resp.get_data(as_text=True)


def test_a_minimum_of_zero_turns_the_disk_check_off(db_url, tmp_path: Path):
    app = create_app({**_test_config(db_url, tmp_path), "MEDIA_MIN_FREE_MB": 0})
    assert app.test_client().get("/readyz").get_json()["disk"] == "ok"


@pytest.mark.parametrize(("minimum", "exit_code"), [(1, 0), (MORE_THAN_ANY_DISK_MB, 1)])
def test_doctor_errs_on_a_full_media_root(db_url, tmp_path: Path, minimum, exit_code):
    app = create_app({**_test_config(db_url, tmp_path), "MEDIA_MIN_FREE_MB": minimum})
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == exit_code, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ERROR")]
    full = [line for line in errors if "MEDIA_MIN_FREE_MB:" in line]
    assert bool(full) == (exit_code == 1), result.output
    if not full:
        assert any("MiB free" in line for line in result.output.splitlines())


@pytest.mark.usefixtures("storage")
def test_a_worker_start_sweeps_spool_left_by_a_killed_process(app):
    """gunicorn.conf.py's post_worker_init removes spool files nobody wrote for a while
    (a request that died with its worker) and keeps a live request's."""
    with app.app_context():
        tmp = media_store().tmp_dir
    left = tmp / "up-0123456789abcdef0123456789abcdef-dead"
    left.write_bytes(b"x" * 1000)
    an_hour_ago = time.time() - 3600
    os.utime(left, (an_hour_ago, an_hour_ago))
    live = tmp / "in-live"
    live.write_bytes(b"being written")

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    conf["post_worker_init"](SimpleNamespace(wsgi=app))

    assert not left.exists()
    assert live.exists()
