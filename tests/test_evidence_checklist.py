"""The per-violation evidence checklist: data shape and the pure evaluation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from server import catalogue
from server.services.checklist import Media, checklist, evaluate

T0 = datetime(2026, 1, 5, 8, 0)


def test_every_violation_has_a_checklist_with_known_items() -> None:
    data = checklist()
    codes = {v["code"] for v in catalogue.violations()}
    assert set(data["violations"]) == codes
    for entry in data["violations"].values():
        assert entry["items"]
        assert set(entry["items"]) <= set(data["items"])
    for wording in data["items"].values():
        assert wording["vi"] and wording["en"]


def _status(code: str, media: list[Media], item: str) -> str:
    return {r.code: r.status for r in evaluate(code, media)}[item]


@pytest.mark.parametrize(
    ("code", "media", "item", "expected"),
    [
        ("WEAVING", [Media("photo", T0)], "VIDEO_OF_ACT", "not_met"),
        ("WEAVING", [Media("photo", T0), Media("video", T0)], "VIDEO_OF_ACT", "met"),
        ("REVVING", [], "VIDEO_OF_ACT", "not_met"),
        ("PARK_NO_PARKING_SIGN", [Media("photo", T0)], "TWO_PHOTOS_APART", "not_met"),
        (
            "PARK_NO_PARKING_SIGN",
            [Media("photo", T0), Media("photo", T0 + timedelta(minutes=2))],
            "TWO_PHOTOS_APART",
            "not_met",
        ),
        (
            "PARK_NO_PARKING_SIGN",
            [Media("photo", T0), Media("photo", T0 + timedelta(minutes=6))],
            "TWO_PHOTOS_APART",
            "met",
        ),
        (
            "PARK_ON_CROSSWALK",
            [Media("photo", None), Media("photo", None)],
            "TWO_PHOTOS_APART",
            "not_met",
        ),
        ("PARK_NO_PARKING_SIGN", [Media("photo", T0)], "SIGN_VISIBLE", "to_check"),
        ("RED_LIGHT", [Media("photo", T0)], "LIGHT_IN_FRAME", "to_check"),
        ("RED_LIGHT", [Media("photo", T0)], "PLATE_READABLE", "to_check"),
    ],
)
def test_evaluate(code: str, media: list[Media], item: str, expected: str) -> None:
    assert _status(code, media, item) == expected


def test_unknown_code_falls_back_to_plate_only() -> None:
    assert [r.code for r in evaluate("NOPE", [])] == ["PLATE_READABLE"]


def test_api_carries_the_checklist(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/violations")
    assert resp.status_code == 200
    by_code = {v["code"]: v for v in resp.get_json()["violations"]}
    weaving = by_code["WEAVING"]["evidence"]
    assert weaving["needs_video"] is True
    assert [i["code"] for i in weaving["items"]] == ["PLATE_READABLE", "VIDEO_OF_ACT"]
    assert weaving["items"][1]["vi"].startswith("Quay video")
    parking = by_code["PARK_NO_PARKING_SIGN"]["evidence"]
    assert parking["min_photos"] == 2 and parking["min_gap_minutes"] == 5


def test_etag_changes_with_the_checklist(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from server.api import violations as api

    before = client.get("/api/v1/violations").headers["ETag"]
    data = catalogue.evidence_checklist()
    plate = {"vi": "Biển số rõ", "en": "Plate clear"}
    changed = {**data, "items": {**data["items"], "PLATE_READABLE": plate}}
    for fn in (catalogue.violations, catalogue.by_code, api._encoded):
        fn.cache_clear()
    monkeypatch.setattr(catalogue, "evidence_checklist", lambda: changed)
    try:
        after = client.get("/api/v1/violations").headers["ETag"]
    finally:
        for fn in (catalogue.violations, catalogue.by_code, api._encoded):
            fn.cache_clear()
    assert after != before


# The same table drives pwa/js/capture/checklist.js in tests/browser/test_checklist.py.
SHARED = json.loads(
    (Path(__file__).resolve().parent / "data" / "evidence_checklist_cases.json").read_text("utf-8")
)["cases"]


def shared_media(media: list[list]) -> list[Media]:
    """``[kind, minutes or null, picture?]`` rows as checklist media."""
    return [
        Media(m[0], None if m[1] is None else T0 + timedelta(minutes=m[1]), *m[2:])
        for m in media
    ]


@pytest.mark.parametrize("case", SHARED, ids=[c["id"] for c in SHARED])
def test_the_shared_table(case: dict) -> None:
    got = [[r.code, r.status] for r in evaluate(case["violation"], shared_media(case["media"]))]
    assert got == case["expected"]
