"""Districts as a person picks one: grouped by province, in alphabetical order.

The console's forward picker (``case.html``, ``#forward-form``) lists ~700 districts; it
shows them under their province (``<optgroup>``), provinces and districts sorted by
:func:`sort_key`: the name without its kind ("Tỉnh", "Thành phố", "Quận", "Huyện",
"Thị xã") and without diacritics, ``đ`` read as ``d``. So "Thành phố Hà Nội" sorts
under H, between "Hà Nam" and "Hà Tĩnh", and "Đà Nẵng" among the D's. That is close to
Vietnamese collation (which puts "Đ" after "D" and weighs tones last), and is what a
reader scanning for a name expects.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ...district_index import DistrictInfo
from .index import current_index

# The kinds of unit a name starts with; the longest first ("Thành phố" before "Thị").
KINDS = (
    "thanh pho ",
    "thi tran ",
    "thi xa ",
    "huyen ",
    "quan ",
    "tinh ",
    "dac khu ",
    "phuong ",
    "xa ",
)


@dataclass(frozen=True)
class ProvinceChoice:
    """A province of the picker with its districts, both in :func:`sort_key` order."""

    code: str
    name: str
    districts: tuple[DistrictInfo, ...]


def fold(text: str) -> str:
    """Lower case, diacritics off, ``đ`` as ``d``: "Quận Ba Đình" -> "quan ba dinh"."""
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("đ", "d").replace("Đ", "d").lower().split())


def sort_key(name: str) -> tuple[str, str, str]:
    """The order of a province or district name: its folded proper name, then the
    folded full name, then the name itself (so the order is total and stable)."""
    folded = fold(name)
    proper = folded
    for kind in KINDS:
        if folded.startswith(kind) and len(folded) > len(kind):
            proper = folded[len(kind) :]
            break
    return (proper, folded, name)


def group_by_province(
    districts: Iterable[DistrictInfo], exclude_code: str | None = None
) -> list[ProvinceChoice]:
    """``districts`` grouped by province, without ``exclude_code``; provinces by name,
    districts by name within each (both by :func:`sort_key`). A province left with no
    district is left out."""
    groups: dict[str, list[DistrictInfo]] = {}
    names: dict[str, str] = {}
    for d in districts:
        if d.code == exclude_code:
            continue
        groups.setdefault(d.province_code, []).append(d)
        names.setdefault(d.province_code, d.province_name)
    return [
        ProvinceChoice(
            code=code,
            name=names[code],
            districts=tuple(sorted(groups[code], key=lambda d: sort_key(d.name))),
        )
        for code in sorted(groups, key=lambda c: (sort_key(names[c]), c))
    ]


def forward_choices(exclude_code: str | None = None) -> list[ProvinceChoice]:
    """Where a case may be forwarded: every district of the current boundary set but
    ``exclude_code`` (the case's own), grouped by province (:func:`group_by_province`)."""
    return group_by_province(current_index().districts(), exclude_code)


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in fold(text)).split() if w]


def _phrase(ws: list[str], toks: list[str], start: int, end: int) -> bool:
    """``toks[start:end]`` as consecutive words of ``ws``; only the query's last word
    may be a prefix (as the console's picker, ``console.js``)."""
    n = end - start
    if n == 0:
        return True
    for i in range(len(ws) - n + 1):
        if all(
            ws[i + j - start].startswith(toks[j])
            if j == len(toks) - 1
            else ws[i + j - start] == toks[j]
            for j in range(start, end)
        ):
            return True
    return False


def matches(query: str, area: DistrictInfo) -> bool:
    """Whether the picker keeps ``area`` for ``query``: the words in order within the
    area's name or one of its old names, and/or its province's name (either first),
    without diacritics."""
    toks = _words(query)
    if not toks:
        return True
    prov = _words(area.province_name)
    for name in (area.name, *area.aliases):
        ws = _words(name)
        for k in range(len(toks) + 1):
            if _phrase(ws, toks, 0, k) and _phrase(prov, toks, k, len(toks)):
                return True
            if _phrase(prov, toks, 0, k) and _phrase(ws, toks, k, len(toks)):
                return True
    return False


def search(query: str, areas: Iterable[DistrictInfo] | None = None) -> list[DistrictInfo]:
    """The areas the forward picker shows for ``query`` (default: the current set's),
    by province and name."""
    pool = current_index().districts() if areas is None else areas
    return [d for p in group_by_province(a for a in pool if matches(query, a)) for d in p.districts]
