"""The sync client seals what it queues (issue 16, item 1; PROTOCOL §3.2a).

The outbox makes its key file on first use (``<outbox>.key.pem``, readable by its owner
only), seals each report when it is queued, and registers the public key with its
device before sending; the server finds every seal valid. A lost key file is never
silently accepted: the new key's reports are flagged ``signature_invalid``.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import DeviceKey, Report
from sync.client import Outbox
from sync.client.__main__ import main
from tests.test_sync_client import dashcam_folder, push_args

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _seals(app) -> list[tuple[str | None, list[str]]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(Report.signature_status, Report.flags).order_by(Report.received_at)
        ).all()
    return [(status, list(flags)) for status, flags in rows]


def test_the_client_seals_each_report_and_registers_its_key_once(
    app, live_server, tmp_path: Path
) -> None:
    outbox_path = tmp_path / "o.sqlite3"
    folder = dashcam_folder(tmp_path, n=2)
    assert main(push_args(folder, live_server, outbox_path)) == 0
    key_file = tmp_path / "o.sqlite3.key.pem"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    seals = _seals(app)
    assert [s for s, _ in seals] == ["valid", "valid"]
    assert all("unsigned" not in f and "signature_invalid" not in f for _, f in seals)
    outbox = Outbox(outbox_path)
    body = json.loads(outbox.reports()[0]["body"])
    manifest = json.loads(body["signature"]["manifest"])
    assert manifest["report_id"] == outbox.reports()[0]["report_id"]
    assert manifest["app_version"] == "roadwatch-sync/1"
    assert main(push_args(folder, live_server, outbox_path)) == 0  # a rerun: nothing new
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceKey)) == 1


def test_a_lost_key_file_makes_a_new_key_whose_reports_are_flagged(
    app, live_server, tmp_path: Path, capsys
) -> None:
    outbox_path = tmp_path / "o.sqlite3"
    first = dashcam_folder(tmp_path, n=1)
    assert main(push_args(first, live_server, outbox_path)) == 0
    (tmp_path / "o.sqlite3.key.pem").unlink()
    Outbox(outbox_path).set("key_device_id", "")  # as if the key was never registered
    second = tmp_path / "more"
    second.mkdir()
    (second / "b.jpg").write_bytes((first / "IMG_0000.jpg").read_bytes() + b"\0")
    main([*push_args(second, live_server, outbox_path)])
    assert "holds another signing key" in capsys.readouterr().out
    assert [s for s, _ in _seals(app)] == ["valid", "invalid"]
    assert "signature_invalid" in _seals(app)[1][1]
