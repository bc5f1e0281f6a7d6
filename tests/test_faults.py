"""Sync under injected faults, against a real server process (gunicorn on loopback).

Every scenario runs ``repetitions`` times (3; 30 with ``--soak``) from a fixed seed,
through :class:`tests.faults.proxy.FaultProxy`. After each run: the report is stored
exactly once, and every file on the server is byte-identical to what was captured.
The scenarios of the shared server run with evidence in a folder and in a bucket (a
real SeaweedFS, tests/seaweed.py).
"""

from __future__ import annotations

import hashlib
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from server.settings import Settings
from server.storage import MediaStore
from server.storage_backends import open_store
from sync.client import Outbox, Pusher
from sync.client.folder import Defaults, queue_folder
from sync.client.http import Backoff, RetryLater
from tests.faults.proxy import Fault, FaultProxy
from tests.faults.server import ServerProcess
from tests.media_factory import make_jpeg
from tests.waiting import wait_for

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
        settings = {k.lower(): v for k, v in env.items() if k.startswith(("STORAGE", "S3_"))}
        self.store = open_store(Settings(media_root=str(self.media_root), **settings))

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
        for path in files:
            data = path.read_bytes()
            assert self.blob(hashlib.sha256(data).hexdigest()) == data
        assert list((self.media_root / "tmp").iterdir()) == []

    def blob(self, sha256: str) -> bytes | None:
        if self.store.is_local:
            path = self.store.blob_path(sha256)
            return path.read_bytes() if path.exists() else None
        return self.store.read_blob(sha256)

    def partials(self) -> dict[str, int]:
        """The partial uploads the server keeps, by id: their durable sizes."""
        if self.store.is_local:
            sizes = {}
            for f in (self.media_root / "uploads").iterdir():
                try:
                    sizes[f.name] = f.stat().st_size
                except FileNotFoundError:  # completed meanwhile: moved to blobs/
                    pass
            return sizes
        ids = self.store.partial_ids_older_than(datetime(2999, 1, 1, tzinfo=UTC))
        return {i: size for i in ids if (size := self.store.partial_size(i)) is not None}

    def received_bytes(self) -> int:
        """Every byte of partial uploads the server has received: durably stored, or
        (a bucket) still in a node's local spool, waiting to make a whole piece."""
        spooled = 0
        if not self.store.is_local:
            for f in (self.media_root / "tmp").glob("up-*"):
                try:
                    spooled += f.stat().st_size
                except FileNotFoundError:
                    pass
        return sum(self.partials().values()) + spooled

    def partial_bytes(self, upload_id: str) -> bytes:
        if self.store.is_local:
            return (self.media_root / "uploads" / upload_id).read_bytes()
        staged = self.store.stage_partial(upload_id)
        try:
            return staged.path.read_bytes()
        finally:
            self.store.discard(staged)


@pytest.fixture(scope="module", params=["file", "s3"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One server for the module and store: scenarios check their own reports, not
    totals."""
    env = {}
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_server")
        env = s3.settings(s3.new_location())
    w = World(tmp_path_factory.mktemp("faults") / "world", env)
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
        size = 20 * MB
        path = evidence(folder, "clip.jpg", size, rng)
        outbox = Outbox(folder / "outbox.sqlite3")
        queue(outbox, folder)
        pusher = pusher_for(world, outbox, chunk_size=None)  # the whole file in one PATCH
        kill_at = rng.randrange(2 * MB, 18 * MB)  # about this far into the file
        # The proxy holds the PATCH there: the server has been sent that much of the
        # file and not a byte more (the rest waits in the proxy and in the client's
        # socket buffers), so however much loopback buffers, the server cannot have the
        # whole file. Once it has written all it was sent, it is killed.
        kills: list[int] = []

        def kill_when_written(held: int, kills: list[int] = kills) -> None:
            wait_for(lambda: world.received_bytes() == held, f"{held} bytes received")
            world.server.kill()
            kills.append(held)

        world.proxy.on_hold = kill_when_written
        world.proxy.plan.append(Fault("hold", HEAD_BYTES + kill_at, "PATCH"))
        try:
            result = pusher.push_all(max_attempts=3)
        finally:
            world.proxy.on_hold = None
        assert not world.proxy.plan, "the PATCH reached the kill point"
        assert len(kills) == 1, "the server was killed mid-upload"
        held = kills[0]
        assert "sent" not in result  # the server is gone
        [(upload_id, on_disk)] = world.partials().items()
        if world.store.is_local:
            # Exactly what the server was sent before the kill: every byte received was
            # written, none arrived after.
            assert on_disk == held
            assert 2 * MB - HEAD_BYTES <= on_disk < 18 * MB + HEAD_BYTES
        else:
            # The whole pieces stored before the kill; the spool of the last one is lost.
            assert held - world.store.piece_bytes < on_disk <= held
            assert on_disk % world.store.piece_bytes == 0
        assert path.read_bytes()[:on_disk] == world.partial_bytes(upload_id)
        world.restart()
        # After the crash the offset is exactly the bytes on disk, and the upload resumes.
        url = outbox.media(outbox.reports()[0]["report_id"])[0].upload_url
        assert pusher.transport.head(url) == on_disk
        sent_before = world.proxy.bytes_up
        assert pusher.push_all(max_attempts=50) == {"sent": 1}
        assert world.proxy.bytes_up - sent_before < size - on_disk + MB
        if not world.store.is_local:
            # The killed node's spool stays as litter in its own folder, for the sweep
            # (``uploads expire``, after a day); nothing of it is ever evidence.
            [spool] = (world.media_root / "tmp").glob(f"up-{upload_id}-*")
            spool.unlink()
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
    the ballast is the operator freeing space.

    Every repetition keeps its evidence (5 MB), so the quota has room for all of it on
    top of 64 MB, and each repetition sizes the ballast from what is stored when it
    starts: 3 MB are left, and the quota is reached in the middle of the upload.
    """
    rng = random.Random(SEED + 6)
    size = 5 * MB
    left = 3 * MB
    quota = 64 * MB + repetitions * size
    world = World(tmp_path / "full", {"MEDIA_QUOTA_BYTES": str(quota)})
    ballast = world.media_root / "ballast.bin"
    store = MediaStore(world.media_root)
    try:
        for i in range(repetitions):
            folder = tmp_path / f"full{i}"
            path = evidence(folder, "p.jpg", size, rng)
            data = path.read_bytes()
            outbox = Outbox(folder / "outbox.sqlite3")
            queue(outbox, folder)
            pusher = pusher_for(world, outbox)
            free = quota - store.used_bytes()
            assert free >= 64 * MB, "the repetition starts with space to fill"
            # Sparse: it counts in full against the quota, which sums file sizes,
            # without writing hundreds of MB to a shared disk.
            with ballast.open("wb") as fh:
                fh.truncate(free - left)
            answers: list[RetryLater] = []
            patch = pusher.transport.patch

            def recording_patch(
                *args: Any,
                patch: Callable[..., int] = patch,
                answers: list[RetryLater] = answers,
                **kw: Any,
            ) -> int:
                try:
                    return patch(*args, **kw)
                except RetryLater as exc:
                    answers.append(exc)
                    raise

            pusher.transport.patch = recording_patch  # type: ignore[method-assign]
            assert pusher.push_all(max_attempts=3) == {"uploading": 1}
            full = [a for a in answers if str(a) == "507 insufficient_storage"]
            assert full, [str(a) for a in answers]
            assert all(a.retry_after and a.retry_after > 0 for a in full)
            # No evidence under a final name, nothing past the quota, and what was
            # kept is a true prefix that stops inside the file: the disk filled mid-upload.
            assert not store.blob_path(hashlib.sha256(data).hexdigest()).exists()
            assert list((world.media_root / "tmp").iterdir()) == []
            assert store.used_bytes() <= quota
            partials = list((world.media_root / "uploads").iterdir())
            assert len(partials) == 1
            kept = partials[0].read_bytes()
            assert 0 < len(kept) <= left < size
            assert kept == data[: len(kept)]
            ballast.unlink()  # the operator frees space
            assert pusher.push_all(max_attempts=50) == {"sent": 1}
            world.assert_stored_once(outbox, [path])
            assert list((world.media_root / "uploads").iterdir()) == []
    finally:
        world.close()
