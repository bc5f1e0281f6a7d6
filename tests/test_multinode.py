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
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from server.settings import Settings
from server.storage_backends import open_store
from tests.factories import MediaFile, photo, report_body
from tests.faults.server import ServerProcess, free_port

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

    def served(self) -> dict[str, int]:
        """Requests each node was sent by the proxy (HAProxy's own count)."""
        text = requests.get(f"{self.stats};csv", timeout=5).text.lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: int(r["stot"]) for r in rows if r["pxname"] == "nodes"}

    def count(self, sql: str, **params: object) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()


def _database(pg_base: str) -> str:
    name = "rw_nodes_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(f"{pg_base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return f"{pg_base}/{name}"


@pytest.fixture(scope="module")
def cluster(pg_server: str, s3_server, tmp_path_factory) -> Iterator[Cluster]:
    if HAPROXY is None:
        pytest.skip("HAProxy is not installed (./scripts/test installs it with apt)")
    root = tmp_path_factory.mktemp("nodes")
    db_url = _database(pg_server)
    location = s3_server.new_location()
    shared = {
        "DATABASE_URL": db_url,
        **s3_server.settings(location),
        "SECRET_KEY": "two-nodes",
        "IDENTITY_KEY": Fernet.generate_key().decode(),
        "RATE_LIMIT_DEVICES_PER_MINUTE": "0",
        "RATE_LIMIT_REPORTS_PER_MINUTE": "0",
        "RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE": "0",
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
        yield Cluster(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{ports[0]}",
            f"http://127.0.0.1:{ports[1]}",
            f"http://127.0.0.1:{stats_port}/stats",
            engine,
            store,
        )
        engine.dispose()
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


def wait_for(condition: Callable[[], object], what: str, deadline_s: float = 30) -> object:
    """Wait for an event that must come (not a delay), else fail."""
    end = time.monotonic() + deadline_s
    while not (value := condition()):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


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
