"""Two app nodes behind a round-robin proxy, sharing one PostgreSQL and one bucket
(issue 15 item 4): ingest, an upload cut on one node and resumed on the other, and the
change feed behave as on one node.

Real processes: two gunicorn servers (tests/faults/server.py), Debian's HAProxy
balancing every request in turn (``./scripts/test`` installs it), the session's
PostgreSQL (tests/pg.py) and SeaweedFS (tests/seaweed.py).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask

from server import create_app
from server.settings import Settings
from server.storage_backends import open_store
from tests import pg
from tests.factories import MediaFile, photo, report_body
from tests.faults.server import ServerProcess, free_port
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")
TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"
HAPROXY = shutil.which("haproxy") or (
    "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
)

HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-server-close
    option redispatch
    retries 2
frontend roadwatch
    bind 127.0.0.1:{port}
    default_backend nodes
frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
backend nodes
    balance roundrobin
    server a 127.0.0.1:{a}
    server b 127.0.0.1:{b}
"""


@dataclass
class Cluster:
    proxy: str
    node_a: str
    node_b: str
    stats: str
    engine: sa.Engine
    store: object
    env: dict[str, str] = field(default_factory=dict)  # the settings the nodes share
    root: Path = Path(".")
    app: Flask | None = None  # an app on the shared database, for setting up data

    def served(self) -> dict[str, int]:
        """Requests each node was sent by the proxy (HAProxy's own count)."""
        text = requests.get(f"{self.stats};csv", timeout=5).text.lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: int(r["stot"]) for r in rows if r["pxname"] == "nodes"}

    def count(self, sql: str, **params: object) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()



@pytest.fixture(scope="module")
def cluster(pg_server: str, s3_server, tmp_path_factory) -> Iterator[Cluster]:
    if HAPROXY is None:
        pytest.skip("HAProxy is not installed (./scripts/test installs it with apt)")
    root = tmp_path_factory.mktemp("nodes")
    db_url = pg.new_database(pg_server, "rw_nodes_")
    location = s3_server.new_location()
    shared = {
        "DATABASE_URL": db_url,
        **s3_server.settings(location),
        "SECRET_KEY": "two-nodes",
        "IDENTITY_KEY": Fernet.generate_key().decode(),
        "RATE_LIMIT_DEVICES_PER_MINUTE": "0",
        "RATE_LIMIT_REPORTS_PER_MINUTE": "0",
        "RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE": "0",
        # One VAPID key for every node and worker; push goes through the workers.
        "VAPID_PRIVATE_KEY_FILE": str(root / "vapid_private.pem"),
        "PUSH_DELIVERY": "worker",
        "PUSH_ALLOW_HTTP_LOOPBACK": "1",
        "REVIEWER_DIGEST_SETTLE_SECONDS": "0",
    }
    nodes = []
    for name in ("a", "b"):
        instance = root / name
        instance.mkdir()
        env = {**shared, "INSTANCE_PATH": str(instance), "MEDIA_ROOT": str(instance / "media")}
        nodes.append(ServerProcess(env))
    proxy = None
    try:
        ports = [node.start() for node in nodes]
        port, stats_port = free_port(), free_port()
        config = root / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(port=port, stats_port=stats_port, a=ports[0], b=ports[1])
        )
        log = (root / "haproxy.log").open("wb")
        proxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=log, stderr=log)
        _wait_listening(port, proxy)
        engine = sa.create_engine(db_url)
        store = open_store(
            Settings(media_root=str(root / "check"), **{
                k.lower(): v for k, v in s3_server.settings(location).items()
            })
        )  # fmt: skip
        app = create_app(
            {**shared, "INSTANCE_PATH": str(root / "setup"), "MEDIA_ROOT": str(root / "setup")}
        )
        yield Cluster(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{ports[0]}",
            f"http://127.0.0.1:{ports[1]}",
            f"http://127.0.0.1:{stats_port}/stats",
            engine,
            store,
            shared,
            root,
            app,
        )
        engine.dispose()
        with app.app_context():
            from server.extensions import db

            db.engine.dispose()
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        for node in nodes:
            node.stop()


def _wait_listening(port: int, proc: subprocess.Popen, deadline_s: float = 20) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("haproxy exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("haproxy did not start")



def register(base: str) -> dict[str, str]:
    resp = requests.post(f"{base}/api/v1/devices", timeout=10)
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def put_report(base: str, auth: dict[str, str], media: MediaFile) -> tuple[str, int]:
    rid = str(uuid.uuid4())
    resp = requests.put(
        f"{base}/api/v1/reports/{rid}", json=report_body([media]), headers=auth, timeout=10
    )
    return rid, resp.status_code


def create_upload(base: str, auth: dict[str, str], rid: str, media: MediaFile) -> str:
    import base64

    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in (("report_id", rid), ("media_id", media.media_id))
    )
    headers = {**auth, **TUS, "Upload-Length": str(len(media.data)), "Upload-Metadata": meta}
    resp = requests.post(f"{base}/api/v1/uploads", headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Upload-Offset"] == "0"
    return resp.headers["Location"]


def patch(base: str, auth: dict[str, str], url: str, offset: int, data: bytes):
    headers = {**auth, **TUS, "Upload-Offset": str(offset), "Content-Type": OCTET}
    return requests.patch(f"{base}{url}", headers=headers, data=data, timeout=60)


def head_offset(base: str, auth: dict[str, str], url: str) -> int | None:
    resp = requests.head(f"{base}{url}", headers={**auth, **TUS}, timeout=10)
    return int(resp.headers["Upload-Offset"]) if resp.status_code == 200 else None


def cut_patch(base: str, auth: dict[str, str], url: str, data: bytes, sent: int) -> None:
    """A PATCH of all of ``data`` whose connection breaks after ``sent`` bytes."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"PATCH {url} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: {auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: 0\r\nContent-Type: {OCTET}\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as s:
        s.sendall(head.encode() + data[:sent])


def test_ingest_through_the_proxy_reaches_both_nodes_and_stores_each_report_once(cluster):
    before = cluster.served()
    auth = register(cluster.proxy)
    sent = []
    for _ in range(4):
        media = photo()
        rid, status = put_report(cluster.proxy, auth, media)
        assert status == 201
        assert put_report_again(cluster, auth, rid, media) == 200  # on the other node
        url = create_upload(cluster.proxy, auth, rid, media)
        done = patch(cluster.proxy, auth, url, 0, media.data)
        assert done.status_code == 204, done.text
        sent.append((rid, media))
    after = cluster.served()
    assert all(after[n] - before.get(n, 0) >= 4 for n in ("a", "b")), after  # both served
    for rid, media in sent:
        assert cluster.count("SELECT count(*) FROM reports WHERE id = :r", r=rid) == 1
        assert (
            cluster.count(
                "SELECT count(*) FROM media WHERE report_id = :r AND received_at IS NOT NULL",
                r=rid,
            )
            == 1
        )
        assert cluster.store.read_blob(media.decl["sha256"]) == media.data


def put_report_again(cluster: Cluster, auth: dict[str, str], rid: str, media: MediaFile) -> int:
    resp = requests.put(
        f"{cluster.proxy}/api/v1/reports/{rid}",
        json=report_body([media]),
        headers=auth,
        timeout=10,
    )
    return resp.status_code


def test_an_upload_cut_on_node_a_is_resumed_on_node_b(cluster):
    auth = register(cluster.proxy)
    media = MediaFile(photo().data + bytes(range(256)) * 4000)  # about 1 MB
    rid, status = put_report(cluster.proxy, auth, media)
    assert status == 201
    url = create_upload(cluster.node_a, auth, rid, media)
    cut_patch(cluster.node_a, auth, url, media.data, sent=400_000)  # the phone loses signal

    # Node B sees what node A stored (the bucket, the database), once A let go of it.
    kept = wait_for(lambda: head_offset(cluster.node_b, auth, url), "the cut bytes stored")
    assert 0 < kept <= 400_000
    done = patch(cluster.node_b, auth, url, kept, media.data[kept:])
    assert done.status_code == 204, done.text
    assert (
        cluster.count(
            "SELECT count(*) FROM media WHERE id = :m AND received_at IS NOT NULL", m=media.media_id
        )
        == 1
    )
    assert cluster.store.read_blob(media.decl["sha256"]) == media.data
    assert head_offset(cluster.node_a, auth, url) == len(media.data)


def test_the_change_feed_is_the_same_from_either_node(cluster):
    auth = register(cluster.proxy)
    media = photo()
    rid, _ = put_report(cluster.proxy, auth, media)
    url = create_upload(cluster.proxy, auth, rid, media)
    assert patch(cluster.proxy, auth, url, 0, media.data).status_code == 204
    pages = []
    for base in (cluster.node_a, cluster.node_b, cluster.proxy, cluster.proxy):
        resp = requests.get(f"{base}/api/v1/changes", headers=auth, timeout=10)
        assert resp.status_code == 200
        pages.append(resp.json())
    assert all(page == pages[0] for page in pages)
    assert {c["report_id"] for c in pages[0]["changes"]} == {rid}


# -- console sessions ----------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _console_user(cluster: Cluster, role: str = "admin", districts: tuple[str, ...] = ()) -> str:
    from server.services import accounts

    name = f"{role}-{uuid.uuid4().hex[:8]}"
    with cluster.app.app_context():
        accounts.create_user(name, "mật-khẩu-dài-1", role, districts=districts)
    return name


def _csrf(resp: requests.Response) -> str:
    found = CSRF.search(resp.text)
    assert found, resp.text[:300]
    return found.group(1)


def test_a_console_session_holds_on_every_node_and_logout_on_one_ends_it_on_all(cluster):
    username = _console_user(cluster)
    browser = requests.Session()
    page = browser.get(f"{cluster.proxy}/console/login", timeout=10)
    login = browser.post(
        f"{cluster.proxy}/console/login",
        data={"username": username, "password": "mật-khẩu-dài-1", "csrf_token": _csrf(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302, login.text[:300]
    assert "/console/login" not in login.headers["Location"]

    # The cookie is for 127.0.0.1, whichever port: each node gets it and knows the user.
    before = cluster.served()
    for base in (cluster.node_a, cluster.node_b, cluster.proxy, cluster.proxy):
        queue = browser.get(f"{base}/console/queue", allow_redirects=False, timeout=10)
        assert queue.status_code == 200, (base, queue.status_code)
    after = cluster.served()
    assert all(after[n] > before.get(n, 0) for n in ("a", "b"))  # the proxy used both

    # Logout on node A (the form's CSRF token came from node B's page).
    token = _csrf(browser.get(f"{cluster.node_b}/console/queue", timeout=10))
    stolen = dict(browser.cookies)  # a copy of the cookie, kept by someone else
    out = browser.post(
        f"{cluster.node_a}/console/logout",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 302
    for base in (cluster.node_b, cluster.node_a, cluster.proxy, cluster.proxy):
        again = requests.get(
            f"{base}/console/queue", cookies=stolen, allow_redirects=False, timeout=10
        )
        assert again.status_code == 302, base
        assert "/console/login" in again.headers["Location"]


# -- push delivery and digests by two workers ------------------------------------------


def _start_worker(cluster: Cluster, name: str) -> subprocess.Popen:
    instance = cluster.root / f"worker-{name}"
    instance.mkdir(exist_ok=True)
    env = {
        **os.environ,
        **cluster.env,
        "INSTANCE_PATH": str(instance),
        "MEDIA_ROOT": str(instance / "media"),
        # Named, so a test sees when the worker is connected (pg_stat_activity).
        "DATABASE_URL": f"{cluster.env['DATABASE_URL']}?application_name=rw-worker-{name}",
    }
    log = (instance / "worker.log").open("wb")
    return subprocess.Popen(
        [FLASK, "--app", "wsgi", "push-worker", "--interval", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_two_push_workers_at_once_send_each_message_and_each_digest_exactly_once(
    cluster, push_service
):
    from server.extensions import db
    from server.models import PushMessage, PushSubscription, User
    from server.services import push
    from server.services.districts.index import route_point
    from tests.factories import HANOI

    svc, svc_url = push_service
    phone = svc.subscriber("phone-" + uuid.uuid4().hex[:6])
    auth = register(cluster.proxy)
    resp = requests.put(
        f"{cluster.proxy}/api/v1/push/subscription",
        json={**phone.subscription_json(svc_url), "lang": "vi"},
        headers=auth,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text

    # A reviewer of the district of HANOI, subscribed in the console before the case came.
    reviewer = svc.subscriber("reviewer-" + uuid.uuid4().hex[:6])
    with cluster.app.app_context():
        district = route_point(*HANOI).district_code
        assert district
    name = _console_user(cluster, "reviewer", (district,))
    count = 250  # more than one worker claims in a round (100)
    with cluster.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == name))
        keys = reviewer.subscription_json(svc_url)
        push.subscribe_user(
            user, keys["endpoint"], keys["keys"]["p256dh"], keys["keys"]["auth"], "vi"
        )
        sub_id = db.session.scalar(
            sa.select(PushSubscription.id).where(PushSubscription.endpoint.like("%/phone-%"))
            .order_by(PushSubscription.id.desc()).limit(1)
        )  # fmt: skip
        for n in range(count):  # held back until both workers run
            db.session.add(
                PushMessage(
                    subscription_id=sub_id,
                    payload={"type": "test", "n": n},
                    next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC),
                )
            )
        db.session.commit()
        db.session.remove()

    # A report with its evidence in that district: a new case, to be in one digest.
    # (A plate of its own: the other tests' reports joined one case, which is not new.)
    reporter, media, rid = register(cluster.proxy), photo(), str(uuid.uuid4())
    plate = f"29B-{uuid.uuid4().int % 1000:03d}.{uuid.uuid4().int % 100:02d}"
    resp = requests.put(
        f"{cluster.proxy}/api/v1/reports/{rid}",
        json=report_body([media], plate=plate),
        headers=reporter,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    url = create_upload(cluster.proxy, reporter, rid, media)
    assert patch(cluster.proxy, reporter, url, 0, media.data).status_code == 204
    assert cluster.count(
        "SELECT count(*) FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.id = :r "
        "AND c.district_code = :d", r=rid, d=district
    ) == 1  # fmt: skip

    connected = (
        "SELECT count(DISTINCT application_name) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'rw-worker-%'"
    )
    workers = [_start_worker(cluster, "one"), _start_worker(cluster, "two")]
    try:
        # Both workers are up (each holds a connection after its first round); then the
        # messages fall due at once for both.
        wait_for(lambda: cluster.count(connected) == 2, "both workers running")
        # Both race for the digest; one sends it (its first round also builds the
        # routing index, for the districts' names).
        wait_for(lambda: reviewer.received, "the digest", deadline_s=60)
        with cluster.engine.begin() as conn:
            conn.execute(sa.text("UPDATE push_messages SET next_attempt_at = now()"))
        wait_for(
            lambda: cluster.count("SELECT count(*) FROM push_messages WHERE sent_at IS NULL") == 0
            and len(phone.received) >= count,
            "every message delivered",
            deadline_s=90,
        )
    finally:
        for proc in workers:
            _stop(proc)
    logs = [(cluster.root / f"worker-{n}" / "worker.log").read_text() for n in ("one", "two")]
    sent_by = [sum(int(m) for m in re.findall(r"^sent (\d+)", log, re.M)) for log in logs]
    assert sum(sent_by) == count + 1  # the messages and the one digest
    assert all(n > 0 for n in sent_by), sent_by  # both delivered: they ran at once
    # Both workers are stopped: nothing more can be sent. Each message arrived once.
    numbers = sorted(m["n"] for m in phone.received)
    assert numbers == list(range(count)), "a message sent twice or lost"
    assert phone.rejected == [] and reviewer.rejected == []
    digests = [m for m in reviewer.received if m["type"] == "new_cases"]
    assert len(digests) == 1, digests
    assert digests[0]["count"] == 1
    assert (
        cluster.count(
            "SELECT count(*) FROM push_messages m JOIN push_subscriptions s "
            "ON s.id = m.subscription_id WHERE s.user_id IS NOT NULL AND s.endpoint = :e",
            e=reviewer.subscription_json(svc_url)["endpoint"],
        )
        == 1
    )


# -- readiness through the proxy ------------------------------------------------------


def test_readiness_through_the_proxy_on_both_nodes(cluster):
    before = cluster.served()
    for _ in range(4):
        resp = requests.get(f"{cluster.proxy}/readyz", timeout=10)
        assert resp.status_code == 200
        assert resp.json() == {"database": "ok", "storage": "ok", "disk": "ok"}
    after = cluster.served()
    assert all(after[n] - before.get(n, 0) >= 2 for n in ("a", "b"))
    assert requests.get(f"{cluster.proxy}/healthz", timeout=10).json() == {"status": "ok"}


# -- SQLite machinery and the districts index -----------------------------------------


def test_the_sqlite_checkpoint_thread_stays_off_on_postgresql(cluster):
    from server import checkpoint
    from server.extensions import db

    with cluster.app.app_context():
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert db.engine.dialect.name == "postgresql"
        assert db.engine not in checkpoint._engines  # never registered for checkpoints


def _routed(cluster: Cluster, base: str) -> str | None:
    """A new report at HANOI through ``base``; the district it was routed to."""
    rid, status = put_report(base, register(base), photo())
    assert status == 201
    with cluster.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT district_code FROM reports WHERE id = :r"), {"r": rid}
        ).scalar_one()


def test_a_boundary_set_imported_at_run_time_routes_alike_on_both_nodes(cluster, tmp_path):
    # Last in this module: it imports the boundary set the nodes route by from then on.
    from tests.factories import HANOI

    before = {_routed(cluster, base) for base in (cluster.node_a, cluster.node_b)}
    assert len(before) == 1 and None not in before  # today's shipped communes, alike
    assert before != {"TEST01"}
    lat, lon = HANOI
    square = [[lon - 0.1, lat - 0.1], [lon + 0.1, lat - 0.1], [lon + 0.1, lat + 0.1],
              [lon - 0.1, lat + 0.1], [lon - 0.1, lat - 0.1]]  # fmt: skip
    boundaries = tmp_path / "new.geojson"
    boundaries.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {
                            "code": "TEST01",
                            "name": "Phường Thử",
                            "province_code": "TP01",
                            "province_name": "Thành phố Thử",
                            "type": "phường",
                        },
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        )
    )
    command = ["boundaries", "import", str(boundaries), "--effective", "2026-12-08"]
    result = cluster.app.test_cli_runner().invoke(args=[*command, "--id", "multinode-test"])
    assert result.exit_code == 0, result.output
    assert "boundary set multinode-test: 1 areas" in result.output

    # Each process re-reads the boundary version within a second: the new area comes on
    # both nodes, and a point is never routed to anything but the old or the new one.
    for base in (cluster.node_a, cluster.node_b):
        seen: set[str | None] = set()

        def moved(base: str = base, seen: set = seen) -> bool:
            seen.add(code := _routed(cluster, base))
            return code == "TEST01"

        wait_for(moved, f"the new area on {base}", deadline_s=30)
        assert seen <= before | {"TEST01"}, seen
