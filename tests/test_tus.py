"""Resumable uploads (tus 1.0.0, PROTOCOL.md §3.5): nothing lost, nothing stored twice.

A real third-party client (tuspy) drives the happy paths over HTTP; the protocol's
edges are exercised with the test client and hand-built WSGI environs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.fingerprint.interface import Fingerprint
from tusclient.storage.interface import Storage

from server.extensions import db
from server.models import Media, utcnow
from server.models.uploads import Upload
from server.services.evidence import media_store
from server.services.upload_locks import locked
from server.settings import override, settings_of
from server.storage import MediaStore
from tests.factories import (
    HANOI,
    Api,
    BrokenStream,
    MediaFile,
    blob_files,
    photo,
    report_body,
    send_with_body,
)
from tests.media_factory import make_png

# Every test runs on a folder and on a bucket (a real SeaweedFS): see tests/conftest.py.
pytestmark = pytest.mark.usefixtures("storage")

TUS = {"Tus-Resumable": "1.0.0"}
OCTET = "application/offset+octet-stream"
KIB = 1024
MIB = 1024 * KIB


# -- helpers ----------------------------------------------------------------------------


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def metadata(report_id: str, media_id: str, **extra: str) -> str:
    pairs = {"report_id": report_id, "media_id": media_id, **extra}
    return ",".join(f"{k} {b64(v)}" for k, v in pairs.items())


def big_photo(size: int = 3 * MIB, seed: int = 7) -> MediaFile:
    """A JPEG with EXIF (Hà Nội), padded after its end with random bytes to ``size``."""
    data = photo().data
    return MediaFile(data + random.Random(seed).randbytes(size - len(data)))


def digest_header(algorithm: str, data: bytes) -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


class Tus:
    """A device speaking tus through the test client."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def headers(self, **extra: str) -> dict[str, str]:
        return {**self.api.auth, **TUS, **extra}

    def create(
        self,
        report_id: str,
        media: MediaFile,
        length: int | None = None,
        body: bytes | None = None,
        **headers: str,
    ):
        h = self.headers(
            **{
                "Upload-Length": str(len(media.data) if length is None else length),
                "Upload-Metadata": metadata(
                    report_id, media.media_id, filename="IMG_0001.jpg", filetype="image/jpeg"
                ),
            }
        )
        if body is not None:
            h["Content-Type"] = OCTET
        h.update({k.replace("_", "-"): v for k, v in headers.items()})
        return self.api.client.post("/api/v1/uploads", headers=h, data=body)

    def head(self, url: str):
        return self.api.client.head(url, headers=self.headers())

    def patch(self, url: str, offset: int, data: bytes, **headers: str):
        h = self.headers(**{"Upload-Offset": str(offset), "Content-Type": OCTET})
        h.update({k.replace("_", "-"): v for k, v in headers.items()})
        return self.api.client.patch(url, headers=h, data=data)

    def delete(self, url: str):
        return self.api.client.delete(url, headers=self.headers())


def declare(api: Api, *media: MediaFile) -> str:
    rid = str(uuid.uuid4())
    resp = api.put_report(rid, report_body(list(media)))
    assert resp.status_code == 201, resp.get_json()
    return rid


def offset_of(resp) -> int:
    return int(resp.headers["Upload-Offset"])


def upload_rows(app) -> list[Upload]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Upload)))


def store_of(app) -> Any:
    with app.app_context():
        return media_store()


def is_bucket(app) -> bool:
    return not store_of(app).is_local


def partial_files(app) -> list[str]:
    """The ids of the uploads with partial bytes kept (files, or objects in a bucket)."""
    store = store_of(app)
    if not store.is_local:
        return sorted(store.partial_ids_older_than(datetime(2999, 1, 1, tzinfo=UTC)))
    folder = Path(settings_of(app).media_root) / "uploads"
    return sorted(os.listdir(folder)) if folder.exists() else []


def partial_bytes(app, url: str) -> bytes:
    store = store_of(app)
    upload_id = url.rsplit("/", 1)[1]
    if store.is_local:
        return store.partial_path(upload_id).read_bytes()
    staged = store.stage_partial(upload_id)
    try:
        return staged.path.read_bytes()
    finally:
        store.discard(staged)


def stored_bytes(app, sha256: str) -> bytes | None:
    store = store_of(app)
    if store.is_local:
        path = store.blob_path(sha256)
        return path.read_bytes() if path.exists() else None
    return store.read_blob(sha256)


def stored_blobs(app) -> list[str]:
    """The SHA-256 of every evidence blob stored."""
    store = store_of(app)
    if store.is_local:
        return sorted(p.name for p in blob_files(app))
    return sorted(store.blob_keys())


def fs_only(app) -> None:
    if is_bucket(app):
        pytest.skip("inspects the filesystem store's files (the bucket's test is separate)")


@contextmanager
def holding_lock(app, url: str) -> Iterator[None]:
    """Hold the upload's lock as another request (or node) writing it would."""
    with app.app_context(), locked(url.rsplit("/", 1)[1]):
        yield


def received(app, media: MediaFile) -> bool:
    with app.app_context():
        return db.session.get(Media, media.media_id).received_at is not None


def expire_now(app, *urls: str) -> None:
    """Move the uploads' expiry into the past (as if UPLOAD_EXPIRY_HOURS had passed)."""
    ids = [url.rsplit("/", 1)[1] for url in urls]
    with app.app_context():
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(sa.update(Upload).where(Upload.id.in_(ids)).values(expires_at=past))
        db.session.commit()


def partial_path(app, url: str) -> Path:
    return MediaStore(settings_of(app).media_root).partial_path(url.rsplit("/", 1)[1])


class PausingStream(io.RawIOBase):
    """A body that hands out ``first`` bytes, then waits for ``go`` before the rest."""

    def __init__(self, data: bytes, first: int) -> None:
        self.data, self.pos, self.first = data, 0, first
        self.paused, self.go = threading.Event(), threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        if self.pos == self.first and not self.go.is_set():
            self.paused.set()
            assert self.go.wait(timeout=30)
        end = self.first if self.pos < self.first else len(self.data)
        n = min(len(buf), end - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


class BodyCounter:
    """WSGI middleware: how many request-body bytes the app read, over all requests."""

    def __init__(self, app) -> None:
        self.inner = app.wsgi_app
        self.total = 0
        self._lock = threading.Lock()
        app.wsgi_app = self

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input"] = _Counting(environ["wsgi.input"], self)
        return self.inner(environ, start_response)

    def add(self, n: int) -> None:
        with self._lock:
            self.total += n


class _Counting:
    def __init__(self, stream: Any, counter: BodyCounter) -> None:
        self.stream, self.counter = stream, counter

    def read(self, *args: Any) -> bytes:
        data = self.stream.read(*args)
        self.counter.add(len(data))
        return data

    def readline(self, *args: Any) -> bytes:
        data = self.stream.readline(*args)
        self.counter.add(len(data))
        return data


class DictStorage(Storage):
    """tuspy URL storage in memory (the PWA keeps it in IndexedDB)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def get_item(self, key: str) -> str | None:
        return self.items.get(key)

    def set_item(self, key: str, value: str) -> None:
        self.items[key] = value

    def remove_item(self, key: str) -> None:
        self.items.pop(key, None)


class MediaIdFingerprint(Fingerprint):
    """Resume by media_id, not by file name or mtime (a Blob from IndexedDB has neither)."""

    def __init__(self, media_id: str) -> None:
        self.media_id = media_id

    def get_fingerprint(self, fs) -> str:
        return f"media-{self.media_id}"


def tuspy_uploader(base_url: str, api: Api, rid: str, media: MediaFile, folder: Path, **kw: Any):
    """A tuspy uploader of ``media`` (from a file: tuspy closes a stream it fingerprints)."""
    path = folder / f"{media.media_id}.jpg"
    path.write_bytes(media.data)
    client = tus_client.TusClient(f"{base_url}/api/v1/uploads", headers=api.auth)
    return client.uploader(
        file_path=str(path),
        metadata={
            "report_id": rid,
            "media_id": media.media_id,
            "filename": "IMG_0001.jpg",
            "filetype": media.content_type,
        },
        **kw,
    )


@pytest.fixture
def api(client) -> Api:
    return Api.register(client)


@pytest.fixture
def tus(api: Api) -> Tus:
    return Tus(api)


# -- with a real tus client -----------------------------------------------------------------


@pytest.mark.parametrize("upload_checksum", [False, True], ids=["plain", "sha1-checksums"])
def test_tuspy_uploads_3mb_in_256k_chunks_and_the_evidence_is_received_byte_identical(
    app, live_server, api, tmp_path, upload_checksum
):
    media = big_photo()
    rid = declare(api, media)
    uploader = tuspy_uploader(
        live_server,
        api,
        rid,
        media,
        tmp_path,
        chunk_size=256 * KIB,
        upload_checksum=upload_checksum,
    )
    uploader.upload()
    assert uploader.offset == len(media.data)

    report = api.get_report(rid).get_json()
    assert report["status"] == "submitted"
    evidence = report["evidence"][0]
    assert evidence["received"] is True
    assert evidence["exif"]["lat"] == pytest.approx(HANOI[0], abs=1e-6)
    assert evidence["exif"]["taken_at"] == "2026-11-20T08:15:00+07:00"
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    assert partial_files(app) == []
    [row] = upload_rows(app)
    assert row.completed_at is not None


@pytest.mark.parametrize("how", ["url", "url_storage"])
def test_a_new_tuspy_uploader_resumes_from_the_server_offset_and_sends_the_file_once(
    app, live_server, api, tmp_path, how
):
    media = big_photo(seed=11)
    rid = declare(api, media)
    counter = BodyCounter(app)
    storage = DictStorage()
    fingerprint = MediaIdFingerprint(media.media_id)
    store_kw = {"store_url": True, "url_storage": storage, "fingerprinter": fingerprint}

    first = tuspy_uploader(
        live_server, api, rid, media, tmp_path, chunk_size=256 * KIB,
        **(store_kw if how == "url_storage" else {}),
    )  # fmt: skip
    first.upload(stop_at=MIB + 123)  # the phone app is killed here
    part = first.offset
    assert part >= MIB + 123
    assert offset_of(Tus(api).head(first.url)) == part

    # A new process: only what it kept (the URL, or nothing) and the file.
    if how == "url":
        second = tuspy_uploader(
            live_server, api, rid, media, tmp_path, chunk_size=256 * KIB, url=first.url
        )
    else:
        second = tuspy_uploader(
            live_server, api, rid, media, tmp_path, chunk_size=256 * KIB, **store_kw
        )
    assert second.offset == part
    second.upload()

    assert second.url == first.url
    assert received(app, media)
    assert counter.total == len(media.data)  # every byte crossed the network once
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    assert len(upload_rows(app)) == 1


@pytest.mark.parametrize("chunk_size", [256 * KIB, None], ids=["256k-chunks", "one-request"])
def test_tuspy_with_defaults_that_lost_the_url_creates_again_and_succeeds_storing_once(
    app, live_server, api, tmp_path, chunk_size
):
    """Issue 17 item 7: a standard client that lost its upload URL creates the upload
    again and PATCHes from 0; it must succeed (tuspy's defaults: no retries)."""
    media = big_photo(seed=13)
    rid = declare(api, media)
    counter = BodyCounter(app)
    first = tuspy_uploader(live_server, api, rid, media, tmp_path, chunk_size=256 * KIB)
    first.upload(stop_at=MIB + 5)  # killed here, and the URL is lost with the process
    part = first.offset
    assert 0 < part < len(media.data)

    kw = {"chunk_size": chunk_size} if chunk_size else {}
    second = tuspy_uploader(live_server, api, rid, media, tmp_path, **kw)
    second.upload()

    assert second.offset == len(media.data)
    assert second.url != first.url
    assert received(app, media)
    assert counter.total == part + len(media.data)  # the lost part was sent again...
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    assert stored_blobs(app) == [media.decl["sha256"]]  # ...but stored once
    assert partial_files(app) == []  # the old partial bytes were discarded
    [row] = upload_rows(app)
    assert row.completed_at is not None
    assert Tus(api).head(urlsplit(first.url).path).status_code == 404


def test_tuspy_with_defaults_creating_again_after_completion_succeeds_and_stores_nothing(
    app, live_server, api, tmp_path
):
    """The last PATCH's answer was lost: the client starts over with a creation."""
    media = big_photo(size=700 * KIB, seed=17)
    rid = declare(api, media)
    first = tuspy_uploader(live_server, api, rid, media, tmp_path, chunk_size=256 * KIB)
    first.upload()
    assert received(app, media)

    second = tuspy_uploader(live_server, api, rid, media, tmp_path, chunk_size=256 * KIB)
    second.upload()
    assert second.offset == len(media.data)
    assert second.url == first.url  # the finished upload, told it is finished
    assert stored_blobs(app) == [media.decl["sha256"]]
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    assert partial_files(app) == [] and len(upload_rows(app)) == 1


def test_tuspy_reports_a_failed_upload_when_the_bytes_do_not_match_the_declaration(
    app, live_server, api, tmp_path
):
    media = big_photo(size=600 * KIB, seed=3)
    rid = declare(api, media)
    tampered = MediaFile(media.data[:-1] + b"X", media_id=media.media_id)
    uploader = tuspy_uploader(live_server, api, rid, tampered, tmp_path, chunk_size=256 * KIB)
    with pytest.raises(TusCommunicationError) as err:
        uploader.upload()
    assert err.value.status_code == 422
    assert not received(app, media)
    assert upload_rows(app) == [] and partial_files(app) == []


# -- creation ---------------------------------------------------------------------------


def test_creation_answers_201_with_location_offset_and_expiry(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    resp = tus.create(rid, media)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.headers["Location"].startswith("/api/v1/uploads/")
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert offset_of(resp) == 0
    expires = parsedate_to_datetime(resp.headers["Upload-Expires"])
    expected = datetime.now(UTC) + timedelta(hours=settings_of(app).upload_expiry_hours)
    assert abs(expires - expected) < timedelta(minutes=1)
    assert resp.headers["Upload-Expires"].endswith(" GMT")
    assert partial_files(app) == [resp.headers["Location"].rsplit("/", 1)[1]]


def test_creation_twice_before_any_byte_returns_the_same_location_at_offset_0(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    again = tus.create(rid, media)
    assert again.status_code == 201
    assert (again.headers["Location"], offset_of(again)) == (url, 0)
    assert len(upload_rows(app)) == 1 and len(partial_files(app)) == 1


def test_creation_again_after_bytes_starts_a_new_upload_at_0_and_discards_the_old(app, tus):
    """Standard tus clients PATCH from 0 after a creation: the answer must say 0."""
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:100]).status_code == 204
    again = tus.create(rid, media)
    assert again.status_code == 201
    new_url = again.headers["Location"]
    assert new_url != url and offset_of(again) == 0
    assert tus.head(url).status_code == 404
    assert partial_files(app) == [new_url.rsplit("/", 1)[1]]
    assert partial_bytes(app, new_url) == b""
    assert len(upload_rows(app)) == 1
    assert tus.patch(new_url, 0, media.data).status_code == 204
    assert received(app, media)


def test_creation_again_while_a_patch_writes_the_upload_is_told_to_retry(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:100]).status_code == 204
    override(app, UPLOAD_LOCK_WAIT_SECONDS=0.1)
    with holding_lock(app, url):
        resp = tus.create(rid, media)
    assert resp.status_code == 423
    assert resp.headers["Retry-After"]
    assert offset_of(tus.head(url)) == 100  # nothing was discarded


def test_ten_concurrent_creations_make_one_upload(app):
    api = Api.register(app.test_client())
    media = photo()
    rid = declare(api, media)
    barrier = threading.Barrier(10)

    def create(_: int) -> tuple[int, str]:
        tus = Tus(Api(app.test_client(), api.device_id, api.token))
        barrier.wait()
        resp = tus.create(rid, media)
        return resp.status_code, resp.headers.get("Location", "")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(create, range(10)))
    assert {code for code, _ in results} == {201}
    assert len({location for _, location in results}) == 1
    assert len(upload_rows(app)) == 1
    assert len(partial_files(app)) == 1


def test_creation_with_upload_appends_the_body_and_answers_its_offset(app, tus):
    media = big_photo(size=300 * KIB)
    rid = declare(tus.api, media)
    resp = tus.create(rid, media, body=media.data[: 100 * KIB])
    assert resp.status_code == 201
    assert offset_of(resp) == 100 * KIB
    url = resp.headers["Location"]
    assert partial_bytes(app, url) == media.data[: 100 * KIB]
    # A retried creation with its body starts a new upload with it: the first one's
    # bytes are discarded, never kept beside it.
    again = tus.create(rid, media, body=media.data[: 100 * KIB])
    url = again.headers["Location"]
    assert offset_of(again) == 100 * KIB
    assert partial_files(app) == [url.rsplit("/", 1)[1]]
    assert partial_bytes(app, url) == media.data[: 100 * KIB]
    assert tus.patch(url, 100 * KIB, media.data[100 * KIB :]).status_code == 204
    assert received(app, media)


def test_creation_with_upload_ignores_the_body_while_another_request_writes_the_upload(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    with holding_lock(app, url):
        resp = tus.create(rid, media, body=media.data)
    assert resp.status_code == 201
    assert (resp.headers["Location"], offset_of(resp)) == (url, 0)
    assert partial_bytes(app, url) == b""


def test_creation_with_upload_of_the_whole_file_completes_it(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    resp = tus.create(
        rid, media, body=media.data, Upload_Checksum=digest_header("sha256", media.data)
    )
    assert resp.status_code == 201
    assert offset_of(resp) == len(media.data)
    assert "Upload-Expires" not in resp.headers
    assert received(app, media)


def test_creation_for_already_received_media_reports_offset_equal_to_length(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    assert tus.api.put_media(rid, media).status_code == 201  # sent by the simple PUT
    resp = tus.create(rid, media)
    assert resp.status_code == 201
    assert offset_of(resp) == len(media.data)
    url = resp.headers["Location"]
    head = tus.head(url)
    assert (offset_of(head), int(head.headers["Upload-Length"])) == (len(media.data),) * 2
    assert partial_files(app) == []
    # A client that PATCHes anyway is told it is done, from any offset (a standard
    # client PATCHes from 0 after a creation); nothing is stored.
    for offset, body in ((len(media.data), b""), (0, media.data[:10])):
        done = tus.patch(url, offset, body)
        assert (done.status_code, offset_of(done)) == (204, len(media.data))
    assert partial_files(app) == []


def test_creation_after_completion_answers_the_finished_upload(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data).status_code == 204
    again = tus.create(rid, media)
    assert (again.headers["Location"], offset_of(again)) == (url, len(media.data))


OTHER = "other"

# (id, how the creation is wrong, status, code)
BAD_CREATIONS = [
    ("report of another device", {"report": OTHER}, 404, "report_not_found"),
    ("media id not declared", {"media_id": str(uuid.uuid4())}, 404, "media_not_declared"),
    ("report that does not exist", {"report_id": str(uuid.uuid4())}, 404, "report_not_found"),
    ("length other than declared", {"length": "declared+1"}, 422, "size_mismatch"),
    ("length over the server maximum", {"length": 26 * MIB}, 413, "payload_too_large"),
    ("length missing", {"headers": {"Upload-Length": None}}, 400, "bad_request"),
    ("length not a number", {"headers": {"Upload-Length": "12kb"}}, 400, "bad_request"),
    (
        "deferred length",
        {"headers": {"Upload-Length": None, "Upload-Defer-Length": "1"}},
        400,
        "bad_request",
    ),
    ("concatenation", {"headers": {"Upload-Concat": "partial"}}, 400, "bad_request"),
    ("metadata without media_id", {"meta": "report_id {rid}"}, 400, "bad_request"),
    ("metadata not base64", {"meta": "report_id %%%,media_id {mid}"}, 400, "bad_request"),
    ("media_id not a uuid", {"media_id": "photo-1"}, 400, "invalid_id"),
    ("wrong tus version", {"headers": {"Tus-Resumable": "0.2.2"}}, 412, "tus_version_unsupported"),
    ("no tus version", {"headers": {"Tus-Resumable": None}}, 412, "tus_version_unsupported"),
    ("no token", {"headers": {"Authorization": None}}, 401, "unauthorized"),
]


@pytest.mark.parametrize(
    ("how", "status", "code"), [r[1:] for r in BAD_CREATIONS], ids=[r[0] for r in BAD_CREATIONS]
)
def test_bad_creation_is_refused_and_creates_nothing(app, client, tus, how, status, code):
    media = photo()
    rid = declare(tus.api, media)
    if how.get("report") == OTHER:
        rid = declare(Api.register(client), MediaFile(photo().data))
    report_id = how.get("report_id", rid)
    media_id = how.get("media_id", media.media_id)
    length = how.get("length", len(media.data))
    if length == "declared+1":
        length = len(media.data) + 1
    headers = {
        **tus.api.auth,
        **TUS,
        "Upload-Length": str(length),
        "Upload-Metadata": metadata(report_id, media_id),
    }
    if "meta" in how:
        meta = how["meta"].format(rid=b64(rid), mid=b64(media.media_id))
        headers["Upload-Metadata"] = meta
    for key, value in how.get("headers", {}).items():
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    resp = client.post("/api/v1/uploads", headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["code"] == code
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    if status == 412:
        assert resp.headers["Tus-Version"] == "1.0.0"
    assert upload_rows(app) == [] and partial_files(app) == []


# -- HEAD and PATCH -------------------------------------------------------------------------


def test_head_reports_offset_length_expiry_and_forbids_caching(tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    tus.patch(url, 0, media.data[:500])
    resp = tus.head(url)
    assert resp.status_code == 200
    assert offset_of(resp) == 500
    assert int(resp.headers["Upload-Length"]) == len(media.data)
    assert resp.headers["Cache-Control"] == "no-store"
    assert parsedate_to_datetime(resp.headers["Upload-Expires"]) > datetime.now(UTC)
    assert resp.get_data() == b""


def test_head_offset_is_the_partial_file_size_whatever_the_database_says(app, tus):
    """Bytes fsynced by a PATCH whose process was killed before it touched the DB count."""
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    store = store_of(app)
    if store.is_local:
        with partial_path(app, url).open("ab") as fh:
            fh.write(media.data[:777])
    else:  # a piece stored by a node killed before it answered
        key = store._piece_key(url.rsplit("/", 1)[1], 0)
        store.client.put_object(Bucket=store.bucket, Key=key, Body=media.data[:777])
    assert offset_of(tus.head(url)) == 777
    assert tus.patch(url, 0, media.data[:10]).status_code == 409
    assert tus.patch(url, 777, media.data[777:]).status_code == 204
    assert received(app, media)


SERVE = """
from werkzeug.serving import make_server
from server import create_app

server = make_server("127.0.0.1", 0, create_app({"MAX_UPLOAD_MB": 25}), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def test_after_sigkill_mid_patch_head_reports_the_bytes_on_disk_and_the_upload_resumes(
    app, tus, tmp_path
):
    fs_only(app)
    """The server process dies mid-PATCH, before any database write: nothing is lost."""
    media = big_photo(size=2 * MIB, seed=13)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MEDIA_ROOT": settings_of(app).media_root,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "IDENTITY_KEY": settings_of(app).identity_key,
        "INSTANCE_PATH": str(tmp_path / "instance"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        sent = 900 * KIB
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            request_head = (
                f"PATCH {url} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {tus.api.token}\r\nTus-Resumable: 1.0.0\r\n"
                f"Content-Type: {OCTET}\r\nUpload-Offset: 0\r\n"
                f"Content-Length: {len(media.data)}\r\n\r\n"
            )
            sock.sendall(request_head.encode() + media.data[:sent])
            partial = partial_path(app, url)
            deadline = time.monotonic() + 30
            while partial.stat().st_size < 512 * KIB:  # wait for the server to write
                assert time.monotonic() < deadline, "the server never wrote the bytes"
                time.sleep(0.01)
            proc.kill()  # SIGKILL: no finally, no rollback, no database write
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    on_disk = partial_path(app, url).stat().st_size
    assert 512 * KIB <= on_disk <= sent
    [row] = upload_rows(app)
    assert row.last_patch_at is None  # the killed PATCH never reached the database
    assert offset_of(tus.head(url)) == on_disk
    assert tus.patch(url, on_disk, media.data[on_disk:]).status_code == 204
    assert received(app, media)
    assert stored_bytes(app, media.decl["sha256"]) == media.data


def test_patch_appends_and_extends_the_expiry(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    soon = utcnow() + timedelta(minutes=5)
    with app.app_context():
        db.session.execute(sa.update(Upload).values(expires_at=soon))
        db.session.commit()
    resp = tus.patch(url, 0, media.data[:1000])
    assert resp.status_code == 204
    assert offset_of(resp) == 1000
    expires = parsedate_to_datetime(resp.headers["Upload-Expires"])
    assert expires > soon + timedelta(hours=1)
    assert tus.head(url).headers["Upload-Expires"] == resp.headers["Upload-Expires"]
    [row] = upload_rows(app)
    assert row.last_patch_at is not None and row.expires_at == expires


# (id, algorithm, whether the checksum is right, status)
CHECKSUMS = [
    ("sha1 good", "sha1", True, 204),
    ("sha256 good", "sha256", True, 204),
    ("sha1 bad", "sha1", False, 460),
    ("sha256 bad", "sha256", False, 460),
]


@pytest.mark.parametrize(
    ("algorithm", "good", "status"), [r[1:] for r in CHECKSUMS], ids=[r[0] for r in CHECKSUMS]
)
def test_chunk_checksum_keeps_a_matching_chunk_and_discards_a_wrong_one(
    app, tus, algorithm, good, status
):
    media = big_photo(size=200 * KIB)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:1000]).status_code == 204
    chunk = media.data[1000 : 100 * KIB]
    header = digest_header(algorithm, chunk if good else chunk[::-1])
    resp = tus.patch(url, 1000, chunk, Upload_Checksum=header)
    assert resp.status_code == status, resp.get_data(as_text=True)
    after = 1000 + len(chunk) if good else 1000
    assert offset_of(resp) == after
    assert offset_of(tus.head(url)) == after
    assert partial_bytes(app, url) == media.data[:after]
    if not good:
        assert resp.get_json()["code"] == "chunk_checksum_mismatch"


# (id, headers, body, status, code)
BAD_PATCHES = [
    ("wrong tus version", {"Tus-Resumable": "2.0.0"}, b"abc", 412, "tus_version_unsupported"),
    (
        "content type not offset+octet-stream",
        {"Content-Type": "application/octet-stream"},
        b"abc",
        415,
        "upload_content_type",
    ),
    ("offset behind the server's", {"Upload-Offset": "0"}, b"abc", 409, "offset_mismatch"),
    ("offset ahead of the server's", {"Upload-Offset": "50"}, b"abc", 409, "offset_mismatch"),
    ("offset missing", {"Upload-Offset": None}, b"abc", 400, "bad_request"),
    ("offset negative", {"Upload-Offset": "-10"}, b"abc", 400, "bad_request"),
    ("body past the upload length", {}, b"x" * 100_000, 413, "payload_too_large"),
    (
        "unsupported checksum algorithm",
        {"Upload-Checksum": "md5 " + b64("x" * 16)},
        b"abc",
        400,
        "checksum_algorithm_unsupported",
    ),
    ("checksum not base64", {"Upload-Checksum": "sha1 !!!"}, b"abc", 400, "bad_request"),
    ("no token", {"Authorization": None}, b"abc", 401, "unauthorized"),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [r[1:] for r in BAD_PATCHES],
    ids=[r[0] for r in BAD_PATCHES],
)
def test_bad_patch_is_refused_and_the_offset_stays(app, client, tus, headers, body, status, code):
    media = photo()
    assert len(media.data) < 100_000 + 10
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:10]).status_code == 204
    h = {**tus.api.auth, **TUS, "Content-Type": OCTET, "Upload-Offset": "10"}
    for key, value in headers.items():
        if value is None:
            h.pop(key, None)
        else:
            h[key] = value
    resp = client.patch(url, headers=h, data=body)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.get_json()["code"] == code
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    if status == 412:
        assert resp.headers["Tus-Version"] == "1.0.0"
    assert offset_of(tus.head(url)) == 10
    assert partial_bytes(app, url) == media.data[:10]


@pytest.mark.parametrize("method", ["HEAD", "PATCH", "DELETE"])
def test_another_devices_upload_is_not_found(client, tus, method):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    other = Tus(Api.register(client))
    resp = client.open(
        url,
        method=method,
        headers=other.headers(**{"Upload-Offset": "0", "Content-Type": OCTET}),
        data=b"abc",
    )
    assert resp.status_code == 404
    if method != "HEAD":
        assert resp.get_json()["code"] == "upload_not_found"
    assert offset_of(tus.head(url)) == 0


@pytest.mark.parametrize("upload_id", ["0" * 32, "not-an-id", ".."])
def test_unknown_upload_is_not_found(tus, upload_id):
    resp = tus.patch(f"/api/v1/uploads/{upload_id}", 0, b"abc")
    assert resp.status_code == 404
    assert resp.get_json()["code"] == "upload_not_found"


# (id, stream factory, checksum sent)
CUT_OFFS = [
    ("body shorter than Content-Length", lambda d, n: io.BytesIO(d[:n]), False),
    ("connection reset", lambda d, n: BrokenStream(d, n), False),
    ("cut off with a checksum: chunk discarded", lambda d, n: io.BytesIO(d[:n]), True),
]


@pytest.mark.parametrize(
    ("make_stream", "with_checksum"), [r[1:] for r in CUT_OFFS], ids=[r[0] for r in CUT_OFFS]
)
def test_cut_off_patch_keeps_the_bytes_that_arrived_and_head_reports_them(
    app, tus, make_stream, with_checksum
):
    media = big_photo(size=1 * MIB, seed=5)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:1000]).status_code == 204
    rest = media.data[1000:]
    arrived = 600 * KIB + 17
    headers = tus.headers(**{"Upload-Offset": "1000", "Content-Type": OCTET})
    if with_checksum:
        headers["Upload-Checksum"] = digest_header("sha256", rest)
    resp = send_with_body(tus.api, "PATCH", url, headers, make_stream(rest, arrived), len(rest))
    assert resp.status_code == 400
    kept = 1000 if with_checksum else 1000 + arrived
    assert int(resp.headers["Upload-Offset"]) == kept
    assert offset_of(tus.head(url)) == kept
    assert partial_bytes(app, url) == media.data[:kept]
    # The client goes on from there and the evidence is complete.
    assert tus.patch(url, kept, media.data[kept:]).status_code == 204
    assert received(app, media)
    assert stored_bytes(app, media.decl["sha256"]) == media.data


def test_full_disk_mid_patch_answers_507_and_keeps_the_bytes_written(app, tus):
    media = big_photo(size=1 * MIB, seed=21)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    override(app, MEDIA_QUOTA_BYTES=600 * KIB)
    app.extensions.pop("roadwatch.media_store", None)
    resp = tus.patch(url, 0, media.data)
    assert resp.status_code == 507
    assert resp.get_json()["code"] == "insufficient_storage"
    assert resp.headers["Retry-After"]
    kept = offset_of(resp)
    assert 0 < kept <= 600 * KIB
    assert offset_of(tus.head(url)) == kept
    # Space again: the client goes on from there.
    override(app, MEDIA_QUOTA_BYTES=0)
    app.extensions.pop("roadwatch.media_store", None)
    assert tus.patch(url, kept, media.data[kept:]).status_code == 204
    assert received(app, media)


def test_two_patches_of_one_upload_at_once_the_second_is_told_to_retry(app, tus):
    media = big_photo(size=1 * MIB, seed=9)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    stream = PausingStream(media.data, first=300 * KIB)
    headers = tus.headers(**{"Upload-Offset": "0", "Content-Type": OCTET})

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(
            send_with_body,
            tus.api,
            "PATCH",
            url,
            headers,
            io.BufferedReader(stream),
            len(media.data),
        )
        assert stream.paused.wait(timeout=30)  # the first PATCH is mid-body, holding the lock
        second = tus.patch(url, 0, media.data)
        # HEAD waits for the writer to settle, then says 423 too: a client must not
        # resume from an offset that is still moving.
        head = tus.head(url)
        third = tus.patch(url, 300 * KIB, media.data[300 * KIB :])
        deleted = tus.delete(url)
        stream.go.set()
        done = first.result(timeout=60)

    for resp in (second, head, third, deleted):
        assert resp.status_code == 423, resp.get_data(as_text=True)
        if resp.request.method != "HEAD":
            assert resp.get_json()["code"] == "upload_locked"
        assert resp.headers["Retry-After"]
    assert done.status_code == 204
    assert received(app, media)
    assert stored_bytes(app, media.decl["sha256"]) == media.data


def test_patch_is_told_423_while_another_process_holds_the_upload_lock(app, tus):
    """Another process (e.g. another gunicorn worker) holding the lock gets a 423 too."""
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    with holding_lock(app, url):
        assert tus.patch(url, 0, media.data).status_code == 423
    assert tus.patch(url, 0, media.data).status_code == 204


def test_patch_through_method_override(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    resp = tus.api.client.post(
        url,
        headers=tus.headers(
            **{"Upload-Offset": "0", "Content-Type": OCTET, "X-HTTP-Method-Override": "PATCH"}
        ),
        data=media.data,
    )
    assert resp.status_code == 204
    assert received(app, media)


# -- completion ---------------------------------------------------------------------------


def _png_declared_as_jpeg() -> MediaFile:
    return MediaFile(make_png(), content_type="image/jpeg")


# (id, declared file, bytes sent, code)
MISMATCHES = [
    (
        "bytes differ from the declared sha256",
        lambda: photo(),
        lambda m: m.data[:-1] + b"\0",
        "checksum_mismatch",
    ),
    (
        "content is not the declared type",
        _png_declared_as_jpeg,
        lambda m: m.data,
        "content_type_mismatch",
    ),
]


@pytest.mark.parametrize(
    ("declared", "sent", "code"), [r[1:] for r in MISMATCHES], ids=[r[0] for r in MISMATCHES]
)
def test_completed_upload_that_fails_verification_is_reset_and_nothing_received(
    app, tus, declared, sent, code
):
    media = declared()
    data = sent(media)
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, data[:100]).status_code == 204
    resp = tus.patch(url, 100, data[100:])
    assert resp.status_code == 422
    assert resp.get_json()["code"] == code
    assert not received(app, media)
    assert upload_rows(app) == [] and partial_files(app) == []
    assert stored_blobs(app) == []
    assert tus.head(url).status_code == 404
    # The client creates it again and starts from 0.
    again = tus.create(rid, media)
    assert again.headers["Location"] != url and offset_of(again) == 0


# -- expiration ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["HEAD", "PATCH"])
def test_expired_incomplete_upload_answers_410_and_creation_starts_a_new_one(app, tus, method):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    tus.patch(url, 0, media.data[:100])
    expire_now(app, url)
    resp = tus.head(url) if method == "HEAD" else tus.patch(url, 100, media.data[100:])
    assert resp.status_code == 410
    if method == "PATCH":
        assert resp.get_json()["code"] == "upload_expired"
    again = tus.create(rid, media)
    assert again.status_code == 201
    assert again.headers["Location"] != url and offset_of(again) == 0
    assert len(upload_rows(app)) == 1 and len(partial_files(app)) == 1


def test_expire_command_removes_expired_uploads_and_litter_but_nothing_else(app, runner, tus):
    fs_only(app)
    old, fresh, done = photo(), photo(make="B"), photo(make="C")
    rid = declare(tus.api, old, fresh, done)
    old_url = tus.create(rid, old).headers["Location"]
    tus.patch(old_url, 0, old.data[:100])
    done_url = tus.create(rid, done).headers["Location"]
    tus.patch(done_url, 0, done.data)
    fresh_url = tus.create(rid, fresh).headers["Location"]
    expire_now(app, old_url, done_url)  # a completed upload never expires

    media_root = Path(settings_of(app).media_root)
    two_days_ago = time.time() - 2 * 86400
    orphan = media_root / "uploads" / uuid.uuid4().hex
    orphan.write_bytes(b"left by a crash")
    past_expiry = time.time() - settings_of(app).upload_expiry_hours * 3600 - 60
    os.utime(orphan, (past_expiry, past_expiry))
    young_orphan = media_root / "uploads" / uuid.uuid4().hex  # a creation in progress
    young_orphan.write_bytes(b"")
    stale_tmp = media_root / "tmp" / "in-stale"
    stale_tmp.write_bytes(b"x")
    os.utime(stale_tmp, (two_days_ago, two_days_ago))
    live_tmp = media_root / "tmp" / "in-live"
    live_tmp.write_bytes(b"x")

    result = runner.invoke(args=["uploads", "expire"])
    assert result.exit_code == 0, result.output
    assert (
        "Removed 1 expired upload(s), 1 orphan partial file(s), 1 stale temporary file(s)."
        in result.output
    )

    assert tus.head(old_url).status_code == 404
    assert not partial_path(app, old_url).exists()
    assert not orphan.exists() and not stale_tmp.exists()
    assert young_orphan.exists() and live_tmp.exists()
    assert offset_of(tus.head(fresh_url)) == 0
    assert offset_of(tus.head(done_url)) == len(done.data)
    assert received(app, done)
    assert {r.id for r in upload_rows(app)} == {
        fresh_url.rsplit("/", 1)[1],
        done_url.rsplit("/", 1)[1],
    }
    # Nothing left to do the second time.
    again = runner.invoke(args=["uploads", "expire"])
    assert (
        "Removed 0 expired upload(s), 0 orphan partial file(s), 0 stale temporary file(s)."
        in again.output
    )


def test_expire_command_skips_an_upload_being_written(app, runner, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    expire_now(app, url)
    with holding_lock(app, url):
        result = runner.invoke(args=["uploads", "expire"])
    assert "Removed 0 expired upload(s)" in result.output
    assert len(upload_rows(app)) == 1 and partial_files(app) == [url.rsplit("/", 1)[1]]


# -- termination --------------------------------------------------------------------------


def test_delete_removes_an_incomplete_upload_and_its_bytes(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    tus.patch(url, 0, media.data[:100])
    resp = tus.delete(url)
    assert resp.status_code == 204
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert upload_rows(app) == [] and partial_files(app) == []
    assert tus.head(url).status_code == 404
    assert tus.delete(url).status_code == 404


def test_delete_of_a_completed_upload_never_removes_the_evidence(app, tus):
    media = photo()
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data).status_code == 204
    assert tus.delete(url).status_code == 204
    assert received(app, media)
    assert stored_bytes(app, media.decl["sha256"]) == media.data
    # Asked again, the server still knows the media item is in.
    assert offset_of(tus.create(rid, media)) == len(media.data)


# -- discovery and CORS -------------------------------------------------------------------

EXPECTED_ALLOW_HEADERS = {
    "authorization", "content-type", "tus-resumable", "upload-length", "upload-metadata",
    "upload-offset", "upload-checksum", "upload-defer-length", "upload-concat",
    "x-http-method-override",
}  # fmt: skip
EXPECTED_EXPOSE_HEADERS = {
    "location", "upload-offset", "upload-length", "upload-expires", "tus-resumable",
    "tus-version", "tus-extension", "tus-max-size",
}  # fmt: skip


def _names(value: str) -> set[str]:
    return {v.strip().lower() for v in value.split(",")}


@pytest.mark.parametrize("path", ["/api/v1/uploads", "/api/v1/uploads/" + "a" * 32])
def test_options_describes_the_server_and_answers_cors_preflight_from_any_origin(app, client, path):
    resp = client.options(
        path,
        headers={
            "Origin": "https://pwa.example.org",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization,tus-resumable,upload-offset",
        },
    )
    assert resp.status_code == 204
    h = resp.headers
    assert h["Tus-Version"] == "1.0.0"
    assert _names(h["Tus-Extension"]) == {
        "creation",
        "creation-with-upload",
        "checksum",
        "expiration",
        "termination",
    }
    assert int(h["Tus-Max-Size"]) == settings_of(app).max_upload_mb * MIB
    assert _names(h["Tus-Checksum-Algorithm"]) == {"sha1", "sha256"}
    assert h["Access-Control-Allow-Origin"] == "*"
    assert _names(h["Access-Control-Allow-Methods"]) == {
        "post",
        "head",
        "patch",
        "delete",
        "options",
    }
    assert EXPECTED_ALLOW_HEADERS <= _names(h["Access-Control-Allow-Headers"])
    assert EXPECTED_EXPOSE_HEADERS <= _names(h["Access-Control-Expose-Headers"])
    assert int(h["Access-Control-Max-Age"]) > 0


def test_actual_responses_carry_cors_headers_errors_included(tus):
    media = photo()
    rid = declare(tus.api, media)
    ok = tus.create(rid, media, Origin="https://pwa.example.org")
    missing = tus.head("/api/v1/uploads/" + "0" * 32)
    for resp in (ok, missing):
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert EXPECTED_EXPOSE_HEADERS <= _names(resp.headers["Access-Control-Expose-Headers"])
        assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_openapi_documents_the_upload_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"post", "options"} <= set(paths["/api/v1/uploads"])
    assert {"head", "patch", "delete", "options"} <= set(paths["/api/v1/uploads/{upload_id}"])


def test_an_upload_holds_one_pooled_connection_not_two(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
):
    """The upload lock's connection (PostgreSQL + bucket) has a pool of its own: with one
    session connection per process, a PATCH still completes. From one shared pool, every
    PATCH held a lock connection and waited for a session one: as many concurrent
    uploads as the pool's size stalled a node for the pool's timeout (the load test)."""
    from server import create_app
    from tests.conftest import _test_config, storage_config

    one = {"DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0, "DB_POOL_TIMEOUT_SECONDS": 2}
    app = create_app({**_test_config(db_url, tmp_path), **storage_config(request), **one})
    try:
        api = Api.register(app.test_client())
        pic = photo()
        rid = declare(api, pic)
        tus = Tus(api)
        url = tus.create(rid, pic).headers["Location"]
        assert tus.patch(url, 0, pic.data[:1000]).status_code == 204
        assert offset_of(tus.head(url)) == 1000
        assert tus.patch(url, 1000, pic.data[1000:]).status_code == 204
        assert api.get_report(rid).get_json()["evidence"][0]["received"] is True
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
