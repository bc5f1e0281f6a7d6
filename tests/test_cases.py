"""Cases: reports of the same violation become one case (server.services.cases).

Every test runs on SQLite and on PostgreSQL. Reports are sent through the API as phones
send them; each report carries its own photo (a distinct synthetic scene) unless the
test is about shared or similar photos.
"""

from __future__ import annotations

import io
import math
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import piexif
import pytest
import sqlalchemy as sa
from PIL import Image

from server.dedup import hamming, perceptual_hash
from server.extensions import db
from server.models import Case, CaseEvent, Report
from server.services import cases
from server.settings import override
from tests.factories import Api, MediaFile, report_body
from tests.media_factory import exif_bytes, make_photo

CORNER = (21.028511, 105.804817)  # Đống Đa, Hà Nội (district 006)
T0 = datetime.fromisoformat("2026-11-20T08:00:00+07:00")


def moved(lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0):
    return (
        lat + north_m / 111_195.0,
        lon + east_m / (111_195.0 * math.cos(math.radians(lat))),
    )


_seed = iter(range(1000, 100_000))


def new_photo() -> MediaFile:
    return MediaFile(make_photo(next(_seed)))


def send(
    client,
    *,
    plate: str = "30A-123.45",
    vehicle_class: str = "car",
    violation: str = "PARK_SIDEWALK_ROADWAY",
    minutes: float = 0,
    at: tuple[float, float] = CORNER,
    media: list[MediaFile] | None = None,
    api: Api | None = None,
) -> tuple[Api, str, list[MediaFile]]:
    """One report from its own phone; returns (api, report_id, media)."""
    api = api or Api.register(client)
    media = media or [new_photo()]
    rid = str(uuid.uuid4())
    body = report_body(
        media,
        plate=plate,
        vehicle_class=vehicle_class,
        violation=violation,
        captured_at=(T0 + timedelta(minutes=minutes)).isoformat(),
        location={"lat": at[0], "lon": at[1], "accuracy_m": 5.0, "source": "gps"},
    )
    resp = api.put_report(rid, body)
    assert resp.status_code == 201, resp.get_json()
    return api, rid, media


def case_of(client_api: Api, rid: str) -> str:
    case_id = client_api.get_report(rid).get_json()["case_id"]
    assert case_id
    return case_id


def load(app, model, key):
    with app.app_context():
        obj = db.session.get(model, key)
        db.session.expunge(obj)
        return obj


def events(app, case_id: str) -> list[CaseEvent]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
        ).all()
        for r in rows:
            db.session.expunge(r)
        return list(rows)


def open_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Case).where(Case.status == "open")
        )


# --------------------------------------------------------------------------- same plate


def test_ten_phones_reporting_one_car_make_one_case_with_ten_confirmations(app, client):
    # Sent in this order; the 9th report was captured first and is the first reporter.
    minutes = [10, 14, 7, 3, 20, 5, 18, 9, 1, 15]
    spellings = ["30A-123.45", "30A12345", "30a 123 45", "30A-12345", "30A.123.45"] * 2
    sent = []
    for i, (m, plate) in enumerate(zip(minutes, spellings, strict=True)):
        at = moved(*CORNER, north_m=7 * i - 30, east_m=-5 * i + 20)  # all within ~60 m
        sent.append(send(client, plate=plate, minutes=m, at=at))

    case_ids = {case_of(api, rid) for api, rid, _ in sent}
    assert len(case_ids) == 1
    case = load(app, Case, case_ids.pop())
    assert case.report_count == 10
    first_rid = sent[minutes.index(min(minutes))][1]
    assert case.first_report_id == first_rid
    assert (case.district_code, case.unit_code, case.status) == ("006", "CA-006", "open")
    members = [load(app, Report, rid) for _, rid, _ in sent]
    # The first sent opened the case; each other one records why and whom it matched.
    assert [r.join_reason for r in members] == [None] + ["same_plate"] * 9
    assert all(
        r.join_match_report_id in {s[1] for s in sent[:i]} for i, r in enumerate(members) if i
    )
    assert all(r.joined_at is not None for r in members)
    assert events(app, case.id) == []  # nothing changed the case after it opened


def test_first_reporter_tie_on_capture_time_goes_to_the_earliest_received(app, client):
    _, first, _ = send(client, minutes=5)
    api, second, _ = send(client, minutes=5)
    case = load(app, Case, case_of(api, second))
    assert (case.report_count, case.first_report_id) == (2, first)


@pytest.mark.parametrize(
    ("plate_a", "class_a", "plate_b", "class_b", "same_case"),
    [
        pytest.param("30A-123.45", "car", "30A 12345", "car", True, id="same-car-respelled"),
        pytest.param("30A-123.45", "car", "30A-123.45", "truck", True, id="car-family-truck"),
        pytest.param("30A-123.45", "car", "30A-678.90", "car", False, id="two-cars-one-corner"),
        pytest.param(
            "29B1-1234", "motorbike", "29B-112.34", "car", False, id="moto-vs-car-same-chars"
        ),
        pytest.param("29-B1 123.45", "motorbike", "29B1-12345", "motorbike", True, id="moto"),
        pytest.param("", "car", "", "car", False, id="no-plate-only-media-joins"),
        pytest.param("30A-123.45", "car", "", "car", False, id="plate-vs-no-plate"),
    ],
)
def test_reports_at_the_same_corner_and_time_join_only_on_the_same_plate_key(
    app, client, plate_a, class_a, plate_b, class_b, same_case
):
    api_a, a, media_a = send(client, plate=plate_a, vehicle_class=class_a)
    api_b, b, media_b = send(client, plate=plate_b, vehicle_class=class_b, minutes=2)
    # Their (different) photos arrive too: they must not join them either.
    assert api_a.put_media(a, media_a[0]).status_code == 201
    assert api_b.put_media(b, media_b[0]).status_code == 201

    assert (case_of(api_a, a) == case_of(api_b, b)) is same_case
    assert open_cases(app) == (1 if same_case else 2)


def test_motorbike_and_car_plates_with_the_same_characters_have_different_keys(app, client):
    _, moto, _ = send(client, plate="29B1-1234", vehicle_class="motorbike")
    _, car, _ = send(client, plate="29B-112.34", vehicle_class="car")
    m, c = load(app, Report, moto), load(app, Report, car)
    assert m.plate_compact == c.plate_compact == "29B11234"
    assert (m.plate_match_key, c.plate_match_key) == ("moto:29B11234", "car:29B11234")
    assert m.case_id != c.case_id


@pytest.mark.parametrize(
    ("north_m", "minutes", "violation", "joins"),
    [
        pytest.param(100, 29, "PARK_SIDEWALK_ROADWAY", True, id="100m-29min-joins"),
        pytest.param(140, 0, "PARK_SIDEWALK_ROADWAY", True, id="140m-joins"),
        pytest.param(200, 0, "PARK_SIDEWALK_ROADWAY", False, id="200m-apart"),
        pytest.param(0, 31, "PARK_SIDEWALK_ROADWAY", False, id="31min-apart"),
        pytest.param(0, -31, "PARK_SIDEWALK_ROADWAY", False, id="31min-earlier-apart"),
        pytest.param(0, 0, "PARK_NO_PARKING_SIGN", False, id="other-violation-apart"),
    ],
)
def test_same_plate_joins_within_radius_and_window_of_the_same_violation(
    app, client, north_m, minutes, violation, joins
):
    api, a, _ = send(client)
    api_b, b, _ = send(
        client, minutes=minutes, violation=violation, at=moved(*CORNER, north_m=north_m)
    )
    assert (case_of(api, a) == case_of(api_b, b)) is joins
    if joins:
        assert load(app, Report, b).join_reason == "same_plate"
        assert load(app, Report, b).join_match_report_id == a


def test_join_radius_and_window_come_from_the_config(app, client):
    override(app, DEDUP_RADIUS_M=300.0, DEDUP_WINDOW_MINUTES=60.0)
    api, a, _ = send(client)
    api_b, b, _ = send(client, minutes=50, at=moved(*CORNER, north_m=250))
    assert case_of(api, a) == case_of(api_b, b)


# --------------------------------------------------------------------------- same media


def test_the_same_photo_in_two_reports_joins_them_even_far_apart_in_time_and_place(app, client):
    pic = make_photo(4242)
    api_a, a, _ = send(client, plate="30A-123.45", media=[MediaFile(pic)])
    # Weeks later, in Hồ Chí Minh City, without a plate: only the bytes are the same.
    api_b, b, _ = send(
        client, plate="", minutes=60 * 24 * 20, at=(10.7769, 106.7009), media=[MediaFile(pic)]
    )
    assert case_of(api_a, a) == case_of(api_b, b)
    rb = load(app, Report, b)
    assert (rb.join_reason, rb.join_match_report_id) == ("same_media", a)
    case = load(app, Case, rb.case_id)
    assert (case.report_count, case.first_report_id, case.district_code) == (2, a, "006")


def _reencoded(data: bytes, quality: int = 60) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _cropped(data: bytes, fraction: float = 0.03) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    dx, dy = int(img.width * fraction), int(img.height * fraction)
    out = io.BytesIO()
    img.crop((dx, dy, img.width - dx, img.height - dy)).save(out, "JPEG", quality=70)
    return out.getvalue()


def _with_exif(data: bytes) -> bytes:
    """The same JPEG (same pixels) with an EXIF block added: other bytes, same image."""
    out = io.BytesIO()
    piexif.insert(exif_bytes(lat=CORNER[0], lon=CORNER[1], make="Zalo"), data, out)
    return out.getvalue()


ORIGINAL = make_photo(42)
COPIES = {
    "reencoded-q60": _reencoded(ORIGINAL),
    "cropped-3pct": _cropped(ORIGINAL),
    "exif-added": _with_exif(ORIGINAL),
}


@pytest.mark.parametrize(
    ("copy", "minutes_later", "east_m", "bits", "outcome"),
    [
        # West of CORNER is still Đống Đa (006); east of it is Ba Đình (001).
        pytest.param("reencoded-q60", 10, -60, (0, 0), "joins", id="reencoded-copy-nearby-joins"),
        pytest.param("cropped-3pct", 30, -140, (1, 12), "joins", id="cropped-copy-in-reach"),
        # A similar photo far away or long after is only a hint for the reviewer.
        pytest.param("reencoded-q60", 10, 3000, (0, 0), "hint", id="reencoded-copy-3km-away"),
        pytest.param("reencoded-q60", 31, -60, (0, 0), "hint", id="reencoded-copy-31-min-later"),
        pytest.param("reencoded-q60", 10, 60, (0, 0), "hint", id="reencoded-copy-other-district"),
        pytest.param("exif-added", 60 * 24 * 5, -60, (0, 0), "hint", id="same-pixels-5-days-apart"),
        # Beyond the pHash window (and another hash): not even looked up.
        pytest.param("cropped-3pct", 60 * 24 * 5, -60, (1, 12), "apart", id="cropped-5-days-apart"),
    ],
)
@pytest.mark.parametrize("older_uploads_first", [True, False], ids=["older-first", "newer-first"])
def test_a_near_identical_photo_merges_the_cases_once_both_images_arrived(
    app, client, copy, minutes_later, east_m, bits, outcome, older_uploads_first
):
    data = COPIES[copy]
    distance = hamming(perceptual_hash(ORIGINAL), perceptual_hash(data))
    assert data != ORIGINAL and bits[0] <= distance <= bits[1]  # what the case is about

    api_a, a, [pic_a] = send(client, plate="30A-123.45", media=[MediaFile(ORIGINAL)])
    # Someone forwards the photo and reports it, without the plate.
    api_b, b, [pic_b] = send(
        client,
        plate="",
        minutes=minutes_later,
        at=moved(*CORNER, east_m=east_m),
        media=[MediaFile(data)],
    )
    case_a, case_b = case_of(api_a, a), case_of(api_b, b)
    assert case_a != case_b  # nothing to join on before the images arrive

    uploads = [(api_a, a, pic_a), (api_b, b, pic_b)]
    for api, rid, pic in uploads if older_uploads_first else reversed(uploads):
        assert api.put_media(rid, pic).status_code == 201

    if outcome != "joins":
        assert (case_of(api_a, a), case_of(api_b, b)) == (case_a, case_b)
        assert open_cases(app) == 2
        hints = {
            (e.case_id, e.other_case_id, e.reason)
            for e in events(app, case_a) + events(app, case_b)
            if e.kind == "similar_photo"
        }
        expected = {(case_a, case_b, "similar_media"), (case_b, case_a, "similar_media")}
        assert hints == (expected if outcome == "hint" else set())
        return
    # The older case (first reporter a) survives, whichever image arrived last.
    assert case_of(api_a, a) == case_of(api_b, b) == case_a
    survivor, absorbed = load(app, Case, case_a), load(app, Case, case_b)
    assert (survivor.status, survivor.report_count, survivor.first_report_id) == ("open", 2, a)
    assert (absorbed.status, absorbed.merged_into_id, absorbed.report_count) == (
        "merged",
        case_a,
        0,
    )
    rb = load(app, Report, b)
    assert (rb.join_reason, rb.join_match_report_id) == ("similar_media", a)
    assert [(e.kind, e.other_case_id, e.reason) for e in events(app, case_a)] == [
        ("absorbed", case_b, "similar_media"),
    ]
    assert [(e.kind, e.other_case_id) for e in events(app, case_b)] == [("merged", case_a)]


@pytest.mark.parametrize(("max_bits", "joins"), [(12, True), (7, False)])
def test_the_similar_photo_threshold_comes_from_the_config(app, client, max_bits, joins):
    data = COPIES["cropped-3pct"]
    assert 7 < hamming(perceptual_hash(ORIGINAL), perceptual_hash(data)) <= 12
    override(app, DEDUP_PHASH_MAX_DISTANCE=max_bits)
    api_a, a, [pic_a] = send(client, media=[MediaFile(ORIGINAL)])
    api_b, b, [pic_b] = send(client, plate="", media=[MediaFile(data)])
    assert api_a.put_media(a, pic_a).status_code == 201
    assert api_b.put_media(b, pic_b).status_code == 201
    assert (case_of(api_a, a) == case_of(api_b, b)) is joins


def test_a_different_photo_uploaded_at_the_same_time_does_not_merge(app, client):
    api_a, a, [pic_a] = send(client, plate="30A-123.45", media=[MediaFile(make_photo(42))])
    api_b, b, [pic_b] = send(client, plate="", media=[MediaFile(make_photo(43))])
    assert api_a.put_media(a, pic_a).status_code == 201
    assert api_b.put_media(b, pic_b).status_code == 201
    assert case_of(api_a, a) != case_of(api_b, b)


def test_an_unrouted_case_takes_the_district_of_a_routed_report_that_joins_it(app, client):
    pic = make_photo(77)
    api_a, a, _ = send(client, plate="", at=(12.0, 112.0), media=[MediaFile(pic)])
    assert load(app, Case, case_of(api_a, a)).district_code is None
    api_b, b, _ = send(client, plate="", media=[MediaFile(pic)])

    case = load(app, Case, case_of(api_b, b))
    assert case.id == case_of(api_a, a)
    assert (case.district_code, case.unit_code) == ("006", "CA-006")
    assert [(e.kind, e.report_id, e.to_district) for e in events(app, case.id)] == [
        ("routed", b, "006"),
    ]


# --------------------------------------------------------------------------- concurrency


def test_reports_of_the_same_car_arriving_at_once_end_in_one_case(app):
    n = 8
    apis = [Api.register(app.test_client()) for _ in range(n)]
    barrier = threading.Barrier(n)

    def put(i: int) -> str:
        rid = str(uuid.uuid4())
        body = report_body(
            [new_photo()],
            captured_at=(T0 + timedelta(minutes=i)).isoformat(),
            location={"lat": CORNER[0], "lon": CORNER[1], "accuracy_m": 5.0, "source": "gps"},
        )
        client = app.test_client()
        barrier.wait()
        resp = client.put(f"/api/v1/reports/{rid}", json=body, headers=apis[i].auth)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["case_id"]

    with ThreadPoolExecutor(max_workers=n) as pool:
        case_ids = set(pool.map(put, range(n)))
    assert len(case_ids) == 1
    case = load(app, Case, case_ids.pop())
    assert case.report_count == n
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 1


def test_near_identical_photos_received_at_once_still_merge(app):
    """Both uploads run together; whichever commits second must see the first's pHash."""
    client = app.test_client()
    api_a, a, [pic_a] = send(client, media=[MediaFile(ORIGINAL)])
    api_b, b, [pic_b] = send(client, plate="", media=[MediaFile(COPIES["cropped-3pct"])])
    barrier = threading.Barrier(2)

    def upload(job: tuple[Api, str, MediaFile]) -> int:
        api, rid, pic = job
        own = Api(app.test_client(), api.device_id, api.token)
        barrier.wait()
        return own.put_media(rid, pic).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = list(pool.map(upload, [(api_a, a, pic_a), (api_b, b, pic_b)]))
    assert codes == [201, 201]
    assert case_of(api_a, a) == case_of(api_b, b)
    assert open_cases(app) == 1


# --------------------------------------------------------------------------- split


def test_a_reviewer_splits_a_report_out_into_a_case_of_its_own(app, client):
    api_a, a, _ = send(client, minutes=0)
    api_b, b, _ = send(client, minutes=3)
    api_c, c, _ = send(client, minutes=6)
    old = case_of(api_a, a)
    assert case_of(api_b, b) == case_of(api_c, c) == old

    with app.app_context():
        new = cases.split_report(a, actor="reviewer:hoa", reason="xe khác, cùng biển giả").id

    assert case_of(api_a, a) == new != old
    assert case_of(api_b, b) == old
    new_case, old_case = load(app, Case, new), load(app, Case, old)
    assert (new_case.report_count, new_case.first_report_id, new_case.manual) == (1, a, True)
    assert (new_case.district_code, new_case.unit_code) == ("006", "CA-006")
    # a was the first reporter of the old case: b (captured next) takes over.
    assert (old_case.report_count, old_case.first_report_id) == (2, b)
    assert load(app, Report, a).join_reason is None
    split = events(app, old)[-1]
    assert (split.kind, split.report_id, split.other_case_id, split.actor, split.note) == (
        "split",
        a,
        new,
        "reviewer:hoa",
        "xe khác, cùng biển giả",
    )
    opened = events(app, new)
    assert [(e.kind, e.reason, e.other_case_id) for e in opened] == [("opened", "split", old)]


def test_a_split_report_is_not_merged_back_by_a_similar_photo(app, client):
    api_a, a, [pic_a] = send(client, media=[MediaFile(ORIGINAL)])
    api_b, b, [pic_b] = send(client, minutes=3, media=[MediaFile(COPIES["reencoded-q60"])])
    with app.app_context():
        cases.split_report(b, actor="reviewer:hoa", reason="khác vụ")
    assert api_a.put_media(a, pic_a).status_code == 201
    assert api_b.put_media(b, pic_b).status_code == 201
    assert case_of(api_a, a) != case_of(api_b, b)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("alone", "already alone", id="report-alone-in-its-case"),
        pytest.param("unknown", "no report", id="unknown-report"),
    ],
)
def test_split_refuses_what_cannot_be_split(app, client, target, message):
    _, rid, _ = send(client)
    report_id = rid if target == "alone" else str(uuid.uuid4())
    with app.app_context(), pytest.raises(cases.CaseError, match=message):
        cases.split_report(report_id, actor="reviewer:hoa", reason="x")


# --------------------------------------------------------------------------- forward


def test_forwarding_a_case_changes_its_unit_and_keeps_both_in_its_history(app, client):
    api, rid, _ = send(client)
    case_id = case_of(api, rid)
    with app.app_context():
        cases.forward_case(case_id, "760", actor="police:006", note="xe đăng ký ở Quận 1")
        cases.forward_case(case_id, "001", actor="police:760", note=None)

    case = load(app, Case, case_id)
    assert (case.district_code, case.unit_code) == ("001", "CA-001")
    hops = [
        (e.from_district, e.to_district, e.from_unit, e.to_unit, e.actor, e.note)
        for e in events(app, case_id)
        if e.kind == "forwarded"
    ]
    assert hops == [
        ("006", "760", "CA-006", "CA-760", "police:006", "xe đăng ký ở Quận 1"),
        ("760", "001", "CA-760", "CA-001", "police:760", None),
    ]
    # The report keeps where it was routed.
    assert api.get_report(rid).get_json()["district"]["code"] == "006"


@pytest.mark.parametrize(
    ("to", "message"),
    [
        pytest.param("999", "unknown district", id="unknown-district"),
        pytest.param("006", "already with district", id="same-district"),
    ],
)
def test_forward_refuses_an_unknown_or_the_same_district(app, client, to, message):
    api, rid, _ = send(client)
    case_id = case_of(api, rid)
    with app.app_context(), pytest.raises(ValueError, match=message):
        cases.forward_case(case_id, to, actor="police:006")
    assert load(app, Case, case_id).district_code == "006"
    assert events(app, case_id) == []


def test_members_and_history_read_back_in_order(app, client):
    _, a, _ = send(client, minutes=4)
    api, b, _ = send(client, minutes=1)
    case_id = case_of(api, b)
    with app.app_context():
        cases.forward_case(case_id, "760", actor="police:006")
        cases.forward_case(case_id, "006", actor="police:760")
        assert [r.id for r in cases.members(case_id)] == [b, a]
        assert [e.to_district for e in cases.history(case_id)] == ["760", "006"]
        assert cases.get_case(case_id).first_report_id == b
