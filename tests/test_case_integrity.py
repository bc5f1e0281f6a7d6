"""Issue 12: a case never mixes different vehicles (product rule 6).

Two photos of one street corner with two different cars are a few pHash bits apart
(tests/street_scene.py): they must stay in two cases, each told of the other as a hint,
while a re-encoded copy of one of them still joins it. A uniform image joins nothing,
wherever it comes from. The first reporter rests on the server's receipt of the
evidence. A reviewer may merge two cases of one district by hand (audited, undone by a
split); the queue shows every plate of a case, and a decision reaching several reporters
says so and checks the count the page showed. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from server.dedup import AMBIGUITY_MARGIN_BITS, DedupConfig, hamming, perceptual_hash
from server.extensions import db
from server.models import AuditLog, Case, CaseEvent, Decision, Media, Report, StatusEvent, utcnow
from server.services import accounts, cases, evidence
from server.settings import override
from tests.factories import Api, MediaFile, report_body
from tests.street_scene import BLUE_SUV, RED_SEDAN, blank, jpeg, reencoded, street_corner
from tests.test_cases import CORNER, case_of, events, load, moved, open_cases, send
from tests.test_console import BA_DINH, PASSWORD, World, build_world, post, session_for

CORNER_W = moved(*CORNER, east_m=-40)  # Đống Đa (006); a few metres east is Ba Đình (001)
HCMC = (10.7769, 106.7009)  # Quận 1 (760)
PLATE_A, PLATE_B = RED_SEDAN.plate, BLUE_SUV.plate  # 30A-111.11, 29C-246.80
PHOTO_A = jpeg(street_corner(RED_SEDAN))
PHOTO_B = jpeg(street_corner(BLUE_SUV))


def hints(app: Flask, case_id: str) -> set[tuple[str, str]]:
    """(other case, reason) of the similar-photo hints in a case's history."""
    return {(e.other_case_id, e.reason) for e in events(app, case_id) if e.kind == "similar_photo"}


def reviewer(app: Flask, username: str, districts: list[str], role: str = "reviewer"):
    with app.app_context():
        accounts.create_user(username, PASSWORD, role, districts=districts, display_name=username)
    return session_for(app, username)


def two_cars_at_one_corner(client: FlaskClient, b_first: bool = False):
    """Car A at the corner, car B a quarter of an hour later; both photos uploaded."""
    api_a, a, [pic_a] = send(client, plate=PLATE_A, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    api_b, b, [pic_b] = send(
        client, plate=PLATE_B, minutes=15, at=CORNER_W, media=[MediaFile(PHOTO_B)]
    )
    uploads = [(api_a, a, pic_a), (api_b, b, pic_b)]
    for api, rid, pic in reversed(uploads) if b_first else uploads:
        assert api.put_media(rid, pic).status_code == 201
    return (api_a, a), (api_b, b)


# --------------------------------------------------------------------------- two cars


@pytest.mark.parametrize("b_first", [False, True], ids=["a-uploads-first", "b-uploads-first"])
def test_two_cars_photographed_at_one_corner_stay_in_two_cases(app, client, b_first):
    distance = hamming(perceptual_hash(PHOTO_A), perceptual_hash(PHOTO_B))
    # What the issue is about: by pHash alone these two photos are "the same".
    assert 0 < distance <= DedupConfig().phash_max_distance

    (api_a, a), (api_b, b) = two_cars_at_one_corner(client, b_first)

    case_a, case_b = case_of(api_a, a), case_of(api_b, b)
    assert case_a != case_b
    assert open_cases(app) == 2
    assert load(app, Case, case_a).report_count == load(app, Case, case_b).report_count == 1
    assert hints(app, case_a) == {(case_b, "similar_media")}
    assert hints(app, case_b) == {(case_a, "similar_media")}

    # The reviewer sees "Ảnh giống vụ việc <short id>", a link to the other case.
    page = reviewer(app, "rev_006", ["006"]).get(f"/console/cases/{case_a}").get_data(True)
    assert f"Ảnh giống vụ việc {case_b[:8]}" in page
    assert f'href="/console/cases/{case_b}"' in page


@pytest.mark.parametrize("car", ["A", "B"])
@pytest.mark.parametrize("copy_plate", ["same", "none"])
@pytest.mark.parametrize(
    ("quality", "scale"), [(60, 1.0), (70, 0.5)], ids=["jpeg-q60", "resized-half"]
)
def test_a_reencoded_copy_joins_the_case_of_its_own_car(
    app, client, car, copy_plate, quality, scale
):
    (api_a, a), (api_b, b) = two_cars_at_one_corner(client)
    original, other = (PHOTO_A, PHOTO_B) if car == "A" else (PHOTO_B, PHOTO_A)
    own_api, own_rid = (api_a, a) if car == "A" else (api_b, b)
    copy = reencoded(original, quality, scale)
    to_own = hamming(perceptual_hash(original), perceptual_hash(copy))
    to_other = hamming(perceptual_hash(other), perceptual_hash(copy))
    assert copy != original and to_own <= 2  # a copy, not the same file
    assert to_other - to_own >= AMBIGUITY_MARGIN_BITS  # clearly nearer its own car

    plate = "" if copy_plate == "none" else (PLATE_A if car == "A" else PLATE_B)
    api_c, c, [pic_c] = send(client, plate=plate, minutes=20, at=CORNER_W, media=[MediaFile(copy)])
    assert api_c.put_media(c, pic_c).status_code == 201

    own_case = case_of(own_api, own_rid)
    assert case_of(api_c, c) == own_case
    assert load(app, Case, own_case).report_count == 2
    assert open_cases(app) == 2  # the other car's case is untouched
    joined = load(app, Report, c)
    # With the plate it joined at once (same plate); without, when its photo arrived.
    expected = "same_plate" if plate else "similar_media"
    assert (joined.join_reason, joined.join_match_report_id) == (expected, own_rid)


def test_a_photo_without_plate_as_like_two_cars_joins_neither(app, client):
    (api_a, a), (api_b, b) = two_cars_at_one_corner(client)
    # Half-way between the two pictures: nobody can tell which car it shows.
    between = jpeg(Image.blend(street_corner(RED_SEDAN), street_corner(BLUE_SUV), 0.5))
    h = perceptual_hash(between)
    d_a, d_b = hamming(h, perceptual_hash(PHOTO_A)), hamming(h, perceptual_hash(PHOTO_B))
    assert max(d_a, d_b) <= DedupConfig().phash_max_distance  # like both...
    assert abs(d_a - d_b) < AMBIGUITY_MARGIN_BITS  # ...almost equally
    api_c, c, [pic_c] = send(client, plate="", minutes=20, at=CORNER_W, media=[MediaFile(between)])
    assert api_c.put_media(c, pic_c).status_code == 201
    case_c = case_of(api_c, c)
    assert case_c not in (case_of(api_a, a), case_of(api_b, b))
    assert open_cases(app) == 3
    assert {other for other, _ in hints(app, case_c)} == {case_of(api_a, a), case_of(api_b, b)}


def test_a_shared_file_never_brings_a_second_plate_into_a_case(app, client):
    api_a, a, _ = send(client, plate=PLATE_A, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    # A forwarded copy of the same file without a plate joins car A's case...
    api_n, n, _ = send(client, plate="", minutes=2, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    case_a = case_of(api_a, a)
    assert case_of(api_n, n) == case_a
    assert load(app, Report, n).join_reason == "same_media"
    # ...but the same file reported with another plate does not, whichever report it
    # shares the file with: the case holds car A.
    api_q, q, _ = send(client, plate=PLATE_B, minutes=4, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    case_q = case_of(api_q, q)
    assert case_q != case_a
    assert load(app, Case, case_a).report_count == 2
    assert hints(app, case_a) == {(case_q, "same_media")}
    assert hints(app, case_q) == {(case_a, "same_media")}


# --------------------------------------------------------------------------- blank images


def _ba_dinh_case(client: FlaskClient) -> tuple[list[tuple[Api, str]], str]:
    """Three reports of one car in Ba Đình (named informants), the first photo blank."""
    sent = []
    for i, data in enumerate([blank(), jpeg(street_corner(RED_SEDAN, seed=3)), blank((0, 0, 1))]):
        api, rid, [pic] = send(
            client, plate="30F-777.88", minutes=i * 5, at=BA_DINH, media=[MediaFile(data)]
        )
        assert api.put_media(rid, pic).status_code == 201
        sent.append((api, rid))
    case_id = case_of(*sent[0])
    assert {case_of(*s) for s in sent} == {case_id}
    return sent, case_id


def test_a_blank_image_from_far_away_pulls_no_case_along(app, client):
    sent, ba_dinh = _ba_dinh_case(client)
    # Two days later in Hồ Chí Minh City, no plate, another blank picture.
    api, rid, [pic] = send(
        client, plate="", minutes=60 * 48, at=HCMC, media=[MediaFile(blank(quality=50))]
    )
    assert api.put_media(rid, pic).status_code == 201

    assert case_of(api, rid) != ba_dinh
    case = load(app, Case, ba_dinh)
    assert (case.district_code, case.report_count, case.status) == ("001", 3, "open")
    assert load(app, Case, case_of(api, rid)).district_code == "760"
    assert hints(app, ba_dinh) == set()
    with app.app_context():  # blank pictures get no hash at all
        blanks = db.session.scalars(
            sa.select(Media.phash).where(Media.report_id.in_([sent[0][1], sent[2][1], rid]))
        ).all()
    assert blanks == [None, None, None]
    # The Ba Đình reviewer still sees the three reports.
    page = reviewer(app, "rev_001", ["001"]).get(f"/console/cases/{ba_dinh}").get_data(True)
    assert page.count('class="report card"') == 3


def test_degenerate_hashes_stored_before_the_fix_never_match(app, client):
    sent, ba_dinh = _ba_dinh_case(client)
    zeros = "0000000000000000"
    with app.app_context():  # as the old code stored a blank photo's hash
        db.session.execute(
            sa.update(Media).where(Media.report_id == sent[0][1]).values(phash=zeros)
        )
        db.session.commit()
    api, rid, [pic] = send(
        client, plate="", minutes=60 * 48, at=HCMC, media=[MediaFile(blank(quality=50))]
    )
    with app.app_context():
        evidence.mark_received(pic.media_id, {}, zeros)  # hashed the old way
    assert case_of(api, rid) != ba_dinh
    assert load(app, Case, ba_dinh).report_count == 3
    assert hints(app, ba_dinh) == set()


# --------------------------------------------------------------------------- first reporter


def send_claiming(client: FlaskClient, captured_at: datetime, media: MediaFile):
    """A report of car A at the corner, claiming ``captured_at``."""
    api = Api.register(client)
    rid = str(uuid.uuid4())
    body = report_body(
        [media],
        plate=PLATE_A,
        captured_at=captured_at.isoformat(),
        location={"lat": CORNER_W[0], "lon": CORNER_W[1], "accuracy_m": 5.0, "source": "gps"},
    )
    assert api.put_report(rid, body).status_code == 201
    return api, rid


def first_of(app: Flask, api: Api, rid: str) -> str:
    return load(app, Case, case_of(api, rid)).first_report_id


def test_a_backdated_report_without_evidence_does_not_become_first_reporter(app, client):
    override(app, FLAG_RECEIPT_GAP_MINUTES=10)
    now = utcnow()
    honest_pic, late_pic = MediaFile(PHOTO_A), MediaFile(reencoded(PHOTO_A))
    honest = send_claiming(client, now - timedelta(minutes=2), honest_pic)
    # Someone else claims to have seen it 25 minutes earlier (still in the join window).
    backdated = send_claiming(client, now - timedelta(minutes=27), late_pic)
    assert case_of(*honest) == case_of(*backdated)
    # No evidence anywhere yet: receipts close together, so the claim orders them...
    assert first_of(app, *honest) == backdated[1]
    # ...until the honest report's evidence arrives: evidence beats a bare claim.
    assert honest[0].put_media(honest[1], honest_pic).status_code == 201
    assert first_of(app, *honest) == honest[1]
    assert "captured_long_before_receipt" in load(app, Report, backdated[1]).flags
    assert "captured_long_before_receipt" not in load(app, Report, honest[1]).flags


@pytest.mark.parametrize(
    ("settle_minutes", "first"),
    [
        pytest.param(0, "honest", id="evidence-arrived-later-than-settle"),
        pytest.param(30, "backdated", id="evidence-close-together-claim-orders"),
    ],
)
def test_the_claimed_time_orders_only_evidence_received_close_together(
    app, client, settle_minutes, first
):
    override(app, FIRST_REPORTER_SETTLE_MINUTES=settle_minutes, FLAG_RECEIPT_GAP_MINUTES=10)
    now = utcnow()
    pics = {"honest": MediaFile(PHOTO_A), "backdated": MediaFile(reencoded(PHOTO_A))}
    sent = {
        "honest": send_claiming(client, now - timedelta(minutes=2), pics["honest"]),
        "backdated": send_claiming(client, now - timedelta(minutes=27), pics["backdated"]),
    }
    for name in ("honest", "backdated"):  # the honest evidence reaches the server first
        api, rid = sent[name]
        assert api.put_media(rid, pics[name]).status_code == 201
    assert first_of(app, *sent["honest"]) == sent[first][1]
    # Either way the reviewer sees that the backdated claim is far from its receipt.
    assert "captured_long_before_receipt" in load(app, Report, sent["backdated"][1]).flags


def test_a_decided_case_is_never_absorbed_by_a_similar_photo(app, client):
    """A report claimed earlier, whose near copy of the photo arrives after the other
    case was verified, would make its own case the survivor: the verified case is not
    absorbed (its verdict would vanish); both cases stay, told of each other."""
    copy = MediaFile(reencoded(PHOTO_A))
    api_c, c, [pic_c] = send(client, plate="", minutes=-5, at=CORNER_W, media=[copy])
    api_a, a, [pic_a] = send(client, plate=PLATE_A, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    assert api_a.put_media(a, pic_a).status_code == 201
    case_a, case_c = case_of(api_a, a), case_of(api_c, c)
    assert case_a != case_c
    rev = reviewer(app, "rev_006", ["006"])
    verify = {"kind": "verify", "confirm_count": "1"}
    assert post(rev, f"/console/cases/{case_a}/decide", verify).status_code == 302

    assert api_c.put_media(c, pic_c).status_code == 201

    assert case_of(api_c, c) == case_c and case_of(api_a, a) == case_a
    decided = load(app, Case, case_a)
    assert (decided.status, decided.verdict, decided.report_count) == ("open", "verified", 1)
    assert hints(app, case_c) == {(case_a, "similar_media")}


def test_a_later_similar_photo_joins_a_decided_case_that_came_first(app, client):
    """The other way round the join is allowed: the decided case takes the report in."""
    api_a, a, [pic_a] = send(client, plate=PLATE_A, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    assert api_a.put_media(a, pic_a).status_code == 201
    case_a = case_of(api_a, a)
    rev = reviewer(app, "rev_006", ["006"])
    verify = {"kind": "verify", "confirm_count": "1"}
    assert post(rev, f"/console/cases/{case_a}/decide", verify).status_code == 302
    copy = MediaFile(reencoded(PHOTO_A))
    api_c, c, [pic_c] = send(client, plate="", minutes=5, at=CORNER_W, media=[copy])
    assert api_c.put_media(c, pic_c).status_code == 201
    assert case_of(api_c, c) == case_a
    decided = load(app, Case, case_a)
    assert (decided.verdict, decided.report_count) == ("verified", 2)


# --------------------------------------------------------------------------- merge by hand


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def test_a_reviewer_merges_two_cases_and_a_split_undoes_it(app: Flask, world: World) -> None:
    a, a3 = world.cases["A"], world.cases["A3"]
    c = session_for(app, "rev_a")
    resp = post(c, f"/console/cases/{a}/merge", {"other": a3[:8], "note": "biển đọc nhầm"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{a}")

    survivor, absorbed = load(app, Case, a), load(app, Case, a3)
    assert (survivor.report_count, survivor.status) == (3, "open")
    assert (absorbed.status, absorbed.merged_into_id, absorbed.report_count) == ("merged", a, 0)
    moved_in = load(app, Report, world.reports["a3"])
    assert (moved_in.case_id, moved_in.merged_from_case_id, moved_in.join_reason) == (
        a,
        a3,
        "merged_by_hand",
    )
    assert [(e.kind, e.other_case_id, e.actor, e.note) for e in events(app, a)] == [
        ("absorbed_by_hand", a3, "user:rev_a", "biển đọc nhầm")
    ]
    assert [(e.kind, e.other_case_id) for e in events(app, a3)] == [("merged_by_hand", a)]
    with app.app_context():
        d = db.session.scalar(sa.select(Decision).where(Decision.kind == "merge"))
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "cases_merged"))
        assert (d.case_id, d.internal_note) == (a, "biển đọc nhầm")
        assert (entry.case_id, entry.detail) == (a, f"{a3} -> {a}")

    # The queue row shows both plates; the case page, who a decision would reach.
    queue = c.get("/console/queue").get_data(as_text=True)
    assert "29B-555.66, 30A-123.45" in queue
    page = c.get(f"/console/cases/{a}").get_data(as_text=True)
    assert "Quyết định này sẽ gửi đến 3 người phản ánh." in page

    # Splitting the merged report out takes it back into its own case, reopened.
    resp = post(c, f"/console/cases/{a}/split", {"report_id": world.reports["a3"], "reason": "x"})
    assert resp.status_code == 302
    back, left = load(app, Case, a3), load(app, Case, a)
    assert (back.status, back.merged_into_id, back.report_count, back.manual) == (
        "open",
        None,
        1,
        True,
    )
    assert (back.first_report_id, left.report_count) == (world.reports["a3"], 2)
    report = load(app, Report, world.reports["a3"])
    assert (report.case_id, report.merged_from_case_id, report.join_reason) == (a3, None, None)
    assert [e.kind for e in events(app, a)] == ["absorbed_by_hand", "unmerged"]
    assert [e.kind for e in events(app, a3)] == ["merged_by_hand", "reopened"]


def test_merging_keeps_the_earlier_reporter_first(app: Flask, world: World) -> None:
    a, a3 = world.cases["A"], world.cases["A3"]
    post(session_for(app, "rev_a"), f"/console/cases/{a3}/merge", {"other": a})
    # All evidence arrived within seconds: the claimed times order them (a1 at T0).
    assert load(app, Case, a3).first_report_id == world.reports["a1"]
    assert load(app, Case, a).status == "merged"


@pytest.mark.parametrize(
    ("user", "target", "other", "message"),
    [
        pytest.param("rev_a", "A", "B", "Không có vụ việc đang mở", id="other-district-unseen"),
        pytest.param(
            "admin", "A", "B", "Chỉ gộp được các vụ việc cùng địa bàn", id="two-districts"
        ),
        pytest.param("rev_a", "A", "A", "Không thể gộp vụ việc với chính nó", id="itself"),
        pytest.param("rev_a", "A", "0000", "Không có vụ việc đang mở", id="too-short-an-id"),
    ],
)
def test_a_merge_is_refused_across_districts_and_with_itself(
    app: Flask, world: World, user: str, target: str, other: str, message: str
) -> None:
    c = session_for(app, user)
    ref = world.cases.get(other, other)
    resp = post(c, f"/console/cases/{world.cases[target]}/merge", {"other": ref[:8]})
    assert resp.status_code == 302
    assert message in c.get(resp.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)) == 0
        assert db.session.scalar(
            sa.select(Case.report_count).where(Case.id == world.cases[target])
        ) == (2 if target == "A" else 1)


def test_a_reviewer_cannot_merge_into_a_case_of_another_district(app: Flask, world: World) -> None:
    c = session_for(app, "rev_b")  # Ba Đình only
    assert (
        post(c, f"/console/cases/{world.cases['A']}/merge", {"other": world.cases["B"]}).status_code
        == 404
    )


def test_the_service_refuses_cases_of_two_districts_or_not_open(app: Flask, world: World) -> None:
    with app.app_context():
        with pytest.raises(cases.CaseError, match="different districts"):
            cases.merge_cases(world.cases["A"], world.cases["B"], actor="user:admin")
        db.session.rollback()
        cases.merge_cases(world.cases["A"], world.cases["A3"], actor="user:admin")
        db.session.commit()
        with pytest.raises(cases.CaseError):  # A3 is merged now
            cases.merge_cases(world.cases["A"], world.cases["A3"], actor="user:admin")
        db.session.rollback()


def test_a_hint_to_a_case_of_another_district_is_shown_only_to_who_may_see_it(app, client):
    api_a, a, [pic_a] = send(client, plate=PLATE_A, at=CORNER_W, media=[MediaFile(PHOTO_A)])
    # The same photo, forwarded and reported from across the district border (Ba Đình).
    copy = MediaFile(reencoded(PHOTO_A))
    api_b, b, [pic_b] = send(
        client, plate="", minutes=5, at=moved(*CORNER, east_m=60), media=[copy]
    )
    assert api_a.put_media(a, pic_a).status_code == 201
    assert api_b.put_media(b, pic_b).status_code == 201
    case_a, case_b = case_of(api_a, a), case_of(api_b, b)
    assert case_a != case_b and hints(app, case_a) == {(case_b, "similar_media")}
    own = reviewer(app, "rev_006", ["006"]).get(f"/console/cases/{case_a}").get_data(True)
    assert case_b[:8] not in own  # not even its short id: another district's case
    admin = reviewer(app, "boss", [], role="admin").get(f"/console/cases/{case_a}").get_data(True)
    assert f"Ảnh giống vụ việc {case_b[:8]}" in admin


# --------------------------------------------------------------------------- confirm step


@pytest.mark.parametrize(
    ("confirm_count", "decided"),
    [
        pytest.param(None, False, id="missing"),
        pytest.param("1", False, id="stale-page-showed-one"),
        pytest.param("3", False, id="more-than-there-are"),
        pytest.param("x", False, id="not-a-number"),
        pytest.param("2", True, id="as-shown"),
    ],
)
def test_a_decision_for_several_reporters_needs_the_count_the_page_showed(
    app: Flask, world: World, confirm_count: str | None, decided: bool
) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A']}").get_data(as_text=True)
    assert "Quyết định này sẽ gửi đến 2 người phản ánh." in page
    assert page.count('name="confirm_count" value="2" data-confirm=') == 3
    form = {"kind": "reject", "reason_code": "not_a_violation"}
    if confirm_count is not None:
        form["confirm_count"] = confirm_count
    resp = post(c, f"/console/cases/{world.cases['A']}/decide", form)
    assert resp.status_code == 302
    with app.app_context():
        statuses = set(
            db.session.scalars(
                sa.select(StatusEvent.status).where(
                    StatusEvent.report_id.in_([world.reports["a1"], world.reports["a2"]])
                )
            )
        )
    assert ("rejected" in statuses) is decided
    if not decided:
        assert "Vụ việc đã thay đổi" in c.get(resp.headers["Location"]).get_data(as_text=True)


def test_a_decision_for_one_reporter_asks_nothing(app: Flask, world: World) -> None:
    c = session_for(app, "rev_a")
    page = c.get(f"/console/cases/{world.cases['A3']}").get_data(as_text=True)
    assert "decision-reach" not in page and "data-confirm" not in page
    assert 'name="confirm_count" value="1"' in page
    form = {"kind": "reject", "reason_code": "not_a_violation"}
    post(c, f"/console/cases/{world.cases['A3']}/decide", form)
    assert load(app, Report, world.reports["a3"]).status == "rejected"
