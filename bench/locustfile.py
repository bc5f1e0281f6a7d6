"""Load with locust (issue 15): phones that report with evidence and reviewers that decide.

Run by bench/bench_load.py against two gunicorn nodes behind nginx; runs in its own
virtualenv (locust pins a newer ``requests`` than the server does), so it uses only
locust, gevent and the standard library.

Phones (``Phone``): register once, then in a loop: ``PUT`` a report declaring 1-3 photos
of 200 KB-2 MB, upload each by tus (a third of the uploads are cut midway by a dropped
connection and resumed from the offset a ``HEAD`` gives), poll the change feed. A fifth of
the phones send their bodies at 2G speed (``RW_LOAD_2G_BPS`` bytes per second, in small
pieces, as a rural phone does). Every report and file the server acknowledged is
written to a ledger (``RW_LOAD_LEDGER``), which bench_load.py checks against the
database and the bucket afterwards.

Reviewers (``Reviewer``): sign in to the console, open the queue, verify or reject a case.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import gevent
from locust import HttpUser, between, task

POOL = [p.read_bytes() for p in sorted(Path(os.environ["RW_LOAD_POOL"]).glob("*.jpg"))]
LEDGER = Path(os.environ["RW_LOAD_LEDGER"])
TWO_G_BPS = int(os.environ.get("RW_LOAD_2G_BPS", "25000"))
SLOW_SHARE = 0.2
CUT_SHARE = 0.33
PIECE = 4096
TUS = {"Tus-Resumable": "1.0.0"}
PASSWORD = os.environ.get("RW_LOAD_PASSWORD", "correct horse battery")
HANOI = (20.98, 21.08, 105.78, 105.88)
CASE_RE = re.compile(r'href="/console/cases/([0-9a-f-]{36})"')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VIOLATIONS = ["PARK_SIDEWALK_ROADWAY", "RED_LIGHT", "WRONG_WAY", "ILLEGAL_UTURN"]


def record(kind: str, **fields) -> None:
    with LEDGER.open("a") as f:
        f.write(json.dumps({"kind": kind, **fields}) + "\n")


def unique_photo() -> bytes:
    """A pool JPEG made unique by bytes after its end marker (decoders ignore them)."""
    return random.choice(POOL) + os.urandom(16)


class Cut(Exception):
    """The connection 'drops' after this many bytes."""


class Paced:
    """The body in pieces, at ``bps`` bytes per second when given; ``Cut`` is raised at
    ``cut_at``. Has a length, so requests sends a Content-Length (not chunked), as a
    phone's tus client does."""

    def __init__(self, data: bytes, bps: int | None, cut_at: int | None = None) -> None:
        self.data, self.bps, self.cut_at = data, bps, cut_at

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        sent = 0
        while sent < len(self.data):
            piece = self.data[sent : sent + PIECE]
            if self.cut_at is not None and sent + len(piece) > self.cut_at:
                raise Cut()
            yield piece
            sent += len(piece)
            if self.bps:
                gevent.sleep(len(piece) / self.bps)


class Phone(HttpUser):
    weight = 20
    # A busy phone: a report every 20-60 s (a real one sends a few a day).
    wait_time = between(20, 60)

    def on_start(self) -> None:
        self.slow = random.random() < SLOW_SHARE
        resp = self.client.post("/api/v1/devices", name="register")
        resp.raise_for_status()
        self.auth = {"Authorization": f"Bearer {resp.json()['token']}"}
        self.cursor = None

    @task
    def report(self) -> None:
        rid = str(uuid.uuid4())
        photos = [unique_photo() for _ in range(random.randint(1, 3))]
        media = [
            {"media_id": str(uuid.uuid4()), "sha256": hashlib.sha256(p).hexdigest(),
             "size": len(p), "content_type": "image/jpeg"}
            for p in photos
        ]  # fmt: skip
        lat = random.uniform(HANOI[0], HANOI[1])
        lon = random.uniform(HANOI[2], HANOI[3])
        body = {
            "violation": random.choice(VIOLATIONS),
            "vehicle_class": "car",
            "plate": f"30{random.choice('ABEFGHK')}-{random.randint(100, 999)}."
            f"{random.randint(10, 99)}",
            "vehicle_description": "xe con",
            "note": "",
            "captured_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "location": {"lat": lat, "lon": lon, "accuracy_m": 10.0, "source": "gps"},
            "reporter": {"kind": "citizen"},
            "media": media,
        }
        with self.client.put(
            f"/api/v1/reports/{rid}", json=body, headers=self.auth, name="PUT report",
            catch_response=True,
        ) as resp:  # fmt: skip
            if resp.status_code != 201:
                resp.failure(f"PUT report {resp.status_code}: {resp.text[:200]}")
                return
        record("report", id=rid)
        for m, data in zip(media, photos, strict=True):
            if self.upload(rid, m, data):
                record("media", report_id=rid, id=m["media_id"], sha256=m["sha256"])
        self.poll()

    def upload(self, rid: str, m: dict, data: bytes) -> bool:
        meta = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}"
            for k, v in (("report_id", rid), ("media_id", m["media_id"]))
        )
        headers = {**self.auth, **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta}
        resp = self.client.post("/api/v1/uploads", headers=headers, name="tus create")
        if resp.status_code != 201:
            return False
        url = resp.headers["Location"]
        bps = TWO_G_BPS if self.slow else None
        offset = 0
        if random.random() < CUT_SHARE:
            try:
                self._patch(url, data, 0, bps, cut_at=random.randint(PIECE, len(data) - 1))
            except Exception:  # the dropped connection, as the phone sees it
                pass
            head = self.client.head(url, headers={**self.auth, **TUS}, name="tus head")
            if head.status_code != 200:
                return False
            offset = int(head.headers["Upload-Offset"])
        resp = self._patch(url, data, offset, bps)
        return resp.status_code == 204

    def _patch(
        self, url: str, data: bytes, offset: int, bps: int | None, cut_at: int | None = None
    ):
        headers = {
            **self.auth, **TUS, "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(len(data) - offset),
        }  # fmt: skip
        name = "tus patch (cut)" if cut_at is not None else "tus patch"
        rest = data[offset:]
        body = Paced(rest, bps, cut_at) if (bps or cut_at is not None) else rest
        if cut_at is not None:
            # A dropped connection is not a failure of the server: not counted by locust.
            import requests

            return requests.patch(url if url.startswith("http") else self.host + url,
                                  data=body, headers=headers, timeout=600)  # fmt: skip
        return self.client.patch(url, data=body, headers=headers, name=name)

    def poll(self) -> None:
        params = {"limit": "100"} | ({"since": self.cursor} if self.cursor else {})
        resp = self.client.get("/api/v1/changes", params=params, headers=self.auth, name="changes")
        if resp.ok:
            self.cursor = resp.json().get("cursor") or self.cursor


class Reviewer(HttpUser):
    weight = 1
    wait_time = between(2, 6)

    def on_start(self) -> None:
        page = self.client.get("/console/login", name="console login page").text
        token = CSRF_RE.search(page).group(1)
        resp = self.client.post(
            "/console/login",
            data={
                "username": os.environ["RW_LOAD_REVIEWER"],
                "password": PASSWORD,
                "csrf_token": token,
            },
            allow_redirects=False,
            name="console login",
        )
        resp.raise_for_status()

    @task
    def decide(self) -> None:
        queue = self.client.get("/console/queue", name="console queue").text
        cases = CASE_RE.findall(queue)
        if not cases:
            return
        case = random.choice(cases[:20])
        page = self.client.get(f"/console/cases/{case}", name="console case").text
        token = CSRF_RE.search(page)
        count = re.search(r'name="confirm_count" value="(\d+)"', page)
        if not token or not count:
            return
        data = {"csrf_token": token.group(1), "confirm_count": count.group(1)}
        if random.random() < 0.7:
            data["kind"] = "verify"
        else:
            data |= {"kind": "reject", "reason_code": "plate_unreadable"}
        self.client.post(
            f"/console/cases/{case}/decide", data=data, allow_redirects=False, name="console decide"
        )
