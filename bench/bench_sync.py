"""Sync benchmarks: tus upload throughput, and bytes sent when an upload is interrupted.

    python bench/bench_sync.py [--mb 50] [--interrupted-mb 20] [--cuts 10] [--runs 5]
                               [--skip-interrupted] [--ceiling]

1. Throughput: a dash-cam clip (MP4) uploaded through tus (sync.client, one PATCH) to gunicorn on
   loopback, from the client's first byte to the server's acknowledgement that the
   evidence is verified and stored, against a plain copy of the same bytes to disk
   with SHA-256 and fsync on the same machine. Goal: ratio >= 0.7.
   With --ceiling, the same without HTTP: a bare socket transfer (see ``ceiling``).
2. Interruptions: a file whose PATCH is cut at N random points (the fault proxy of the
   test suite); bytes the client sent in total over the file size. Goal: <= 1.1.

Figures are printed; record them in bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402

from sync.client import Outbox, Pusher  # noqa: E402
from sync.client.folder import Defaults, queue_folder  # noqa: E402
from sync.client.http import Backoff  # noqa: E402
from sync.client.tus import upload_media  # noqa: E402
from tests.faults.proxy import Fault, FaultProxy  # noqa: E402
from tests.faults.server import ServerProcess  # noqa: E402
from tests.media_factory import make_mp4_head  # noqa: E402

MB = 1024 * 1024


def make_file(folder: Path, size: int, seed: int) -> Path:
    """A dash-cam clip: an MP4 head, then random (incompressible) bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    head = make_mp4_head()
    path = folder / "clip.mp4"
    path.write_bytes(head + random.Random(seed).randbytes(size - len(head)))
    return path


def plain_copy(src: Path, dest: Path) -> float:
    """Copy with SHA-256 and fsync, as the server must at least do: seconds."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(256 * 1024):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    digest.hexdigest()
    return time.perf_counter() - start


def start_server(root: Path) -> ServerProcess:
    instance = root / "instance"
    instance.mkdir(parents=True)
    server = ServerProcess(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(instance / "media"),
            "SECRET_KEY": "bench",
            "IDENTITY_KEY": Fernet.generate_key().decode(),
        }
    )
    server.start()
    return server


def upload_once(base_url: str, folder: Path, **kw) -> tuple[float, Pusher]:
    outbox = Outbox(folder / "outbox.sqlite3")
    queue_folder(outbox, folder, Defaults(violation="RED_LIGHT", lat=21.03, lon=105.85))
    pusher = Pusher.connect(outbox, base_url, backoff=Backoff(base=0.01, cap=0.1), **kw)
    start = time.perf_counter()
    counts = pusher.push_all(max_attempts=100)
    elapsed = time.perf_counter() - start
    assert counts == {"sent": 1}, counts
    return elapsed, pusher


def upload_only(base_url: str, folder: Path) -> float:
    """Register the report (untimed), then time the upload of its file: tus creation,
    one PATCH, and the server's verification and storage before it answers."""
    outbox = Outbox(folder / "outbox.sqlite3")
    queue_folder(outbox, folder, Defaults(violation="RED_LIGHT", lat=21.03, lon=105.85))
    pusher = Pusher.connect(outbox, base_url)
    report_id = outbox.reports()[0]["report_id"]
    pusher.transport.put_report(report_id, outbox.body(report_id))
    media = outbox.media(report_id)[0]
    start = time.perf_counter()
    upload_media(pusher.transport, outbox, media)
    elapsed = time.perf_counter() - start
    stored = pusher.transport.get_report(report_id)
    assert all(e["received"] for e in stored["evidence"]), stored
    return elapsed


def warm_up(base_url: str, root: Path, uploads: int = 6) -> None:
    """Uploads from several connections at once, untimed, so that every gunicorn worker
    has finished starting (its routing index) and served a first upload (imports,
    compiled statements) before anything is timed: the first request of a cold
    worker takes up to two seconds here."""
    folders = [root / f"warmup-{i}" for i in range(uploads)]
    for i, folder in enumerate(folders):
        make_file(folder, MB, seed=1000 + i)
    threads = [threading.Thread(target=upload_only, args=(base_url, f)) for f in folders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _bare_receiver(port_out: Any, store: bool, folder: str) -> None:
    """The ceiling's receiver: one connection per transfer, an 8-byte length, then the
    bytes (recv_into 1 MiB); with ``store``, SHA-256 + write + fsync as the server must."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port_out.put(listener.getsockname()[1])
    buf = memoryview(bytearray(MB))
    while True:
        conn, _ = listener.accept()
        with conn:
            size = int.from_bytes(conn.recv(8), "big")
            if size == 0:
                return
            digest = hashlib.sha256()
            fd = os.open(os.path.join(folder, "bare.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            got = 0
            while got < size:
                n = conn.recv_into(buf, min(MB, size - got))
                if not n:
                    break
                got += n
                if store:
                    digest.update(buf[:n])
                    os.write(fd, buf[:n])
            if store:
                os.fsync(fd)
            os.close(fd)
            conn.sendall(b"ok")


def ceiling(root: Path, size: int, runs: int) -> None:
    """No HTTP, no Flask, no database: a Python client sends the file over loopback TCP
    in 1 MiB sendalls to another process, which discards it, or stores it as the server
    must (SHA-256, write, fsync). Paired with plain copies, like the tus figures."""
    path = make_file(root / "bare", size, seed=7)
    for store in (False, True):
        ports: Any = multiprocessing.Queue()
        proc = multiprocessing.Process(target=_bare_receiver, args=(ports, store, str(root)))
        proc.start()
        port = ports.get()
        ratios, times = [], []
        for _run in range(runs):
            copy_s = plain_copy(path, root / "bare-copy.bin")
            start = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port)) as sock, path.open("rb") as fh:
                sock.sendall(size.to_bytes(8, "big"))
                while block := fh.read(MB):
                    sock.sendall(block)
                sock.recv(2)
            times.append(time.perf_counter() - start)
            ratios.append(copy_s / times[-1])
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall((0).to_bytes(8, "big"))
        proc.join()
        what = "receive + sha256 + write + fsync" if store else "receive, discard"
        print(f"ceiling, bare loopback socket ({what}), median of {runs}:")
        print(
            f"  {statistics.median(times):.3f} s ({min(times):.3f}-{max(times):.3f}),"
            f" ratio to the plain copy {statistics.median(ratios):.2f}"
            f" ({min(ratios):.2f}-{max(ratios):.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--interrupted-mb", type=int, default=20)
    parser.add_argument("--cuts", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--skip-interrupted", action="store_true", help="only the throughput figures"
    )
    parser.add_argument(
        "--ceiling", action="store_true", help="also time a bare socket transfer (no HTTP)"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="roadwatch-bench-"))
    server = start_server(root)
    base = f"http://127.0.0.1:{server.port}"
    try:
        size = args.mb * MB
        tus_times, copy_times, ratios = [], [], []
        warm_up(base, root)
        for run in range(args.runs):
            folder = root / f"tp{run}"
            path = make_file(folder, size, seed=run)
            # Each upload is paired with a copy made just before it, so that both see
            # about the same machine load; the ratio is taken pair by pair.
            copy_times.append(plain_copy(path, root / f"copy{run}.bin"))
            tus_times.append(upload_only(base, folder))
            ratios.append(copy_times[-1] / tus_times[-1])
            print(
                f"  run {run + 1}: tus {tus_times[-1]:.3f} s, copy {copy_times[-1]:.3f} s,"
                f" ratio {ratios[-1]:.2f}  (load {os.getloadavg()[0]:.1f})"
            )
        tus_s, copy_s = statistics.median(tus_times), statistics.median(copy_times)
        print(f"throughput, {args.mb} MB, median of {args.runs} (min-max):")
        print(
            f"  tus upload (create + PATCH + server verify + store):     {tus_s:.3f} s"
            f" = {args.mb / tus_s:.0f} MB/s ({min(tus_times):.3f}-{max(tus_times):.3f})"
        )
        print(
            f"  plain copy with sha256 + fsync:                          {copy_s:.3f} s"
            f" = {args.mb / copy_s:.0f} MB/s ({min(copy_times):.3f}-{max(copy_times):.3f})"
        )
        ratio = statistics.median(ratios)
        print(
            f"  ratio (tus throughput / copy throughput), median of the pairs: {ratio:.2f}"
            f" ({min(ratios):.2f}-{max(ratios):.2f}); of the medians: {copy_s / tus_s:.2f}"
            f"  goal >= 0.7: {'met' if ratio >= 0.7 else 'NOT met'}"
        )
        if args.ceiling:
            ceiling(root, size, args.runs)
        if args.skip_interrupted:
            return

        proxy = FaultProxy(server.port)
        size = args.interrupted_mb * MB
        rng = random.Random(42)
        folder = root / "cut"
        make_file(folder, size, seed=99)
        points = sorted(rng.sample(range(1, size), args.cuts))
        gaps = [b - a for a, b in zip([0, *points], points, strict=False)]
        proxy.plan.extend(Fault("cut", 400 + gap, "PATCH") for gap in gaps)
        proxy.bytes_up = 0
        elapsed, pusher = upload_once(proxy.url, folder)
        cuts_done = sum(1 for f in proxy.faults_done if f.kind == "cut")
        print(f"interrupted upload, {args.interrupted_mb} MB cut {cuts_done} times:")
        print(f"  bytes on the wire (all requests, heads included): {proxy.bytes_up:,}")
        print(f"  file body bytes the client sent:                  {pusher.bytes_sent:,}")
        wire = proxy.bytes_up / size
        print(
            f"  wire bytes / file size: {wire:.3f}  goal <= 1.1: "
            f"{'met' if wire <= 1.1 else 'NOT met'}"
        )
        proxy.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)  # about 1 GB of clips and copies


if __name__ == "__main__":
    main()
