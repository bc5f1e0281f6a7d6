"""The violation catalogue (Decree 168/2024), shipped as data/violations.json, with the
everyday names and phrasings of data/violation_synonyms.json merged into each
entry, and the evidence checklist of data/evidence_checklist.json."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
CATALOGUE_PATH = DATA / "violations.json"
SYNONYMS_PATH = DATA / "violation_synonyms.json"
CHECKLIST_PATH = DATA / "evidence_checklist.json"
# What an entry gets when data/violation_synonyms.json has nothing for its code.
_NO_SYNONYMS = {"synonyms_vi": [], "synonyms_en": []}


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, Any]:
    """data/violation_synonyms.json: ``{"version": n, "violations": {code: {...}}}``."""
    return _read(SYNONYMS_PATH)


def synonyms_version() -> int:
    """The version of the everyday names and phrasings (bumped on every change)."""
    return int(synonyms()["version"])


@lru_cache(maxsize=1)
def evidence_checklist() -> dict[str, Any]:
    """data/evidence_checklist.json: what each violation needs to be provable."""
    return _read(CHECKLIST_PATH)


def evidence_for(code: str) -> dict[str, Any]:
    """A violation's checklist: its items (code + vi/en wording) and machine-checkable rules."""
    data = evidence_checklist()
    entry = data["violations"].get(code, {"items": ["PLATE_READABLE"]})
    # Every rule is on the wire (null: no such rule), as its schema says.
    return {
        "needs_video": False,
        "min_photos": None,
        "min_gap_minutes": None,
        **entry,
        "items": [{"code": c, **data["items"][c]} for c in entry["items"]],
    }


@lru_cache(maxsize=1)
def violations() -> tuple[dict[str, Any], ...]:
    """All violation types, in catalogue order, each with its short names and synonyms."""
    everyday = synonyms()["violations"]
    out = []
    for item in _read(CATALOGUE_PATH):
        extra = everyday.get(item["code"]) or {
            "short_vi": item["name_vi"],
            "short_en": item["name_en"],
            **_NO_SYNONYMS,
        }
        out.append({**item, **extra, "evidence": evidence_for(item["code"])})
    return tuple(out)


@lru_cache(maxsize=1)
def by_code() -> dict[str, dict[str, Any]]:
    return {v["code"]: v for v in violations()}


def is_known(code: str) -> bool:
    return code in by_code()
