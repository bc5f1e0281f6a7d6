"""Plausibility flags for reviewers: pure functions, thresholds passed in.

A flag never rejects a report; it tells the reviewer what to look at. Codes:

- ``captured_in_future``: captured_at is later than the server's clock (plus a tolerance)
- ``captured_too_old``: captured_at is older than the configured age
- ``captured_long_before_receipt``: captured_at is long before the server received the
  report's evidence (or, until it has all arrived, the report): a claim the server's own
  receipt does not bear out (the first reporter rests on the receipt, see server.dedup)
- ``no_exif_time`` / ``no_exif_gps``: a photo carries no capture time / position
  (typical of screenshots, edited or messaging-app copies)
- ``exif_time_mismatch``: a photo's EXIF time is far from captured_at
- ``exif_location_mismatch``: a photo's EXIF position is far from the reported location
- ``vehicle_class_mismatch``: the violation does not usually apply to that vehicle class
- ``unsigned`` / ``signature_invalid``: the capture carries no device signature / one
  that does not verify against this report and the device's key
  (:mod:`server.services.signing`)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif"})


@dataclass(frozen=True)
class Thresholds:
    exif_time_skew_minutes: float = 30.0
    exif_distance_m: float = 500.0
    future_tolerance_minutes: float = 5.0
    max_age_days: float = 30.0
    receipt_gap_minutes: float = 120.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def parse_exif_time(taken_at: str | None, fallback_offset_min: int) -> datetime | None:
    """EXIF time as an aware datetime; a naive one is read in the phone's offset."""
    if not taken_at:
        return None
    try:
        dt = datetime.fromisoformat(taken_at)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone(timedelta(minutes=fallback_offset_min)))
    return dt


def time_flags(captured_at: datetime, now: datetime, t: Thresholds) -> list[str]:
    flags = []
    if captured_at > now + timedelta(minutes=t.future_tolerance_minutes):
        flags.append("captured_in_future")
    if captured_at < now - timedelta(days=t.max_age_days):
        flags.append("captured_too_old")
    return flags


def receipt_flags(captured_at: datetime, receipt: datetime, t: Thresholds) -> list[str]:
    """Flags of the claimed capture time against the server's receipt of the evidence
    (``receipt``: when its last file was verified; the report's receipt until then)."""
    flags = []
    if captured_at < receipt - timedelta(minutes=t.receipt_gap_minutes):
        flags.append("captured_long_before_receipt")
    return flags


def evidence_flags(
    *,
    captured_at: datetime,
    offset_min: int,
    lat: float,
    lon: float,
    evidence: Iterable[tuple[str, Mapping[str, Any] | None]],
    t: Thresholds,
) -> list[str]:
    """Flags from the EXIF of the received images; ``evidence`` is (content_type, exif)."""
    flags: list[str] = []
    for content_type, exif in evidence:
        if content_type not in IMAGE_TYPES or exif is None:
            continue
        taken = parse_exif_time(exif.get("taken_at"), offset_min)
        if taken is None:
            flags.append("no_exif_time")
        elif abs((taken - captured_at).total_seconds()) > t.exif_time_skew_minutes * 60:
            flags.append("exif_time_mismatch")
        if exif.get("lat") is None or exif.get("lon") is None:
            flags.append("no_exif_gps")
        elif haversine_m(lat, lon, exif["lat"], exif["lon"]) > t.exif_distance_m:
            flags.append("exif_location_mismatch")
    return flags


def merge(*groups: Iterable[str]) -> list[str]:
    """Union of flag lists, without repeats, in first-seen order."""
    seen: dict[str, None] = {}
    for group in groups:
        for flag in group:
            seen.setdefault(flag, None)
    return list(seen)
