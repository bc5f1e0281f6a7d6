"""Per-violation evidence checklist (issue 16, item 5).

data/evidence_checklist.json says, per violation code, which checklist items make a report
provable and which of them a machine can check (``needs_video``, ``min_photos``,
``min_gap_minutes``). ``evaluate`` is a pure function: given a violation code and the media
of a case (kind + capture time), it marks each item ``met``, ``not_met`` or ``to_check``
(left to the reviewer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

CHECKLIST_PATH = Path(__file__).resolve().parents[2] / "data" / "evidence_checklist.json"

Status = Literal["met", "not_met", "to_check"]


@dataclass(frozen=True)
class Media:
    kind: str  # "photo" or "video"
    captured_at: datetime | None = None


@dataclass(frozen=True)
class ItemResult:
    code: str
    vi: str
    en: str
    status: Status


@lru_cache(maxsize=1)
def checklist() -> dict[str, Any]:
    with CHECKLIST_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


def rules_for(violation_code: str) -> dict[str, Any]:
    """The checklist entry of a violation (``{"items": [...]}`` with optional rules)."""
    return checklist()["violations"].get(violation_code, {"items": ["PLATE_READABLE"]})


def _max_gap_minutes(media: list[Media]) -> float | None:
    times = sorted(m.captured_at for m in media if m.captured_at is not None)
    if len(times) < 2:
        return None
    return (times[-1] - times[0]).total_seconds() / 60


def evaluate(violation_code: str, media: list[Media]) -> list[ItemResult]:
    """Each checklist item of the violation, marked from the evidence where a machine can."""
    rule = rules_for(violation_code)
    wording = checklist()["items"]
    out: list[ItemResult] = []
    for code in rule["items"]:
        status: Status = "to_check"
        if code == "VIDEO_OF_ACT" and rule.get("needs_video"):
            status = "met" if any(m.kind == "video" for m in media) else "not_met"
        elif code == "TWO_PHOTOS_APART" and rule.get("min_photos"):
            photos = [m for m in media if m.kind == "photo"]
            gap = _max_gap_minutes(photos)
            enough = len(photos) >= int(rule["min_photos"])
            apart = gap is not None and gap >= float(rule.get("min_gap_minutes", 0))
            status = "met" if enough and apart else "not_met"
        out.append(ItemResult(code, wording[code]["vi"], wording[code]["en"], status))
    return out
