"""Per-violation evidence checklist (issue 16, item 5).

data/evidence_checklist.json says, per violation code, which checklist items make a report
provable and which of them a machine can check (``needs_video``, ``min_photos``,
``min_gap_minutes``). ``evaluate`` is a pure function: given a violation code and the media
of a case (kind, capture time, and what a photo shows: copies of one picture count
once, issue 26), it marks each item ``met``, ``not_met`` or ``to_check``
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


# Two photos whose perceptual hashes differ by at most this many bits (of 64) are one
# picture: pixel-identical copies (0 bits) and re-encodings of it, whatever their EXIF
# times say (issue 26). Stricter than the "similar photo" distance of server.dedup.
SAME_PICTURE_BITS = 4


@dataclass(frozen=True)
class Media:
    kind: str  # "photo" or "video"
    captured_at: datetime | None = None
    # What the photo shows, to tell copies of one picture apart from two pictures: its
    # 64-bit perceptual hash (16 hex digits) or any other key; None: unknown (distinct).
    picture: str | None = None


def _is_hash(key: str) -> bool:
    return len(key) == 16 and all(c in "0123456789abcdef" for c in key)


def same_picture(a: Media, b: Media) -> bool:
    """Whether two photos are one picture (equal keys, or perceptual hashes within
    :data:`SAME_PICTURE_BITS`)."""
    if a.picture is None or b.picture is None:
        return False
    if a.picture == b.picture:
        return True
    if _is_hash(a.picture) and _is_hash(b.picture):
        return bin(int(a.picture, 16) ^ int(b.picture, 16)).count("1") <= SAME_PICTURE_BITS
    return False


def pictures(photos: list[Media]) -> list[list[Media]]:
    """The photos grouped into pictures (copies of one picture together)."""
    groups: list[list[Media]] = []
    for m in photos:
        for group in groups:
            if any(same_picture(m, other) for other in group):
                group.append(m)
                break
        else:
            groups.append([m])
    return groups


def _gap_between_pictures(groups: list[list[Media]]) -> float | None:
    """The largest gap in minutes between two different pictures, or None. Copies of one
    picture may carry different EXIF times, and which is true is unknown: two pictures
    are as far apart as their closest times (copies never add distance)."""
    best: float | None = None
    for i, one in enumerate(groups):
        for other in groups[i + 1 :]:
            gaps = [
                abs((a.captured_at - b.captured_at).total_seconds()) / 60
                for a in one
                for b in other
                if a.captured_at is not None and b.captured_at is not None
            ]
            if gaps:
                best = min(gaps) if best is None else max(best, min(gaps))
    return best


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
            groups = pictures([m for m in media if m.kind == "photo"])
            gap = _gap_between_pictures(groups)
            enough = len(groups) >= int(rule["min_photos"])
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
        picture = getattr(m, "phash", None) if kind == "photo" else None
        out.append(Media(kind, taken or captured, picture))
    return out


def case_checklist(reports: Iterable[Any]) -> list[ViolationChecklist]:
    """The checklist of each violation the case's reports name (in report order),
    evaluated against every received file of the case."""
    reports = list(reports)
    media = [m for r in reports for m in media_of(r)]
    codes = list(dict.fromkeys(r.violation for r in reports))
    return [ViolationChecklist(code, evaluate(code, media)) for code in codes]
