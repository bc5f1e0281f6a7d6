"""sync.client: push a folder, rerun without duplicates, resume an interrupted upload."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Media, Report
from server.models.accounts import OfficerDevice, User
from server.services import accounts
from server.settings import settings_of
from server.storage import MediaStore
from sync.client import Outbox, Pusher
from sync.client.__main__ import main
from sync.client.folder import Defaults, queue_folder
from sync.client.http import Backoff
from tests.faults.proxy import Fault, FaultProxy
from tests.media_factory import make_jpeg

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def dashcam_folder(tmp_path: Path, n: int = 3) -> Path:
    folder = tmp_path / "dashcam"
    folder.mkdir()
    for i in range(n):
        (folder / f"IMG_{i:04d}.jpg").write_bytes(
            make_jpeg(
                lat=10.7769 + i * 1e-4,
                lon=106.7009,
                taken_at="2026-11-20T07:30:00",
                size=(320, 240),
                seed=i,
            )
        )
    (folder / "notes.txt").write_text("not evidence")
    return folder


def push_args(folder: Path, server: str, outbox: Path | str) -> list[str]:
    """The client's command line: push ``folder`` to ``server``, red-light violations."""
    command = ["push", str(folder), "--server", server, "--outbox", str(outbox)]
    return [*command, "--violation", "RED_LIGHT"]


def stored(app) -> tuple[int, int]:
    with app.app_context():
        reports = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
        received = db.session.scalar(
            sa.select(sa.func.count()).select_from(Media).where(Media.received_at.is_not(None))
        )
    return reports, received


def test_push_folder_sends_each_photo_once_and_a_rerun_sends_nothing(
    app, live_server, tmp_path, capsys
):
    folder = dashcam_folder(tmp_path)
    args = push_args(folder, live_server, tmp_path / "o.sqlite3")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "queued 3 file(s)" in out and "100%" in out
    assert stored(app) == (3, 3)
    assert main(args) == 0  # interrupted or not, a rerun duplicates nothing
    assert stored(app) == (3, 3)
    store = MediaStore(settings_of(app).media_root)
    for path in sorted(folder.glob("*.jpg")):
        import hashlib

        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert store.blob_path(sha).read_bytes() == path.read_bytes()
    with app.app_context():
        sources = set(db.session.scalars(sa.select(Report.location_source)))
        kinds = set(db.session.scalars(sa.select(Report.reporter_kind)))
    assert sources == {"exif"}
    assert kinds == {"citizen"}  # without a login, a folder push is a citizen's


@pytest.fixture
def officer(app) -> str:
    with app.app_context():
        accounts.create_user(
            "tuan", "mật khẩu đủ dài", "officer", display_name="Trung úy Lê Văn Tuần"
        )
    return "tuan"


def test_an_officer_signs_the_outbox_in_and_the_folder_goes_under_their_name(
    app, live_server, tmp_path, capsys, monkeypatch, officer
):
    outbox = str(tmp_path / "o.sqlite3")
    monkeypatch.setenv("RW_PASSWORD", "wrong password")
    login = ["login", "--server", live_server, "--outbox", outbox, "--username", officer]
    assert main(login) == 4  # credentials refused (README's exit statuses)
    assert "invalid_credentials" in capsys.readouterr().err
    monkeypatch.setenv("RW_PASSWORD", "mật khẩu đủ dài")
    assert main(login) == 0
    folder = dashcam_folder(tmp_path, n=2)
    assert main(push_args(folder, live_server, outbox)) == 0
    with app.app_context():
        rows = db.session.execute(
            sa.select(Report.reporter_kind, User.display_name)
            .join(OfficerDevice, OfficerDevice.device_id == Report.device_id)
            .join(User, User.id == OfficerDevice.user_id)
        ).all()
    assert rows == [("officer", "Trung úy Lê Văn Tuần")] * 2


def test_signing_in_is_refused_while_reports_of_another_token_are_unsent(
    app, live_server, tmp_path, capsys, monkeypatch, officer
):
    outbox = Outbox(tmp_path / "o.sqlite3")
    queue_folder(outbox, dashcam_folder(tmp_path, n=1), Defaults(violation="RED_LIGHT"))
    Pusher.connect(outbox, live_server)  # registered as a citizen device, nothing sent yet
    monkeypatch.setenv("RW_PASSWORD", "mật khẩu đủ dài")
    login = ["login", "--server", live_server, "--outbox", str(tmp_path / "o.sqlite3")]
    assert main([*login, "--username", officer]) == 1
    assert "send the reports already queued" in capsys.readouterr().err
    assert outbox.get("username") is None


def test_a_file_without_position_is_skipped_unless_given_one(app, live_server, tmp_path, capsys):
    folder = tmp_path / "nogps"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(make_jpeg(size=(64, 48)))
    base = push_args(folder, live_server, tmp_path / "o.sqlite3")
    main(base)
    assert "no GPS position" in capsys.readouterr().out
    assert stored(app) == (0, 0)
    assert main([*base, "--lat", "21.03", "--lon", "105.85"]) == 0
    assert stored(app) == (1, 1)


def test_upload_cut_three_times_resumes_and_sends_little_more_than_the_file(
    app, live_server, tmp_path
):
    rng = random.Random(7)
    folder = tmp_path / "big"
    folder.mkdir()
    photo = make_jpeg(lat=21.0, lon=105.8, taken_at="2026-11-20T07:30:00", size=(64, 48))
    data = photo + rng.randbytes(3_000_000)  # a JPEG with trailing data: 3 MB
    (folder / "clip.jpg").write_bytes(data)
    proxy = FaultProxy(int(live_server.rsplit(":", 1)[1]))
    outbox = Outbox(tmp_path / "o.sqlite3")
    from sync.client.folder import Defaults, queue_folder

    queue_folder(outbox, folder, Defaults(violation="RED_LIGHT"))
    pusher = Pusher.connect(outbox, proxy.url, backoff=Backoff(base=0.01, cap=0.05))
    proxy.bytes_up = 0
    # Three PATCH requests are cut after that many bytes.
    proxy.plan.extend([Fault("cut", at, "PATCH") for at in (500_000, 700_000, 800_000)])
    counts = pusher.push_all(max_attempts=20)
    assert counts == {"sent": 1}
    assert len([f for f in proxy.faults_done if f.kind == "cut"]) == 3
    assert stored(app) == (1, 1)
    assert proxy.bytes_up < 1.1 * len(data)
    proxy.close()
