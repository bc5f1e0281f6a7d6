"""Slow clients (issue 17, item 2): uploads trickling a byte every few seconds must not
stop the server from answering everyone else.

The server is started exactly as ``./scripts/run`` starts it: its closing ``exec
gunicorn`` line is read from the script and run (every other option comes from
``gunicorn.conf.py``, as for the script), so this test cannot drift from it. Then 100
connections start uploads (50 tus PATCH bodies, 50 PUT report bodies) and send one
byte every few seconds; while the server holds all of them, other requests (the
catalogue, the liveness check, a small new report) must be answered, with 5 s as the
client's patience. The same runs behind the production front, Debian's nginx with
``deploy/nginx/roadwatch.conf`` (skipped when nginx is not installed; ``./scripts/test``
installs it).

An upload body slower than the floor (``BODY_IDLE_TIMEOUT_SECONDS``,
``BODY_MIN_BYTES_PER_SECOND``) is ended with what arrived kept, and the upload resumes
from there; a body at 2G speed is never ended. Only ``server/request_body.py``'s reader
of gunicorn's socket applies the floor, so these tests also show that the gevent
workers still hand upload bodies to it.

``bench/bench_slow_clients.py`` uses the helpers here to measure the latencies.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.factories import MediaFile, photo, report_body
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]
RUN_SCRIPT = ROOT / "scripts" / "run"
NGINX_SITE = ROOT / "deploy" / "nginx" / "roadwatch.conf"
BIN = Path(sys.executable).parent  # the virtualenv's bin/, where scripts/run finds them
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"
PATIENCE_S = 5.0  # a client that waits longer than this for an answer counts as failed
T = PATIENCE_S
TRICKLERS = 100
TRICKLE_INTERVAL_S = 5.0  # one byte per connection this often, as issue 17 measured
# The settings every server here gets: the trickling uploads come from one address and
# one device, past the flood limits (tests/test_rate_limits.py tests those).
NO_FLOOD_LIMITS = {
    "RATE_LIMIT_DEVICES_PER_MINUTE": "0",
    "RATE_LIMIT_REPORTS_PER_MINUTE": "0",
    "RATE_LIMIT_DEVICE_REPORTS_PER_MINUTE": "0",
}

# nginx's main file around the site file, with the connection limit README advises.
NGINX_MAIN = """{user}worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/roadwatch.conf;
}}
"""


# -- starting the server as scripts/run does ----------------------------------------------


def run_command(env: dict[str, str]) -> list[str]:
    """The gunicorn command ``scripts/run`` ends with, its variables taken from ``env``."""
    text = RUN_SCRIPT.read_text().replace("\\\n", " ")
    found = re.findall(r"^exec (\S*gunicorn\s.*)$", text, re.M)
    assert len(found) == 1, "scripts/run no longer ends with one `exec …gunicorn …` line"

    def expand(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(3)
        if name in env:
            return env[name]
        assert default is not None, f"scripts/run's gunicorn line needs ${name}"
        return default

    line = re.sub(r"\$\{(\w+)(:-([^}]*))?\}", expand, found[0])
    assert "$" not in line, f"a shell construct this test cannot read: {line}"
    args = shlex.split(line)
    args[0] = str(BIN / Path(args[0]).name)  # .venv/bin/gunicorn
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def _answers(url: str, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None):
    def check() -> bool:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log else ""
            raise AssertionError(f"{proc.args[0]} exited ({proc.returncode}): {tail}")
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    return check


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def run_server(
    instance: Path, settings: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()
) -> Iterator[str]:
    """The server on a free loopback port, started as ``./scripts/run`` starts it (the
    database migrated first, as the script does); yields its base URL. ``extra_args``
    (benchmarks only) are added to gunicorn's command line."""
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "WORKERS")}
    env.update(INSTANCE_PATH=str(instance), FLASK_APP="wsgi", **(settings or {}))
    subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = instance / "gunicorn.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            run_command({**env, "HOST": "127.0.0.1", "PORT": str(port)}) + list(extra_args),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(_answers(base + "/healthz", proc, log), "the server to start")
        yield base
    finally:
        _stop(proc, signal.SIGINT)  # gunicorn's quick shutdown: open uploads are cut


def nginx_site(listen_port: int, upstream_port: int) -> str:
    """deploy/nginx/roadwatch.conf with this test's ports put in."""
    site = NGINX_SITE.read_text()
    for pattern, new in (
        (r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{listen_port};"),
        (r"^(\s*)server 127\.0\.0\.1:8000;$", rf"\g<1>server 127.0.0.1:{upstream_port};"),
    ):
        site, n = re.subn(pattern, new, site, flags=re.M)
        assert n == 1, f"deploy/nginx/roadwatch.conf: expected one line matching {pattern}"
    return site


@contextmanager
def nginx_front(root: Path, upstream: str) -> Iterator[str]:
    """Debian's nginx with the repository's site file in front of ``upstream``."""
    assert NGINX is not None
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "roadwatch.conf").write_text(nginx_site(port, int(upstream.rsplit(":", 1)[1])))
    (root / "nginx.conf").write_text(
        NGINX_MAIN.format(
            # As root, nginx's workers would drop to nobody, who cannot write here.
            user="user root;\n" if os.geteuid() == 0 else "",
            root=root,
        )
    )
    log = root / "nginx-error.log"
    proc = subprocess.Popen(
        [NGINX, "-p", str(root), "-e", str(log), "-c", str(root / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(_answers(base + "/healthz", proc, log), "nginx to start")
        yield base
    finally:
        _stop(proc, signal.SIGQUIT)


# -- clients ------------------------------------------------------------------------------


def register(base: str) -> dict[str, str]:
    resp = requests.post(f"{base}/api/v1/devices", timeout=10)
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def new_upload(base: str, auth: dict[str, str], media: MediaFile) -> str:
    """A report declaring ``media``, and the tus upload of it; its path."""
    rid = str(uuid.uuid4())
    resp = requests.put(
        f"{base}/api/v1/reports/{rid}", json=report_body([media]), headers=auth, timeout=10
    )
    assert resp.status_code == 201, resp.text
    meta = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in (("report_id", rid), ("media_id", media.media_id))
    )
    headers = {**auth, **TUS, "Upload-Length": str(len(media.data)), "Upload-Metadata": meta}
    resp = requests.post(f"{base}/api/v1/uploads", headers=headers, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.headers["Location"]


def raw_request(method: str, path: str, headers: dict[str, str], length: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in {**headers, "Content-Length": str(length)}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Upload:
    """A request head and the body it announces, to be sent slowly."""

    head: bytes
    body: bytes


def trickling_uploads(base: str, n: int) -> list[Upload]:
    """``n`` real uploads, half tus PATCHes of declared evidence, half PUTs of reports."""
    auth = register(base)
    uploads = []
    for i in range(n):
        if i % 2 == 0:
            media = MediaFile(os.urandom(100_000))
            path = new_upload(base, auth, media)
            headers = {**auth, **TUS, "Upload-Offset": "0", "Content-Type": OCTET}
            uploads.append(Upload(raw_request("PATCH", path, headers, len(media.data)), media.data))
        else:
            body = json.dumps(report_body([MediaFile(os.urandom(1000))])).encode()
            path = f"/api/v1/reports/{uuid.uuid4()}"
            headers = {**auth, "Content-Type": "application/json"}
            uploads.append(Upload(raw_request("PUT", path, headers, len(body)), body))
    return uploads


@dataclass
class Tricklers:
    """Connections that each send their head and first body byte, then one more byte
    every ``interval`` seconds, until closed."""

    port: int
    uploads: list[Upload]
    interval: float = TRICKLE_INTERVAL_S
    socks: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Tricklers:
        for up in self.uploads:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            s.sendall(up.head + up.body[:1])
            self.socks.append(s)
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        sent = 1
        while not self._stop.wait(self.interval):  # the trickle's pace, not a race
            for s, up in zip(self.socks, self.uploads, strict=True):
                try:
                    s.send(up.body[sent : sent + 1])
                except OSError:
                    pass  # ended by the server: it stays ended
            sent += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for s in self.socks:
            s.close()


def server_side_sockets(port: int) -> tuple[list[int], int]:
    """The unread bytes of each established connection accepted on ``port`` (loopback,
    from /proc/net/tcp), and how many connections wait in its accept queue."""
    unread, backlog = [], 0
    local = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] != local:
            continue
        rx = int(fields[4].split(":")[1], 16)
        if fields[3] == "0A":  # LISTEN: rx_queue is the accept queue
            backlog += rx
        elif fields[3] == "01":  # ESTABLISHED
            unread.append(rx)
    return unread, backlog


def all_bodies_being_read(port: int, n: int) -> bool:
    """The server (or the proxy) on ``port`` accepted ``n`` connections and has read
    every byte sent on each: it is inside all those bodies, waiting for more."""
    unread, backlog = server_side_sockets(port)
    return backlog == 0 and sum(1 for rx in unread if rx == 0) >= n


@dataclass
class Answer:
    what: str
    status: int | str  # the HTTP status, or the exception's name when none came
    seconds: float


def probe_round(base: str, auth: dict[str, str]) -> list[Answer]:
    """Three requests of other clients, each on a new connection, each given 5 s."""
    report = report_body([photo()])
    calls: list[tuple[str, Callable[[], requests.Response]]] = [
        ("GET /api/v1/violations", lambda: requests.get(f"{base}/api/v1/violations", timeout=T)),
        ("GET /healthz", lambda: requests.get(f"{base}/healthz", timeout=T)),
        (
            "PUT /api/v1/reports/{id}",
            lambda: requests.put(
                f"{base}/api/v1/reports/{uuid.uuid4()}", json=report, headers=auth, timeout=T
            ),
        ),
    ]
    answers = []
    for what, call in calls:
        start = time.perf_counter()
        try:
            status: int | str = call().status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        answers.append(Answer(what, status, time.perf_counter() - start))
    return answers


EXPECTED = {"GET /api/v1/violations": 200, "GET /healthz": 200, "PUT /api/v1/reports/{id}": 201}


# -- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with run_server(tmp_path_factory.mktemp("slow") / "instance", NO_FLOOD_LIMITS) as base:
        yield base


@pytest.fixture(params=["gunicorn", "nginx"])
def front(request, server, tmp_path) -> Iterator[str]:
    """The server as ./scripts/run starts it, alone or behind the production nginx."""
    if request.param == "gunicorn":
        yield server
        return
    if NGINX is None:
        pytest.skip("nginx is not installed (./scripts/test installs it with apt)")
    with nginx_front(tmp_path / "nginx", server) as base:
        yield base


def test_scripts_run_gives_gunicorn_no_option_but_the_address() -> None:
    """Every other option is in gunicorn.conf.py, which tests and benchmarks that start
    gunicorn read too (the gevent workers are what keeps slow bodies cheap)."""
    args = run_command({"HOST": "h", "PORT": "1"})
    assert args[1:] == ["--bind", "h:1", "wsgi:app"]
    conf = (ROOT / "gunicorn.conf.py").read_text()
    assert re.search(r'^worker_class = "gevent"$', conf, re.M)


def test_other_clients_are_answered_while_100_uploads_trickle(front: str) -> None:
    port = int(front.rsplit(":", 1)[1])
    auth = register(front)
    assert all(a.status == EXPECTED[a.what] for a in probe_round(front, auth))  # warm

    with Tricklers(port, trickling_uploads(front, TRICKLERS)):
        deadline = time.monotonic() + 30
        while not (held := all_bodies_being_read(port, TRICKLERS)):
            if time.monotonic() > deadline:
                break  # the probes below say what that costs
            time.sleep(0.05)
        answers = [a for _ in range(3) for a in probe_round(front, auth)]
        still_held = all_bodies_being_read(port, TRICKLERS)

    failed = [a for a in answers if a.status != EXPECTED[a.what]]
    assert not failed, f"not answered within {T} s while {TRICKLERS} uploads trickle: {failed}"
    unread, backlog = server_side_sockets(port)
    assert held and still_held, (
        f"the {TRICKLERS} trickling bodies were not all being read "
        f"(accept queue {backlog}, connections with unread bytes {sum(1 for r in unread if r)})"
    )


# -- the floor under an upload body's pace -----------------------------------------------


@pytest.mark.parametrize(
    ("sender", "bytes_per_second", "ended_after_s"),
    [
        ("a byte every 5 s (issue 17)", 0.2, 60.0),
        ("a byte a second", 1.0, 60.6),
        ("just under the floor", 99.0, 6000.0),
        ("GPRS, 2 KB/s", 2000.0, None),
        ("2G at its best, 8 KB/s", 8000.0, None),
    ],
)
def test_the_default_pace_ends_trickles_within_minutes_and_never_a_2g_phone(
    sender: str, bytes_per_second: float, ended_after_s: float | None
) -> None:
    """With the default settings (60 s, 100 B/s), a steady sender is ended when its
    wait limit runs out; a phone on 2G never is, in a day of sending."""
    from server.request_body import Pace
    from server.settings import Settings

    defaults = Settings()
    pace = Pace(defaults.body_idle_timeout_seconds, defaults.body_min_bytes_per_second)

    def limit_at(t: float) -> float:
        return pace.wait_limit(t, int(t * bytes_per_second))

    if ended_after_s is None:
        assert all(limit_at(t) == pace.idle_seconds for t in range(0, 86_400, 7))
    else:
        assert limit_at(ended_after_s - 1) > 0
        assert limit_at(ended_after_s + 1) <= 0


PACED = {**NO_FLOOD_LIMITS, "BODY_IDLE_TIMEOUT_SECONDS": "2", "BODY_MIN_BYTES_PER_SECOND": "100"}


@pytest.fixture(scope="module")
def paced_server(tmp_path_factory) -> Iterator[str]:
    with run_server(tmp_path_factory.mktemp("paced") / "instance", PACED) as base:
        yield base


def send_paced(
    base: str, head: bytes, body: bytes, piece: int, every: float
) -> tuple[int, dict[str, str], int]:
    """Send ``body`` ``piece`` bytes at a time, one piece every ``every`` seconds, until
    it is all sent or the server answers; the status, headers and bytes sent."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        sent = 0
        while sent < len(body):
            s.sendall(body[sent : sent + piece])
            sent += min(piece, len(body) - sent)
            if select.select([s], [], [], every)[0]:  # the pace; an answer ends it early
                break
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            assert chunk, "the connection closed without an answer"
            answer += chunk
    lines = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, sent


def patch_head(base: str, auth: dict[str, str], path: str, offset: int, length: int) -> bytes:
    headers = {**auth, **TUS, "Upload-Offset": str(offset), "Content-Type": OCTET}
    return raw_request("PATCH", path, headers, length)


def test_a_body_slower_than_the_floor_is_ended_its_bytes_kept_and_the_upload_resumes(
    paced_server: str,
) -> None:
    base = paced_server
    auth = register(base)
    media = photo()
    path = new_upload(base, auth, media)
    # 5 bytes a second, under the 100 B/s floor: ended once the first 2 s are used up,
    # minutes before the body's end.
    status, headers, sent = send_paced(
        base, patch_head(base, auth, path, 0, len(media.data)), media.data, 1, 0.2
    )
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    kept = int(headers["Upload-Offset"])
    assert 0 < kept <= sent < len(media.data)
    resp = requests.head(base + path, headers={**auth, **TUS}, timeout=10)
    assert int(resp.headers["Upload-Offset"]) == kept
    resp = requests.patch(
        base + path,
        data=media.data[kept:],
        headers={**auth, **TUS, "Upload-Offset": str(kept), "Content-Type": OCTET},
        timeout=10,
    )
    assert resp.status_code == 204, resp.text
    assert resp.headers["Upload-Offset"] == str(len(media.data))


def test_a_body_that_stops_is_ended_after_the_idle_timeout_with_its_bytes_kept(
    paced_server: str,
) -> None:
    """A phone that lost its signal without closing the connection."""
    base = paced_server
    auth = register(base)
    media = MediaFile(photo().data + os.urandom(20_000))
    path = new_upload(base, auth, media)
    half = len(media.data) // 2
    status, headers, sent = send_paced(
        base, patch_head(base, auth, path, 0, len(media.data)), media.data, half, 30
    )
    assert status == 400 and int(headers["Upload-Offset"]) == half == sent


def test_a_body_at_2g_speed_is_never_ended(paced_server: str) -> None:
    """4 KB/s for longer than the idle timeout, in small pieces: the upload completes."""
    base = paced_server
    auth = register(base)
    media = MediaFile(photo().data + os.urandom(16_000))
    path = new_upload(base, auth, media)
    started = time.monotonic()
    status, headers, sent = send_paced(
        base, patch_head(base, auth, path, 0, len(media.data)), media.data, 400, 0.1
    )
    assert time.monotonic() - started > 2  # longer than BODY_IDLE_TIMEOUT_SECONDS
    assert (status, sent) == (204, len(media.data)), headers
    assert headers["Upload-Offset"] == str(len(media.data))
