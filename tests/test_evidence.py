"""Evidence upload: verified, stored once and byte-identical, EXIF read, report flagged."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.models import Media, StatusEvent
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
from tests.media_factory import make_jpeg


def put_with_short_body(api: Api, url: str, stream, announced: int):
    """PUT whose body ends (or breaks) before the announced Content-Length."""
    headers = {**api.auth, "Content-Type": "application/octet-stream"}
    return send_with_body(api, "PUT", url, headers, stream, announced)


def tmp_files(app) -> list[str]:
    return os.listdir(Path(settings_of(app).media_root) / "tmp")


@pytest.fixture
def api(client) -> Api:
    return Api.register(client)


def test_upload_stores_bytes_identical_under_their_hash_and_reads_exif(app, api):
    media = photo(altitude=12.5, make="Samsung", model="Galaxy A05", orientation=6)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    resp = api.put_media(rid, media)
    assert resp.status_code == 201, resp.get_json()
    evidence = resp.get_json()["evidence"][0]
    assert evidence["received"] is True
    exif = evidence["exif"]
    assert exif["lat"] == pytest.approx(HANOI[0], abs=1e-6)
    assert exif["lon"] == pytest.approx(HANOI[1], abs=1e-6)
    assert exif["altitude"] == pytest.approx(12.5)
    assert exif["taken_at"] == "2026-11-20T08:15:00+07:00"
    assert (exif["make"], exif["model"], exif["orientation"]) == ("Samsung", "Galaxy A05", 6)
    stored = MediaStore(settings_of(app).media_root).blob_path(media.decl["sha256"])
    assert stored.read_bytes() == media.data
    assert tmp_files(app) == []


def test_all_evidence_in_moves_the_report_to_submitted_once(app, api):
    first, second = photo(), photo(make="Other")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([first, second]))
    assert api.put_media(rid, first).get_json()["status"] == "awaiting_evidence"
    assert api.put_media(rid, second).get_json()["status"] == "submitted"
    assert api.put_media(rid, second).status_code == 200
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(StatusEvent.status)
            .where(StatusEvent.report_id == rid)
            .order_by(StatusEvent.seq)
        ).all()
    assert statuses == ["awaiting_evidence", "submitted"]


def test_same_bytes_again_answer_200_and_keep_one_copy(app, api):
    media = photo()
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    assert api.put_media(rid, media).status_code == 201
    again = api.put_media(rid, media)
    assert again.status_code == 200
    assert again.get_json()["evidence"][0]["received"] is True
    assert len(blob_files(app)) == 1


def test_the_same_photo_in_two_reports_is_stored_once(app, api):
    data = photo().data
    a, b = MediaFile(data), MediaFile(data)
    ra, rb = str(uuid.uuid4()), str(uuid.uuid4())
    api.put_report(ra, report_body([a]))
    api.put_report(rb, report_body([b], note="second reporter"))
    assert api.put_media(ra, a).status_code == 201
    assert api.put_media(rb, b).status_code == 201
    assert len(blob_files(app)) == 1


def test_upload_cut_off_halfway_leaves_nothing_received_and_no_final_file(app, api):
    media = MediaFile(make_jpeg(size=(800, 600), seed=3))
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    half = media.data[: len(media.data) // 2]
    resp = put_with_short_body(
        api, f"/api/v1/reports/{rid}/media/{media.media_id}", io.BytesIO(half), len(media.data)
    )
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["code"] == "upload_incomplete"
    with app.app_context():
        assert db.session.get(Media, media.media_id).received_at is None
    assert blob_files(app) == []
    assert tmp_files(app) == []


def test_connection_reset_mid_upload_is_a_4xx_and_leaves_nothing(app, api):
    media = MediaFile(make_jpeg(size=(800, 600), seed=4))
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    resp = put_with_short_body(
        api,
        f"/api/v1/reports/{rid}/media/{media.media_id}",
        io.BufferedReader(BrokenStream(media.data, len(media.data) // 3)),
        len(media.data),
    )
    assert resp.status_code == 400
    assert blob_files(app) == [] and tmp_files(app) == []


def test_full_disk_answers_507_and_leaves_no_file(app, api):
    media = MediaFile(make_jpeg(size=(800, 600), seed=5))
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    override(app, MEDIA_QUOTA_BYTES=len(media.data) // 2)
    app.extensions.pop("roadwatch.media_store", None)
    resp = api.put_media(rid, media)
    assert resp.status_code == 507
    assert resp.get_json()["code"] == "insufficient_storage"
    assert resp.headers["Retry-After"]
    assert blob_files(app) == [] and tmp_files(app) == []
    # Space again: the same upload now succeeds.
    override(app, MEDIA_QUOTA_BYTES=0)
    app.extensions.pop("roadwatch.media_store", None)
    assert api.put_media(rid, media).status_code == 201


def test_video_is_accepted_without_exif(app, api):
    from tests.media_factory import make_mp4_head

    media = MediaFile(make_mp4_head() + b"\0" * 5000, "video/mp4")
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media]))
    resp = api.put_media(rid, media)
    assert resp.status_code == 201
    assert resp.get_json()["evidence"][0]["exif"] == {
        "lat": None,
        "lon": None,
        "altitude": None,
        "taken_at": None,
        "make": None,
        "model": None,
        "orientation": None,
    }


# (id, photo EXIF, report overrides, flags expected, flags not expected)
FLAG_CASES = [
    (
        "consistent photo",
        {},
        {},
        [],
        ["no_exif_time", "no_exif_gps", "exif_time_mismatch", "exif_location_mismatch"],
    ),
    (
        "screenshot without exif",
        {"lat": None, "lon": None, "taken_at": None},
        {},
        ["no_exif_time", "no_exif_gps"],
        [],
    ),
    (
        "photo two hours before the report",
        {"taken_at": "2026-11-20T06:15:00"},
        {},
        ["exif_time_mismatch"],
        ["no_exif_time"],
    ),
    ("photo taken 3 km away", {"lat": HANOI[0] + 0.027}, {}, ["exif_location_mismatch"], []),
    (
        "photo in another timezone at the same instant",
        {"taken_at": "2026-11-20T02:15:00", "offset": "+01:00"},
        {},
        [],
        ["exif_time_mismatch"],
    ),
]


@pytest.mark.parametrize(
    "exif,overrides,expected,absent", [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES]
)
def test_plausibility_flags_from_exif(api, exif, overrides, expected, absent):
    media = photo(**exif)
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body([media], **overrides))
    flags = api.put_media(rid, media).get_json()["flags"]
    for flag in expected:
        assert flag in flags
    for flag in absent:
        assert flag not in flags


@pytest.mark.parametrize(
    "captured_at,flag",
    [
        ("2099-01-01T00:00:00+07:00", "captured_in_future"),
        ("2020-01-01T00:00:00+07:00", "captured_too_old"),
    ],
)
def test_implausible_capture_time_is_flagged_at_ingest(api, captured_at, flag):
    resp = api.put_report(str(uuid.uuid4()), report_body(captured_at=captured_at))
    assert resp.status_code == 201
    assert flag in resp.get_json()["flags"]


@pytest.mark.parametrize("round_", range(3))
def test_files_of_one_report_completing_at_once_submit_it_exactly_once(app, round_):
    """Each request sees the others' files: the report is submitted, once."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    api = Api.register(app.test_client())
    files = [photo(make=f"cam{i}") for i in range(4)]
    rid = str(uuid.uuid4())
    api.put_report(rid, report_body(files))
    barrier = threading.Barrier(len(files) * 2)

    def send(media: MediaFile) -> int:
        client = app.test_client()
        barrier.wait()
        return client.put(
            f"/api/v1/reports/{rid}/media/{media.media_id}", data=media.data,
            headers={**api.auth, "Content-Type": "application/octet-stream"},
        ).status_code

    with ThreadPoolExecutor(max_workers=len(files) * 2) as pool:
        codes = sorted(pool.map(send, files * 2))  # every file sent twice at once
    assert codes == [200] * len(files) + [201] * len(files)
    assert api.get_report(rid).get_json()["status"] == "submitted"
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(StatusEvent.status).where(StatusEvent.report_id == rid)
        ).all()
    assert sorted(statuses) == ["awaiting_evidence", "submitted"]
