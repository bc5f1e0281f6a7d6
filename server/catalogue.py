"""The violation catalogue (Decree 168/2024), shipped as data/violations.json."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "violations.json"


@lru_cache(maxsize=1)
def violations() -> tuple[dict[str, Any], ...]:
    """All violation types, in catalogue order."""
    with CATALOGUE_PATH.open(encoding="utf-8") as fh:
        return tuple(json.load(fh))


@lru_cache(maxsize=1)
def by_code() -> dict[str, dict[str, Any]]:
    return {v["code"]: v for v in violations()}


def is_known(code: str) -> bool:
    return code in by_code()
