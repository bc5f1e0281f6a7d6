"""Builders of valid requests for the tests: reports, media, registered devices."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app
from werkzeug.wrappers import Response

from server.settings import settings_of
from tests.media_factory import make_jpeg

HANOI = (21.028511, 105.804817)
SECRET_NAME = "Nguyễn Văn Bí Mật"
SECRET_NATIONAL_ID = "001099012345"
SECRET_PHONE = "0912345678"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class MediaFile:
    data: bytes
    content_type: str = "image/jpeg"
    media_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def decl(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "sha256": sha256(self.data),
            "size": len(self.data),
            "content_type": self.content_type,
        }


def photo(**exif: Any) -> MediaFile:
    """A JPEG taken in Hà Nội at the report's time unless told otherwise."""
    exif.setdefault("lat", HANOI[0])
    exif.setdefault("lon", HANOI[1])
    exif.setdefault("taken_at", "2026-11-20T08:15:00")
    exif.setdefault("offset", "+07:00")
    return MediaFile(make_jpeg(**exif))


def blob_files(app: Flask) -> list[Path]:
    """Every evidence file stored under the media root's ``blobs`` folder."""
    root = Path(settings_of(app).media_root) / "blobs"
    return [Path(d, f) for d, _, fs in os.walk(root) for f in fs]


def report_body(media: list[MediaFile] | None = None, **overrides: Any) -> dict[str, Any]:
    media = media if media is not None else [photo()]
    body: dict[str, Any] = {
        "violation": "PARK_SIDEWALK_ROADWAY",
        "vehicle_class": "car",
        "plate": "30A-123.45",
        "vehicle_description": "Xe con màu trắng",
        "note": "Đỗ trên vỉa hè trước số 12",
        "captured_at": "2026-11-20T08:15:30+07:00",
        "location": {"lat": HANOI[0], "lon": HANOI[1], "accuracy_m": 8.0, "source": "gps"},
        "reporter": {
            "kind": "citizen",
            "name": SECRET_NAME,
            "national_id": SECRET_NATIONAL_ID,
            "phone": SECRET_PHONE,
        },
        "media": [m.decl for m in media],
    }
    body.update(overrides)
    return body


class Api:
    """A device's view of the API: a test client plus its bearer token."""

    def __init__(self, client: FlaskClient, device_id: str, token: str) -> None:
        self.client = client
        self.device_id = device_id
        self.token = token

    @classmethod
    def register(cls, client: FlaskClient) -> Api:
        resp = client.post("/api/v1/devices")
        assert resp.status_code == 201, resp.get_data(as_text=True)
        body = resp.get_json()
        return cls(client, body["device_id"], body["token"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def put_report(self, report_id: str, body: Any, **kw: Any):
        return self.client.put(f"/api/v1/reports/{report_id}", json=body, headers=self.auth, **kw)

    def get_report(self, report_id: str):
        return self.client.get(f"/api/v1/reports/{report_id}", headers=self.auth)

    def put_media(self, report_id: str, media: MediaFile, data: bytes | None = None):
        return self.client.put(
            f"/api/v1/reports/{report_id}/media/{media.media_id}",
            data=media.data if data is None else data,
            headers={**self.auth, "Content-Type": "application/octet-stream"},
        )


def send_with_body(
    api: Api, method: str, url: str, headers: dict[str, str], stream: Any, announced: int
) -> Response:
    """A request whose body ends (or breaks) before the announced Content-Length.

    The test client would correct Content-Length to the stream's real length, so the
    WSGI environ is built by hand, as a server sees a connection that dies midway.
    """
    environ = EnvironBuilder(path=url, method=method, headers=headers).get_environ()
    environ["wsgi.input"] = stream
    environ["CONTENT_LENGTH"] = str(announced)
    app_iter, status, resp_headers = run_wsgi_app(api.client.application, environ, buffered=True)
    return Response(app_iter, status=status, headers=resp_headers)


class BrokenStream(io.RawIOBase):
    """A request body whose connection resets after ``fail_after`` bytes."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self.data, self.pos, self.fail_after = data, 0, fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:  # type: ignore[override]
        if self.pos >= self.fail_after:
            raise ConnectionResetError("peer reset")
        n = min(len(buf), self.fail_after - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n
