"""HTTP calls of the protocol, and how each answer is classified (PROTOCOL.md §5, §7).

Every call either returns what it was for, or raises one of:

- :class:`RetryLater`: a network error, 5xx, 408, 423, 429 or 507, or a body the server
  ended as ``upload_incomplete`` (400: it stopped waiting for the bytes) — try again
  later, resuming (``retry_after`` seconds when the server said so; ``kind`` says which:
  ``network``, ``server``, ``full``, ``rate_limited``, ``incomplete``);
- :class:`UploadGone`: the upload URL is unknown or expired (404/410) — create it again;
- :class:`OffsetConflict`: the server's offset differs (409 on PATCH) — ask with HEAD;
- :class:`NeedsAttention`: a 4xx retrying cannot fix — keep the item, show the code.
"""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import requests

TUS = {"Tus-Resumable": "1.0.0"}
RETRY_STATUSES = {408, 423, 425, 429, 500, 502, 503, 504, 507}
NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class RetryLater(Exception):
    def __init__(self, why: str, retry_after: float | None = None, kind: str = "server") -> None:
        super().__init__(why)
        self.retry_after = retry_after
        self.kind = kind  # network | server | full | rate_limited | incomplete


class UploadGone(Exception):
    pass


class OffsetConflict(Exception):
    pass


class NeedsAttention(Exception):
    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"{status} {code}")
        self.code = code
        self.status = status


def problem_code(resp: requests.Response) -> str:
    try:
        return str(resp.json().get("code") or resp.status_code)
    except ValueError:
        return str(resp.status_code)


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return float(resp.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


RETRY_KINDS = {429: "rate_limited", 507: "full"}
# 4xx codes that are not about the request: the connection, not the file, was at fault.
RESUMABLE_CODES = {"upload_incomplete"}


def raise_for(resp: requests.Response) -> None:
    """Classify a non-success answer."""
    code = problem_code(resp)
    if resp.status_code in RETRY_STATUSES:
        kind = RETRY_KINDS.get(resp.status_code, "server")
        raise RetryLater(f"{resp.status_code} {code}", _retry_after(resp), kind)
    if code in RESUMABLE_CODES:
        raise RetryLater(f"{resp.status_code} {code}", _retry_after(resp), "incomplete")
    raise NeedsAttention(code, resp.status_code)


@dataclass
class Backoff:
    """Full-jitter exponential backoff: ``random(0, min(cap, base * 2**attempt))``."""

    base: float = 2.0
    cap: float = 900.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], None] = time.sleep
    attempt: int = 0

    def wait(self, retry_after: float | None = None) -> float:
        delay = self.rng.uniform(0, min(self.cap, self.base * 2**self.attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.cap))
        self.attempt += 1
        self.sleep(delay)
        return delay

    def reset(self) -> None:
        self.attempt = 0


class ProgressReader:
    """A file window ``[start, start+length)`` read in pieces, reporting bytes read."""

    def __init__(self, fh: BinaryIO, start: int, length: int, on_read: Callable[[int], None]):
        self.fh, self.remaining, self.on_read = fh, length, on_read
        self.length = length
        fh.seek(start)

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size < 0 or size > self.remaining:
            size = self.remaining
        data = self.fh.read(min(size, 256 * 1024))
        self.remaining -= len(data)
        self.on_read(len(data))
        return data


class Transport:
    """The protocol's calls against one server, as one device."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _call(self, method: str, url: str, **kw: Any) -> requests.Response:
        headers = {**self._auth(), **kw.pop("headers", {})}
        try:
            return self.session.request(method, url, headers=headers, timeout=self.timeout, **kw)
        except NETWORK_ERRORS as exc:
            raise RetryLater(f"network: {type(exc).__name__}", kind="network") from exc

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    # -- devices and reports -------------------------------------------------------------

    def register(self) -> tuple[str, str]:
        resp = self._call("POST", self.url("/api/v1/devices"))
        if resp.status_code != 201:
            raise_for(resp)
        body = resp.json()
        self.token = body["token"]
        return body["device_id"], body["token"]

    def put_device_key(self, spki: str) -> bool:
        """Register this device's public key (PROTOCOL §3.1a); False: the device already
        holds another key (``device_key_conflict``)."""
        resp = self._call("PUT", self.url("/api/v1/devices/key"), json={"spki": spki})
        if resp.status_code in (200, 201):
            return True
        if resp.status_code == 409 and problem_code(resp) == "device_key_conflict":
            return False
        raise_for(resp)
        return False

    def officer_login(self, username: str, password: str) -> dict[str, Any]:
        """An officer's device token (PROTOCOL §3.3a): ``{device_id, token, officer}``."""
        resp = self._call(
            "POST",
            self.url("/api/v1/officers/login"),
            json={"username": username, "password": password},
        )
        if resp.status_code != 201:
            raise_for(resp)
        body = resp.json()
        self.token = body["token"]
        return body

    def put_report(self, report_id: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self._call("PUT", self.url(f"/api/v1/reports/{report_id}"), json=body)
        if resp.status_code not in (200, 201):
            raise_for(resp)
        return _report_json(resp, report_id)

    def get_report(self, report_id: str) -> dict[str, Any]:
        resp = self._call("GET", self.url(f"/api/v1/reports/{report_id}"))
        if resp.status_code != 200:
            raise_for(resp)
        return _report_json(resp, report_id)

    def changes(self, since: str | None) -> dict[str, Any]:
        params = {"since": since} if since else {}
        resp = self._call("GET", self.url("/api/v1/changes"), params=params)
        if resp.status_code != 200:
            raise_for(resp)
        return resp.json()

    # -- tus ---------------------------------------------------------------------------

    def create_upload(self, report_id: str, media_id: str, size: int) -> tuple[str, int]:
        """Create the upload (offset 0, or its length when already received); (url, offset)."""
        meta = ",".join(
            f"{k} {base64.b64encode(v.encode()).decode()}"
            for k, v in (("report_id", report_id), ("media_id", media_id))
        )
        resp = self._call(
            "POST",
            self.url("/api/v1/uploads"),
            headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": meta},
        )
        if resp.status_code != 201 or "Location" not in resp.headers:
            raise_for(resp)
        return self.url(resp.headers["Location"]), int(resp.headers.get("Upload-Offset", 0))

    def head(self, url: str) -> int:
        resp = self._call("HEAD", url, headers=TUS)
        if resp.status_code in (404, 410):
            raise UploadGone(url)
        if resp.status_code != 200 or "Upload-Offset" not in resp.headers:
            raise_for(resp)
        return int(resp.headers["Upload-Offset"])

    def patch(self, url: str, offset: int, body: ProgressReader, checksum: bytes | None) -> int:
        headers = {
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        if checksum is not None:
            headers["Upload-Checksum"] = "sha256 " + base64.b64encode(checksum).decode()
        resp = self._call("PATCH", url, data=body, headers=headers)
        if resp.status_code == 204 and resp.headers.get("Tus-Resumable"):
            return int(resp.headers["Upload-Offset"])
        if resp.status_code in (404, 410):
            raise UploadGone(url)
        if resp.status_code == 409 and problem_code(resp) == "offset_mismatch":
            raise OffsetConflict(url)
        if resp.status_code == 460:
            raise RetryLater("chunk checksum mismatch")
        raise_for(resp)
        raise AssertionError("unreachable")


def _report_json(resp: requests.Response, report_id: str) -> dict[str, Any]:
    """Only a JSON body echoing the report id counts as an acknowledgement."""
    try:
        body = resp.json()
    except ValueError:
        raise RetryLater("not JSON (captive portal?)") from None
    if body.get("report_id") != report_id:
        raise RetryLater("answer does not echo the report id")
    return body


def sha256_of(fh: BinaryIO, start: int, length: int) -> bytes:
    fh.seek(start)
    digest = hashlib.sha256()
    remaining = length
    while remaining > 0:
        data = fh.read(min(remaining, 1024 * 1024))
        if not data:
            break
        digest.update(data)
        remaining -= len(data)
    return digest.digest()
