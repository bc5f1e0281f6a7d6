"""Per-violation evidence checklist (issue 16, item 5).

data/evidence_checklist.json says, per violation code, which checklist items make a report
provable and which of them a machine can check (``needs_video``, ``min_photos``,
``min_gap_minutes``). ``evaluate`` is a pure function: given a violation code and the media
of a case (kind + capture time), it marks each item ``met``, ``not_met`` or ``to_check``
(left to the reviewer). ``case_checklist`` applies it to a case on the console: every
received file of every report of the case, for each violation its reports name.

pwa/js/capture/checklist.js is the same evaluation on the phone; both are tested against
one table, tests/data/evidence_checklist_cases.json."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
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


@dataclass(frozen=True)
class ViolationChecklist:
    violation: str
    items: list[ItemResult]


def _wall_time(text: object) -> datetime | None:
    """An EXIF ``taken_at`` (ISO 8601, offset or not) as its local wall-clock time."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        return None


def media_of(report: Any) -> list[Media]:
    """A report's received files as the checklist sees them: a video or a photo, taken
    at the photo's EXIF time, else at the report's capture time (local wall clock both,
    so photos of one place compare)."""
    captured = report.captured_at
    if captured is not None:
        captured = captured.replace(tzinfo=None) + timedelta(
            minutes=report.captured_offset_min or 0
        )
    out = []
    for m in report.media:
        if m.received_at is None:
            continue
        kind = "video" if m.content_type.startswith("video/") else "photo"
        taken = _wall_time((m.exif or {}).get("taken_at")) if kind == "photo" else None
        out.append(Media(kind, taken or captured))
    return out


def case_checklist(reports: Iterable[Any]) -> list[ViolationChecklist]:
    """The checklist of each violation the case's reports name (in report order),
    evaluated against every received file of the case."""
    reports = list(reports)
    media = [m for r in reports for m in media_of(r)]
    codes = list(dict.fromkeys(r.violation for r in reports))
    return [ViolationChecklist(code, evaluate(code, media)) for code in codes]
