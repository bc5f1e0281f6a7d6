"""The catalogue's everyday names and synonyms (data/violation_synonyms.json) cover every
code, and its fines as data (data/violations.json ``fines``) say what its one-line legal
reference says; GET /api/v1/violations serves both."""

from __future__ import annotations

import gzip
import importlib.util
import json
import unicodedata
from pathlib import Path

from server import catalogue
from sync.schemas import FINE_PAYERS

ROOT = Path(__file__).resolve().parents[1]
RAW = json.loads((ROOT / "data" / "violations.json").read_text("utf-8"))
SYNONYMS = json.loads((ROOT / "data" / "violation_synonyms.json").read_text("utf-8"))
DOC = (ROOT / "data" / "violation_synonyms.md").read_text("utf-8")


def _build_module():
    path = ROOT / "scripts" / "build_catalogue.py"
    spec = importlib.util.spec_from_file_location("build_catalogue", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def test_every_catalogue_code_has_a_short_name_and_synonyms_in_both_languages():
    codes = [v["code"] for v in RAW]
    assert len(codes) == 39
    assert list(SYNONYMS["violations"]) == codes  # the same codes, in catalogue order
    for code, entry in SYNONYMS["violations"].items():
        assert set(entry) == {"short_vi", "short_en", "synonyms_vi", "synonyms_en"}, code
        assert entry["short_vi"].strip() and entry["short_en"].strip(), code
        assert len(entry["short_vi"]) <= 60 and len(entry["short_en"]) <= 60, code
        assert len(entry["synonyms_vi"]) >= 4 and len(entry["synonyms_en"]) >= 4, code
        for text in entry["synonyms_vi"] + entry["synonyms_en"]:
            assert text == text.strip() and text, (code, text)
        folded = [_folded(s) for s in entry["synonyms_vi"] + entry["synonyms_en"]]
        assert len(folded) == len(set(folded)), (code, "a phrasing is listed twice")


def test_the_synonyms_are_versioned_and_documented():
    version = SYNONYMS["version"]
    assert isinstance(version, int) and version >= 1
    assert catalogue.synonyms_version() == version
    assert f"\n| {version} |" in DOC, "data/violation_synonyms.md has no line for this version"
    assert "own everyday phrasings" in DOC and "reviewed by the province" in DOC


def test_the_served_catalogue_has_the_everyday_names_merged_in():
    for item in catalogue.violations():
        extra = SYNONYMS["violations"][item["code"]]
        assert {k: item[k] for k in extra} == extra
        assert item["name_vi"] and item["legal_reference"]  # the decree's own fields stay


def test_fines_as_data_say_what_the_legal_reference_says():
    build = _build_module()
    for item in RAW:
        refs = item["legal_reference"].removeprefix("Nghị định 168/2024/NĐ-CP: ").split(";")
        assert item["fines"] == [build.parse_fine(r) for r in refs], item["code"]
        for fine in item["fines"]:
            assert fine["who"] in FINE_PAYERS, item["code"]
            assert fine["decree"] == "168/2024/NĐ-CP"
            if fine["confiscation"]:
                assert fine["min_vnd"] is None
            else:
                assert 0 < fine["min_vnd"] <= fine["max_vnd"], item["code"]


def test_a_fine_is_parsed_into_article_clause_point_and_who():
    build = _build_module()
    assert build.parse_fine("Art. 6(3)(e) 800.000–1.000.000") == {
        "decree": "168/2024/NĐ-CP",
        "article": 6,
        "clause": 3,
        "point": "e",
        "who": "car",
        "min_vnd": 800_000,
        "max_vnd": 1_000_000,
        "org_min_vnd": None,
        "org_max_vnd": None,
        "per_excess_person": False,
        "confiscation": False,
    }
    org = build.parse_fine("Art. 12(7) 2.000.000–3.000.000 (org 4.000.000–6.000.000)")
    assert (org["who"], org["point"], org["org_min_vnd"], org["org_max_vnd"]) == (
        "person",
        None,
        4_000_000,
        6_000_000,
    )
    assert build.parse_fine("Art. 12(5)(b) 400.000–600.000")["who"] == "motorbike_passenger"
    assert build.parse_fine("Art. 20(2) 400.000–600.000 per excess person")["per_excess_person"]
    racing = build.parse_fine("Art. 35(3)(b) vehicle confiscation")
    assert (racing["who"], racing["confiscation"], racing["min_vnd"]) == ("racer_motor", True, None)


def test_violations_api_serves_short_names_synonyms_and_fines(client):
    resp = client.get("/api/v1/violations")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["synonyms_version"] == SYNONYMS["version"]
    red = next(v for v in body["violations"] if v["code"] == "RED_LIGHT")
    assert red["short_vi"] == "Vượt đèn đỏ"
    assert "đèn đỏ" in red["synonyms_vi"] and "red light" in red["synonyms_en"]
    assert red["fines"][1] == {
        "decree": "168/2024/NĐ-CP",
        "article": 7,
        "clause": 7,
        "point": "c",
        "who": "motorbike",
        "min_vnd": 4_000_000,
        "max_vnd": 6_000_000,
        "org_min_vnd": None,
        "org_max_vnd": None,
        "per_excess_person": False,
        "confiscation": False,
    }
    assert red["legal_reference"].startswith("Nghị định 168/2024/NĐ-CP: Art. 6(9)(b)")


def test_violations_api_is_gzipped_and_revalidates_with_an_etag(client):
    plain = client.get("/api/v1/violations")
    zipped = client.get("/api/v1/violations", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 4
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    again = client.get("/api/v1/violations", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
