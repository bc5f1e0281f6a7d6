"""Sync under injected faults, against a real server process (gunicorn on loopback).

Every scenario runs ``repetitions`` times (3; 30 with ``--soak``) from a fixed seed,
through :class:`tests.faults.proxy.FaultProxy`. After each run: the report is stored
exactly once, and every file on the server is byte-identical to what was captured.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from server.storage import MediaStore
from sync.client import Outbox, Pusher
from sync.client.folder import Defaults, queue_folder
from sync.client.http import Backoff
from tests.faults.proxy import Fault, FaultProxy
from tests.faults.server import ServerProcess
from tests.media_factory import make_jpeg

MB = 1024 * 1024
HEAD_BYTES = 400  # about the size of a PATCH request head from sync.client
SEED = 20261123


class World:
    """A server process, a proxy in front of it, and helpers to check what it stored."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        instance = root / "instance"
        instance.mkdir(parents=True)
        self.db_path = instance / "server.sqlite3"
        self.media_root = instance / "media"
        env = {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "MEDIA_ROOT": str(self.media_root),
            "SECRET_KEY": "fault-tests",
            "IDENTITY_KEY": Fernet.generate_key().decode(),
            **(extra_env or {}),
        }
        self.server = ServerProcess(env)
        self.proxy = FaultProxy(self.server.start())
        self.engine = sa.create_engine(f"sqlite:///{self.db_path}")

    def restart(self, **env: str) -> None:
        self.server.kill()
        self.server.env.update(env)
        self.proxy.upstream_port = self.server.start()

    def close(self) -> None:
        self.proxy.close()
        self.server.stop()
        self.engine.dispose()

    def count(self, sql: str, **params: object) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()

    def assert_stored_once(self, outbox: Outbox, files: list[Path]) -> None:
        """Each queued report once on the server, each file received and byte-identical."""
        report_ids = [r["report_id"] for r in outbox.reports()]
        assert {r["state"] for r in outbox.reports()} == {"sent"}
        for rid in report_ids:
            assert self.count("SELECT count(*) FROM reports WHERE id = :r", r=rid) == 1
            assert (
                self.count(
                    "SELECT count(*) FROM media WHERE report_id = :r AND received_at IS NULL", r=rid
                )
                == 0
            )
        store = MediaStore(self.media_root)
        for path in files:
            data = path.read_bytes()
            assert store.blob_path(hashlib.sha256(data).hexdigest()).read_bytes() == data
        assert list((self.media_root / "tmp").iterdir()) == []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One server for the module: scenarios check their own reports, not totals."""
    w = World(tmp_path_factory.mktemp("faults") / "world")
    yield w
    w.close()


def evidence(folder: Path, name: str, size: int, rng: random.Random) -> Path:
    """A 'photo' of ``size`` bytes: a real JPEG head (with GPS) and random bytes after."""
    folder.mkdir(parents=True, exist_ok=True)
    head = make_jpeg(
        lat=21.03,
        lon=105.85,
        taken_at="2026-11-20T07:30:00",
        size=(32, 24),
        seed=rng.randrange(1 << 30),
    )
    path = folder / name
    path.write_bytes(head + rng.randbytes(size - len(head)))
    return path


def pusher_for(world: World, outbox: Outbox, **kw) -> Pusher:
    return Pusher.connect(outbox, world.proxy.url, backoff=Backoff(base=0.02, cap=0.2), **kw)


def queue(outbox: Outbox, folder: Path) -> None:
    queued, skipped = queue_folder(outbox, folder, Defaults(violation="RED_LIGHT"))
    assert skipped == [] and queued > 0


def test_cut_connections_at_random_points_of_a_20mb_upload(world, tmp_path, repetitions):
    rng = random.Random(SEED)
    for i in range(repetitions):
        folder = tmp_path / f"cut{i}"
        path = evidence(folder, "clip.jpg", 20 * MB, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox)
        # Random points of the file; each PATCH resumes where the last was cut, so a
        # cut lands that far (plus the request head) into the next PATCH.
        points = sorted(rng.sample(range(1, 20 * MB), rng.randint(2, 5)))
        gaps = [b - a for a, b in zip([0, *points], points, strict=False)]
        world.proxy.plan.extend(Fault("cut", HEAD_BYTES + gap, "PATCH") for gap in gaps)
        world.proxy.bytes_up = 0
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert not world.proxy.plan, "every planned cut happened"
        world.assert_stored_once(outbox, [path])
        # Resumed, not restarted: little more than the file crossed the wire.
        assert world.proxy.bytes_up < 1.1 * 20 * MB


def test_server_killed_mid_upload_and_restarted(world, tmp_path, repetitions):
    rng = random.Random(SEED + 1)
    for i in range(repetitions):
        folder = tmp_path / f"kill{i}"
        path = evidence(folder, "clip.jpg", 20 * MB, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox, chunk_size=None)
        kill_at = rng.randrange(2 * MB, 18 * MB)  # bytes on the server's disk
        uploads = world.media_root / "uploads"
        killed = threading.Event()

        def maybe_kill(_total: int, kill_at=kill_at, killed=killed, uploads=uploads) -> None:
            on_disk = sum(f.stat().st_size for f in uploads.glob("*"))
            if on_disk >= kill_at and not killed.is_set():
                killed.set()
                world.server.kill()

        world.proxy.on_bytes_up = maybe_kill
        assert pusher.push_all(max_attempts=3) != {"sent": 1}  # the server is gone
        world.proxy.on_bytes_up = None
        assert killed.is_set()
        partials = list(uploads.iterdir())
        assert len(partials) == 1
        on_disk = partials[0].stat().st_size
        assert kill_at <= on_disk < 20 * MB
        assert path.read_bytes()[:on_disk] == partials[0].read_bytes()
        world.restart()
        # After the crash the offset is exactly the bytes on disk, and the upload resumes.
        url = outbox.media(outbox.reports()[0]["report_id"])[0].upload_url
        assert pusher.transport.head(url) == on_disk
        sent_before = world.proxy.bytes_up
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert world.proxy.bytes_up - sent_before < 20 * MB - on_disk + MB
        world.assert_stored_once(outbox, [path])


def test_the_same_report_pushed_from_two_connections_at_once(world, tmp_path, repetitions):
    rng = random.Random(SEED + 2)
    for i in range(repetitions):
        folder = tmp_path / f"twice{i}"
        paths = [evidence(folder, f"p{j}.jpg", rng.randrange(1, 4) * MB, rng) for j in range(2)]
        first = Outbox(folder / "a.sqlite3")
        queue(first, folder)
        Pusher.connect(first, world.proxy.url)  # registers the device
        first.close()
        shutil.copy(folder / "a.sqlite3", folder / "b.sqlite3")  # same device, same report
        names = [folder / n for n in ("a.sqlite3", "b.sqlite3")]
        barrier = threading.Barrier(2)
        results: list[dict] = []

        def push(name: Path, barrier=barrier, results=results) -> None:
            outbox = Outbox(name)  # each "phone" opens its own copy, in its own thread
            pusher = pusher_for(world, outbox)
            barrier.wait()
            results.append(pusher.push_all(max_attempts=50))
            outbox.close()

        threads = [threading.Thread(target=push, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [{"sent": 2}, {"sent": 2}]  # one report per file
        outboxes = [Outbox(n) for n in names]
        for outbox in outboxes:
            world.assert_stored_once(outbox, paths)
        rid = outboxes[0].reports()[0]["report_id"]
        assert world.count("SELECT count(*) FROM uploads WHERE report_id = :r", r=rid) <= 2


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH"])
def test_response_lost_after_the_server_committed(world, tmp_path, repetitions, method):
    rng = random.Random(SEED + 3)
    for i in range(repetitions):
        folder = tmp_path / f"lost{method}{i}"
        path = evidence(folder, "p.jpg", 2 * MB, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox)
        world.proxy.plan.append(Fault("drop_response", method=method))
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert not world.proxy.plan
        world.assert_stored_once(outbox, [path])
        rid = outbox.reports()[0]["report_id"]
        assert world.count("SELECT count(*) FROM uploads WHERE report_id = :r", r=rid) == 1
        assert (
            world.count(
                "SELECT count(*) FROM status_events WHERE report_id = :r AND status = 'submitted'",
                r=rid,
            )
            == 1
        )


def test_server_answering_5xx_for_a_while(world, tmp_path, repetitions):
    rng = random.Random(SEED + 4)
    for i in range(repetitions):
        folder = tmp_path / f"busy{i}"
        path = evidence(folder, "p.jpg", MB, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox)
        world.proxy.plan.extend(Fault("refuse") for _ in range(rng.randint(3, 8)))
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert not world.proxy.plan
        world.assert_stored_once(outbox, [path])


@pytest.mark.parametrize("checksum", [False, True], ids=["final-hash", "chunk-checksum"])
def test_a_byte_flipped_in_transit_is_caught(world, tmp_path, repetitions, checksum):
    rng = random.Random(SEED + 5)
    for i in range(repetitions):
        folder = tmp_path / f"flip{checksum}{i}"
        size = 3 * MB
        path = evidence(folder, "p.jpg", size, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox, chunk_size=MB if checksum else None, checksum=checksum)
        # Past the request head (~300 bytes) and inside the body of the first PATCH.
        world.proxy.plan.append(Fault("flip", rng.randrange(2000, MB - 1), "PATCH"))
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert not world.proxy.plan
        world.assert_stored_once(outbox, [path])


def test_disk_filling_while_writing_answers_507_and_leaves_no_corrupt_file(tmp_path, repetitions):
    """The storage layer's quota plays the disk; a ballast file fills it, and deleting
    the ballast is the operator freeing space."""
    rng = random.Random(SEED + 6)
    quota = 64 * MB
    world = World(tmp_path / "full", {"MEDIA_QUOTA_BYTES": str(quota)})
    ballast = world.media_root / "ballast.bin"
    try:
        for i in range(repetitions):
            folder = tmp_path / f"full{i}"
            path = evidence(folder, "p.jpg", 5 * MB, rng)
            outbox = Outbox(folder / "outbox.sqlite3")
            queue(outbox, folder)
            pusher = pusher_for(world, outbox)
            used = MediaStore(world.media_root).used_bytes()
            ballast.write_bytes(b"\0" * (quota - used - 3 * MB))  # 3 MB left
            statuses: list[str] = []
            pusher.say = statuses.append
            assert pusher.push_all(max_attempts=3) == {"uploading": 1}
            assert any("507" in s for s in statuses), statuses
            # No evidence under a final name, and what was kept is a true prefix.
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            assert not MediaStore(world.media_root).blob_path(sha).exists()
            for partial in (world.media_root / "uploads").iterdir():
                kept = partial.read_bytes()
                assert kept == path.read_bytes()[: len(kept)]
            ballast.unlink()  # the operator frees space
            assert pusher.push_all(max_attempts=50) == {"sent": 1}
            world.assert_stored_once(outbox, [path])
    finally:
        world.close()
