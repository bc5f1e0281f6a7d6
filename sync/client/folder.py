"""Turn a folder of dash-cam photos and clips into queued reports.

Each file becomes one report. Time and place come from the file's EXIF when it has
them (``location.source = "exif"``); otherwise from ``--lat/--lon`` (``manual``) and
the file's modification time. A file with no position at all is skipped and named.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from server.exif import read_exif
from server.sniff import ALLOWED_TYPES, sniff

from .outbox import Outbox

VIETNAM = timezone(timedelta(hours=7))
EXTENSIONS = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".mp4", ".mov", ".webm"}


@dataclass
class Defaults:
    violation: str
    vehicle_class: str = "other"
    lat: float | None = None
    lon: float | None = None
    tz: timezone = VIETNAM
    officer: bool = False  # the outbox is signed in as an officer (``login``)
    note: str = ""


def files_in(folder: Path) -> Iterator[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            path = Path(root, name)
            if path.suffix.lower() in EXTENSIONS:
                yield path


def hash_file(path: Path) -> tuple[str, int, bytes]:
    digest, size, head = hashlib.sha256(), 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            if not head:
                head = chunk[:4096]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head


def describe(path: Path, d: Defaults) -> tuple[dict[str, Any], str, int, str] | str:
    """The report body for one file and its (sha256, size, content type); or why not."""
    sha, size, head = hash_file(path)
    content_type = sniff(head)
    if content_type not in ALLOWED_TYPES:
        return "not a supported photo or video"
    exif = read_exif(path) if content_type.startswith("image/") else None
    if exif and exif.lat is not None and exif.lon is not None:
        location = {"lat": exif.lat, "lon": exif.lon, "accuracy_m": None, "source": "exif"}
    elif d.lat is not None and d.lon is not None:
        location = {"lat": d.lat, "lon": d.lon, "accuracy_m": None, "source": "manual"}
    else:
        return "no GPS position in the file: pass --lat and --lon"
    captured = None
    if exif and exif.taken_at:
        captured = datetime.fromisoformat(exif.taken_at)
        if captured.tzinfo is None:
            captured = captured.replace(tzinfo=d.tz)
    if captured is None:
        captured = datetime.fromtimestamp(path.stat().st_mtime, d.tz)
    # The officer's name comes from the account behind the token; a citizen's folder
    # push is anonymous.
    reporter: dict[str, Any] = {"kind": "officer" if d.officer else "citizen"}
    body = {
        "violation": d.violation,
        "vehicle_class": d.vehicle_class,
        "plate": "",
        "vehicle_description": "",
        "note": d.note,
        "captured_at": captured.isoformat(),
        "location": location,
        "reporter": reporter,
    }
    return body, sha, size, content_type


def queue_folder(outbox: Outbox, folder: Path, d: Defaults) -> tuple[int, list[tuple[Path, str]]]:
    """Queue every usable file once; returns (how many queued now or before, skipped)."""
    queued, skipped = 0, []
    for path in files_in(folder):
        result = describe(path, d)
        if isinstance(result, str):
            skipped.append((path, result))
            continue
        body, sha, size, content_type = result
        outbox.queue(body, [(path.resolve(), sha, size, content_type)])
        queued += 1
    return queued, skipped
