"""The evidence checklist beside the evidence on the console's case page (issue 16.5).

Each item of the case's violation is met, missing or for the reviewer to check, worded in
Vietnamese (English with ?lang=en), never as a raw code; the machine-checkable items
follow the files received (two photos 3 minutes apart do not make "some minutes apart";
a third photo 10 minutes later does). SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.services.checklist import case_checklist, media_of
from tests.test_console import DONG_DA, World, build_world, send, session_for

SECTION = re.compile(r'<section class="card checklist" id="evidence-checklist".*?</section>', re.S)
ITEM = re.compile(r'<li class="ck ck-\w+" data-code="(\w+)" data-status="(\w+)">(.*?)</li>', re.S)
TAG = re.compile(r"<[^>]+>")

WORDING = {
    "vi": {
        "PLATE_READABLE": "Biển số đọc được rõ · Cán bộ kiểm tra",
        "TWO_PHOTOS_APART": "Hai ảnh cách nhau vài phút · Còn thiếu",
        "PLACE_VISIBLE": "Thấy rõ vị trí (vạch, vỉa hè, giao lộ) · Cán bộ kiểm tra",
    },
    "en": {
        "PLATE_READABLE": "The number plate is readable · For the reviewer to check",
        "TWO_PHOTOS_APART": "Two photos some minutes apart · Missing",
        "PLACE_VISIBLE": (
            "The place is visible (markings, pavement, junction) · For the reviewer to check"
        ),
    },
}


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> World:
    return build_world(app, client)


def _checklist(client: FlaskClient, case_id: str, lang: str) -> tuple[list, str]:
    page = client.get(f"/console/cases/{case_id}?lang={lang}").get_data(as_text=True)
    section = SECTION.search(page)
    assert section, page[:300]
    items = [
        (code, status, " ".join(TAG.sub("", body).split()).lstrip("✓!? ").strip())
        for code, status, body in ITEM.findall(section.group(0))
    ]
    return items, " ".join(TAG.sub(" ", section.group(0)).split())


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_case_page_shows_each_item_met_missing_or_for_the_reviewer(
    app: Flask, world: World, lang: str
) -> None:
    c = session_for(app, "rev_a")
    items, text = _checklist(c, world.cases["A"], lang)  # two photos 3 minutes apart
    assert [(code, status) for code, status, _ in items] == [
        ("PLATE_READABLE", "to_check"),
        ("TWO_PHOTOS_APART", "not_met"),
        ("PLACE_VISIBLE", "to_check"),
    ]
    assert {code: words for code, _, words in items} == WORDING[lang]
    heading = "Bằng chứng cần có" if lang == "vi" else "What the evidence must show"
    assert heading in text
    for raw in ("PLATE_READABLE", "TWO_PHOTOS_APART", "not_met", "to_check"):
        assert raw not in text  # only in attributes, never on screen


def test_a_photo_ten_minutes_later_meets_two_photos_apart(
    app: Flask, client: FlaskClient, world: World
) -> None:
    c = session_for(app, "rev_a")
    send(client, DONG_DA, plate="30A-123.45", minutes=10, api=world.citizen)  # joins case A
    items, _ = _checklist(c, world.cases["A"], "vi")
    assert ("TWO_PHOTOS_APART", "met") in [(code, status) for code, status, _ in items]


def _media(kind: str, taken_at: str | None, received: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        content_type="video/mp4" if kind == "video" else "image/jpeg",
        exif={"taken_at": taken_at} if taken_at else None,
        received_at=datetime(2026, 11, 20, 1, 0) if received else None,
    )


def _report(violation: str, media: list, captured: str = "2026-11-20T01:00:00") -> SimpleNamespace:
    return SimpleNamespace(
        violation=violation,
        captured_at=datetime.fromisoformat(captured),
        captured_offset_min=420,
        media=media,
    )


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        # EXIF times (with or without an offset) are compared as local wall-clock times.
        (
            [
                _report("PARK_ON_CROSSWALK", [_media("photo", "2026-11-20T08:00:00+07:00")]),
                _report("PARK_ON_CROSSWALK", [_media("photo", "2026-11-20T08:07:00")]),
            ],
            {"PARK_ON_CROSSWALK": "met"},
        ),
        # No EXIF time: the report's capture time (UTC + its offset) stands in.
        (
            [
                _report("PARK_ON_CROSSWALK", [_media("photo", None)]),
                _report("PARK_ON_CROSSWALK", [_media("photo", "2026-11-20T08:06:00")]),
            ],
            {"PARK_ON_CROSSWALK": "met"},
        ),
        # A file not received yet is not evidence in hand.
        (
            [_report("WEAVING", [_media("photo", None), _media("video", None, received=False)])],
            {"WEAVING": "not_met"},
        ),
        (
            [
                _report("WEAVING", [_media("video", None)]),
                _report("REVVING", [_media("photo", None)]),
            ],
            {"WEAVING": "met", "REVVING": "met"},  # the case's files, for each violation named
        ),
    ],
)
def test_case_checklist_uses_every_received_file_of_the_case(reports, expected) -> None:
    got = {
        cl.violation: next(i.status for i in cl.items if i.code != "PLATE_READABLE")
        for cl in case_checklist(reports)
    }
    assert got == expected
    assert all(m.kind in ("photo", "video") for r in reports for m in media_of(r))


@pytest.mark.parametrize(
    ("seeds", "expected"),
    [((5, 5), "not_met"), ((5, 9), "met")],
    ids=["one-picture-copied", "two-pictures"],
)
def test_two_copies_of_one_picture_with_other_exif_times_are_not_two_photos_apart(
    app: Flask, client: FlaskClient, world: World, seeds: tuple[int, int], expected: str
) -> None:
    """Pixel-identical copies whose EXIF times are ten minutes apart: the perceptual hash
    says they are one picture, so "two photos minutes apart" is not met (issue 26)."""
    import uuid

    from server.extensions import db
    from server.models import Report
    from tests.factories import MediaFile, report_body
    from tests.media_factory import make_jpeg

    photos = [
        MediaFile(
            make_jpeg(
                (320, 240), seed, lat=DONG_DA[0], lon=DONG_DA[1],
                taken_at=f"2026-11-20T08:{minute:02d}:00", offset="+07:00",
            )
        )
        for seed, minute in zip(seeds, (0, 10), strict=True)
    ]  # fmt: skip
    rid = str(uuid.uuid4())
    body = report_body(
        photos,
        plate="51K-999.99",
        captured_at="2026-11-20T08:10:00+07:00",
        location={"lat": DONG_DA[0], "lon": DONG_DA[1], "accuracy_m": 5.0, "source": "gps"},
    )
    assert world.citizen.put_report(rid, body).status_code == 201
    for p in photos:
        assert world.citizen.put_media(rid, p).status_code == 201
    with app.app_context():
        case_id = db.session.get(Report, rid).case_id
    items, _ = _checklist(session_for(app, "rev_a"), case_id, "vi")
    assert ("TWO_PHOTOS_APART", expected) in [(code, status) for code, status, _ in items]
