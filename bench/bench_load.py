"""Load test (issue 15): simulated phones and reviewers against two app nodes, then a
check that nothing was lost and nothing stored twice.

    python bench/bench_load.py [--users 200] [--minutes 5] [--spawn-rate 10]

Sets up the production shape on this machine: a throw-away PostgreSQL (tests/pg.py) and
SeaweedFS S3 gateway (tests/seaweed.py), two gunicorn nodes (gunicorn.conf.py's gevent
workers, 2 each, started as tests/faults/server.py starts them, with the database pool
settings below), and in front Debian's nginx balancing
round-robin and buffering request bodies (deploy/nginx-load.conf's settings: a slow
phone's body is read by nginx, not by a gunicorn thread). Then runs locust headless
(bench/locustfile.py, in its own virtualenv ``.venv-locust``, created here with the
pinned locust) for ``--minutes`` with ``--users`` users (20 phones to 1 reviewer).

Afterwards, against the database and the bucket, from the ledger of what the server
acknowledged: every acknowledged report is stored exactly once; every acknowledged file
is received, its blob is in the bucket under its SHA-256 and hashes to it; no media row
is stored twice; no blob is in the bucket twice. Prints locust's p50/p99 per request
kind, throughput, errors, and the machine's load.

Also (``--ratio``, or ``--ratio-only`` without the load test): one node's ingest
throughput (``PUT`` report declaring one file of its own, no evidence, 20 threads)
divided by the same gunicorn's throughput on an empty WSGI handler.

The run's folder (``/tmp/bench-load-*``) is kept: nginx's log of failed or slow requests
(``nginx-slow.log``), the nodes' logs with each request's duration (``*/gunicorn.log``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from tests import pg, seaweed  # noqa: E402
from tests.faults.server import ServerProcess, free_port  # noqa: E402

LOCUST_VERSION = "2.47.0"
LOCUST_VENV = ROOT / ".venv-locust"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = """
{user}worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    # Only failed (5xx) or slow (> 30 s upstream) requests, with their timings: what a
    # 504 waited for, and on which node.
    map $status$upstream_response_time $rw_log {{
        ~^5 1;
        "~^...([3-9][0-9]|[1-9][0-9][0-9]+)\\." 1;
        default 0;
    }}
    log_format rw_slow '$time_iso8601 $status $request_method $uri rt=$request_time '
                       'urt=$upstream_response_time up=$upstream_addr us=$upstream_status';
    access_log {root}/nginx-slow.log rw_slow if=$rw_log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream nodes {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 30m;
        client_body_buffer_size 1m;
        client_body_timeout 60s;
        proxy_request_buffering on;
        proxy_http_version 1.1;
        proxy_read_timeout 300s;
        location / {{
            proxy_pass http://nodes;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def locust_bin() -> Path:
    exe = LOCUST_VENV / "bin" / "locust"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LOCUST_VENV)], check=True)
        subprocess.run(
            [str(LOCUST_VENV / "bin" / "pip"), "install", "-q", f"locust=={LOCUST_VERSION}"],
            check=True,
        )
    return exe


def photo_pool(directory: Path, n: int = 24) -> None:
    """JPEGs of 200 KB to 2 MB (noise compresses badly: the size is the pixels')."""
    from tests.browser.pages import photo

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for i in range(n):
        (directory / f"p{i:02d}.jpg").write_bytes(photo(rng.randint(200_000, 2_000_000), seed=i))


def wait_http(url: str, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def check(ledger: Path, engine: sa.Engine, store) -> dict:
    """What the server acknowledged, against the database and the bucket."""
    reports, media = set(), {}
    for line in ledger.read_text().splitlines():
        row = json.loads(line)
        if row["kind"] == "report":
            reports.add(row["id"])
        else:
            media[row["id"]] = row
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT id, count(*) FROM reports GROUP BY id")).all())
        rows = conn.execute(sa.text("SELECT id, sha256, received_at FROM media")).all()
        per_media = dict(conn.execute(sa.text("SELECT id, count(*) FROM media GROUP BY id")).all())
    got = {r.id: r for r in rows}
    lost_reports = sorted(reports - set(stored))
    twice_reports = sorted(k for k, n in stored.items() if n > 1)
    lost_media, bad_blobs = [], []
    for mid, row in media.items():
        have = got.get(mid)
        if have is None or have.received_at is None or have.sha256 != row["sha256"]:
            lost_media.append(mid)
            continue
        data = store.read_blob(row["sha256"])
        if data is None or hashlib.sha256(data).hexdigest() != row["sha256"]:
            bad_blobs.append(mid)
    twice_media = sorted(k for k, n in per_media.items() if n > 1)
    keys = store.blob_keys()
    return {
        "acknowledged_reports": len(reports),
        "acknowledged_files": len(media),
        "lost_reports": lost_reports,
        "reports_stored_twice": twice_reports,
        "lost_files": lost_media,
        "files_not_matching_their_hash": bad_blobs,
        "media_rows_twice": twice_media,
        "blobs_in_bucket": len(keys),
        "blobs_twice": len(keys) - len(set(keys)),
    }


def throughput_ratio(
    env: dict[str, str], root: Path, seconds: float = 15, threads: int = 20
) -> dict:
    """One node's ingest (PUT report, no evidence) over an empty WSGI app, same gunicorn."""
    empty = root / "empty_app.py"
    empty.write_text(
        "def app(environ, start_response):\n"
        "    environ['wsgi.input'].read()\n"
        "    start_response('201 Created', [('Content-Type', 'application/json')])\n"
        "    return [b'{}']\n"
    )

    def hammer(base: str, put: bool) -> float:
        count = 0
        errors: list[str] = []
        stop = time.monotonic() + seconds
        lock = threading.Lock()

        def worker() -> None:
            nonlocal count
            s = requests.Session()
            auth = {}
            if put:
                token = s.post(f"{base}/api/v1/devices").json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
            while time.monotonic() < stop:
                body = {
                    "violation": "PARK_SIDEWALK_ROADWAY", "vehicle_class": "car",
                    "plate": "", "vehicle_description": "", "note": "",
                    "captured_at": "2026-12-01T08:00:00+07:00",
                    "location": {"lat": random.uniform(20.98, 21.08),
                                 "lon": random.uniform(105.78, 105.88),
                                 "accuracy_m": 10.0, "source": "gps"},
                    "reporter": {"kind": "citizen"},
                    # A file of its own per report, as a phone's photo: one SHA-256 for
                    # all made every report join one case of thousands (each ingest
                    # then read all its members, one case row lock for all requests).
                    "media": [{"media_id": str(uuid.uuid4()), "sha256": uuid.uuid4().hex * 2,
                               "size": 1000, "content_type": "image/jpeg"}],
                }  # fmt: skip
                r = s.put(f"{base}/api/v1/reports/{uuid.uuid4()}", json=body, headers=auth)
                if r.status_code in (200, 201):
                    with lock:
                        count += 1
                elif not errors:
                    errors.append(f"{r.status_code} {r.text[:300]}")

        ts = [threading.Thread(target=worker) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            print("first refusal:", errors[0])
        return count / seconds

    node = ServerProcess(
        {**env, "INSTANCE_PATH": str(root / "ratio"), "MEDIA_ROOT": str(root / "ratio" / "m")}
    )
    port = node.start()
    real = hammer(f"http://127.0.0.1:{port}", True)
    node.stop()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    p = free_port()
    # The node's gunicorn settings (gunicorn.conf.py's gevent workers, the command line
    # of tests/faults/server.py; not its access log): only the app differs.
    proc = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{p}", "--workers", "2", "--worker-class", "gevent",
         "--worker-connections", "1000", "--keep-alive", "10", "--timeout", "120",
         "empty_app:app"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{p}/")
        empty_rps = hammer(f"http://127.0.0.1:{p}", False)
    finally:
        proc.terminate()
        proc.wait()
    return {"ingest_rps": real, "empty_rps": empty_rps, "ratio": real / empty_rps}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--spawn-rate", type=float, default=10)
    ap.add_argument("--ratio", action="store_true", help="also the ingest/empty-handler ratio")
    ap.add_argument(
        "--ratio-only", action="store_true", help="only the ratio (no nginx, no locust)"
    )
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    exe = None if args.ratio_only else locust_bin()
    if exe is not None:
        photo_pool(root / "pool")
    server, s3 = pg.start(), seaweed.start(volume_max=400)
    nodes, nginx = [], None
    try:
        base = server.base_url
        admin = sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE load")
        admin.dispose()
        location = s3.new_location()
        env = {
            "DATABASE_URL": f"{base}/load",
            **s3.settings(location),
            "SECRET_KEY": "load-test",
            "IDENTITY_KEY": Fernet.generate_key().decode(),
            "RATE_LIMIT_DEVICES_PER_MINUTE": "0",
            "RATE_LIMIT_REPORTS_PER_MINUTE": "0",
            "RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE": "0",
            "VAPID_PRIVATE_KEY_FILE": str(root / "vapid.pem"),
            "TRUSTED_PROXY_HOPS": "1",
            # gevent workers take every connection nginx opens; a worker's requests then
            # queue for its pooled database connections, not in the listen backlog.
            # 4 workers x 2 pools (sessions, upload locks) x 20 connections stay below
            # the test server's max_connections (200), and a request waits for one as
            # long as nginx waits for it.
            "DB_POOL_SIZE": "10",
            "DB_MAX_OVERFLOW": "10",
            "DB_POOL_TIMEOUT_SECONDS": "120",
            # Each request's duration (microseconds) in the nodes' logs (gunicorn.log).
            "GUNICORN_CMD_ARGS": "--access-logformat '%(t)s %(s)s %(m)s %(U)s %(D)s'",
        }
        if args.ratio_only:
            print(f"load average {os.getloadavg()[0]:.1f}")
            print("ingest / empty handler:", json.dumps(throughput_ratio(env, root)))
            print(f"load average {os.getloadavg()[0]:.1f}")
            return 0
        for name in ("a", "b"):
            (root / name).mkdir()
            nodes.append(
                ServerProcess(
                    {
                        **env,
                        "INSTANCE_PATH": str(root / name),
                        "MEDIA_ROOT": str(root / name / "media"),
                    }
                )
            )
        ports = [n.start() for n in nodes]
        port = free_port()
        (root / "nginx.conf").write_text(
            NGINX_CONF.format(
                # As root, nginx's workers would drop to www-data, which cannot write here.
                user="user root;\n" if os.geteuid() == 0 else "",
                root=root,
                a=ports[0],
                b=ports[1],
                port=port,
            )
        )
        nginx = subprocess.Popen([NGINX, "-c", str(root / "nginx.conf"), "-g", "daemon off;"])
        host = f"http://127.0.0.1:{port}"
        wait_http(host + "/healthz")
        from server import create_app
        from server.services import accounts
        from server.settings import Settings
        from server.storage_backends import open_store

        app = create_app(
            {**env, "INSTANCE_PATH": str(root / "setup"), "MEDIA_ROOT": str(root / "setup")}
        )
        with app.app_context():
            accounts.create_user(
                "load_rev",
                "correct horse battery",
                "reviewer",
                districts=sorted(accounts.province_districts("01")),
            )
        ledger = root / "ledger.jsonl"
        ledger.touch()
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        subprocess.run(
            [str(exe), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(args.spawn_rate),
             "-t", f"{int(args.minutes * 60)}s", "--host", host, "--csv", str(root / "locust"),
             "--only-summary", "--stop-timeout", "180"],
            env={**os.environ, "RW_LOAD_POOL": str(root / "pool"), "RW_LOAD_LEDGER": str(ledger),
                 "RW_LOAD_REVIEWER": "load_rev"},
            check=False,
        )  # fmt: skip
        wall = time.monotonic() - t0
        load1 = os.getloadavg()[0]
        engine = sa.create_engine(env["DATABASE_URL"])
        store = open_store(
            Settings(
                media_root=str(root / "check"),
                **{k.lower(): v for k, v in s3.settings(location).items()},
            )
        )
        result = check(ledger, engine, store)
        stats = list(csv.DictReader((root / "locust_stats.csv").open()))
        print(
            f"\n== load test: {args.users} users for {args.minutes:.1f} min (wall {wall:.0f} s), "
            f"load average {load0:.1f} -> {load1:.1f}"
        )
        for row in stats:
            print(
                f"{row['Name']:22s} n={row['Request Count']:>6s} fail={row['Failure Count']:>4s} "
                f"p50={row['50%']:>6s} ms p99={row['99%']:>6s} ms "
                f"rps={float(row['Requests/s']):.1f}"
            )
        print(
            json.dumps(
                {k: (v if not isinstance(v, list) else len(v)) for k, v in result.items()}, indent=1
            )
        )
        if args.ratio:
            print("ingest / empty handler:", json.dumps(throughput_ratio(env, root)))
        ok = not any(
            result[k]
            for k in (
                "lost_reports",
                "reports_stored_twice",
                "lost_files",
                "files_not_matching_their_hash",
                "media_rows_twice",
            )
        )
        fails = sum(int(r["Failure Count"]) for r in stats if r["Name"] == "Aggregated")
        print("nothing lost, nothing twice:", ok, "| failures:", fails)
        return 0 if ok and fails == 0 else 1
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait()
        for n in nodes:
            n.stop()
        s3.stop()
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
