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
KINDS = ("thanh pho ", "thi tran ", "thi xa ", "huyen ", "quan ", "tinh ")


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
