"""The crosswalk between the pre-2025 map and today's (issue 23), for statistics: base-year
figures kept by old units (Bắc Giang 2024) compared with today's (Bắc Ninh).

* Provinces: every old province lies wholly in one new province (whole provinces
  merged on 1 July 2025): ``data/boundaries/crosswalk_provinces_2025.json``
  ``{old_code: {new_code, old_name, new_name}}``.
* Districts: an old district overlaps one or more new communes; ``share`` is the part
  of the district's area in each commune, and the reverse (the share of a commune's
  area in each old district): ``data/boundaries/crosswalk_districts_2025.json``.

Carrying figures across keeps totals: a province's figure goes whole to its new
province; a district's figure is split over its communes by area share (the shares of
each district normalised to 1, so rounding in the file never loses or adds anything).

Pure functions over the loaded tables; the files are read once per process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..district_index import DATA_DIR

PROVINCES_FILE = DATA_DIR / "crosswalk_provinces_2025.json"
DISTRICTS_FILE = DATA_DIR / "crosswalk_districts_2025.json"

Shares = dict[str, list[tuple[str, float]]]


class CrosswalkError(LookupError):
    """A code the crosswalk does not know."""


@lru_cache(maxsize=2)
def _read(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def province_map(path: Path = PROVINCES_FILE) -> dict[str, str]:
    """``{old province code: new province code}`` (all 63 old provinces)."""
    return {old: v["new_code"] for old, v in _read(path).items()}


def province_names(path: Path = PROVINCES_FILE) -> dict[str, str]:
    """``{new province code: its name}``."""
    return {v["new_code"]: v["new_name"] for v in _read(path).values()}


def new_province(old_code: str, path: Path = PROVINCES_FILE) -> str:
    """Today's province of an old province code."""
    try:
        return province_map(path)[old_code]
    except KeyError:
        raise CrosswalkError(f"unknown pre-2025 province {old_code!r}") from None


def old_provinces(new_code: str, path: Path = PROVINCES_FILE) -> list[str]:
    """The old provinces that make up a new one, by code."""
    return sorted(old for old, new in province_map(path).items() if new == new_code)


def carry_provinces(
    figures: Mapping[str, float], mapping: Mapping[str, str] | None = None
) -> dict[str, float]:
    """Figures of old provinces summed into today's provinces (totals kept)."""
    mapping = province_map() if mapping is None else mapping
    out: dict[str, float] = {}
    for old, value in figures.items():
        if old not in mapping:
            raise CrosswalkError(f"unknown pre-2025 province {old!r}")
        out[mapping[old]] = out.get(mapping[old], 0) + value
    return out


def district_shares(path: Path = DISTRICTS_FILE) -> Shares:
    """``{old district: [(commune, share), …]}``, each district's shares summing to 1.

    The file's ``district_to_communes``: ``{old: [{"commune_code", "share"}]}``."""
    return normalise(_parse_shares(_read(path), "district_to_communes", "commune_code"))


def commune_shares(path: Path = DISTRICTS_FILE) -> Shares:
    """``{commune: [(old district, share of the commune's area in it), …]}``, each
    commune's shares summing to 1 (the file's ``commune_to_districts``): carries
    today's figures back to the old districts."""
    return normalise(_parse_shares(_read(path), "commune_to_districts", "district_code"))


def _parse_shares(data: Any, table_key: str, code_key: str) -> Shares:
    table = data.get(table_key, {}) if isinstance(data, dict) else {}
    out: Shares = {}
    for code, parts in table.items():
        if isinstance(parts, list):
            out[str(code)] = [(str(p[code_key]), float(p["share"])) for p in parts]
    return out


def normalise(shares: Shares) -> Shares:
    """Each district's shares scaled to sum to 1 (a district without share keeps none)."""
    out: Shares = {}
    for old, parts in shares.items():
        total = sum(s for _, s in parts if s > 0)
        out[old] = [(c, s / total) for c, s in parts if s > 0] if total > 0 else []
    return out


def communes_of_district(old_code: str, shares: Shares | None = None) -> list[tuple[str, float]]:
    """Today's communes an old district overlaps, with the share of its area in each."""
    shares = district_shares() if shares is None else shares
    try:
        return list(shares[old_code])
    except KeyError:
        raise CrosswalkError(f"unknown pre-2025 district {old_code!r}") from None


def districts_of_commune(commune: str, shares: Shares | None = None) -> list[tuple[str, float]]:
    """The old districts a commune draws from, with the share of each district's area
    that lies in the commune (the reverse table)."""
    shares = district_shares() if shares is None else shares
    return sorted((old, s) for old, parts in shares.items() for c, s in parts if c == commune)


def carry_communes(figures: Mapping[str, float], shares: Shares | None = None) -> dict[str, float]:
    """Figures of today's communes split over the old districts by the share of each
    commune's area in them (totals kept)."""
    return carry_districts(figures, commune_shares() if shares is None else shares)


def carry_districts(figures: Mapping[str, float], shares: Shares | None = None) -> dict[str, float]:
    """Figures of old districts split over today's communes by area share (totals
    kept: each district's shares sum to 1)."""
    shares = district_shares() if shares is None else shares
    out: dict[str, float] = {}
    for old, value in figures.items():
        parts = shares.get(old)
        if not parts:
            raise CrosswalkError(f"{old!r} has no counterpart in the crosswalk")
        for commune, share in parts:
            out[commune] = out.get(commune, 0.0) + value * share
    return out
