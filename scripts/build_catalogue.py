"""Build data/violations.json from the research file (../shared/data/violations.json).

Run once by a developer when the research changes; the product reads only the
generated data/violations.json. It maps the free-text vehicle descriptions to the
vehicle classes a report uses, and keeps the original text beside them. It also parses
the Decree 168 references ("Art. 6(3)(e) 800.000–1.000.000; ...") into structured
``fines`` (article, clause, point, who is fined, the range in đồng), which the PWA shows
in plain words: "Ô tô: phạt 800.000–1.000.000 đồng (Điều 6, khoản 3, điểm e, ...)".

    python scripts/build_catalogue.py ../shared/data/violations.json data/violations.json
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

DECREE = "168/2024/NĐ-CP"

# Free-text vehicle description -> vehicle classes of sync.schemas.VEHICLE_CLASSES.
VEHICLE_MAP: dict[str, list[str]] = {
    "car": ["car"],
    "motorbike": ["motorbike"],
    "motorbike/moped": ["motorbike"],
    "bicycle": ["bicycle"],
    "bicycle/e-bike": ["bicycle"],
    "e-bike": ["bicycle"],
    "e-bike (xe đạp máy)": ["bicycle"],
    "bus/coach/passenger car": ["bus"],
    "truck": ["truck"],
    "truck (any heavy vehicle)": ["truck"],
    "truck/tractor": ["truck"],
    "truck/car (Art. 17)": ["truck", "car"],
    "motorbike & non-motorised (Art. 36)": ["motorbike", "bicycle"],
    "passenger": [],
    "spectators": [],
    "any person": ["other"],
    "person/organisation (non-driver)": ["other"],
}


# Who a clause of Decree 168 fines, by article (Điều): the article's own subject.
WHO_BY_ARTICLE: dict[int, str] = {
    6: "car",  # traffic rules, ô tô
    7: "motorbike",  # traffic rules, mô tô, xe gắn máy
    9: "bicycle",  # traffic rules, xe đạp, xe đạp máy, xe thô sơ
    13: "car",  # vehicle condition, ô tô
    14: "motorbike",  # vehicle condition, mô tô, xe gắn máy
    17: "car_tractor",  # environment, ô tô, máy kéo
    20: "bus",  # ô tô chở hành khách
    21: "truck",  # ô tô tải, máy kéo
    34: "heavy_vehicle",  # quá khổ, quá tải
    36: "motorbike_nonmotor",  # mô tô, xe gắn máy, xe thô sơ carrying goods
}
# Articles whose clauses fine different people: (article, clause[, point]) -> who.
WHO_BY_CLAUSE: dict[tuple[Any, ...], str] = {
    (12, 2): "person",
    (12, 4): "car_passenger",
    (12, 5): "motorbike_passenger",
    (12, 6): "person",
    (12, 7): "person",
    (12, 9): "person",
    (12, 11): "person",
    (35, 1): "spectator",
    (35, 3, "a"): "racer_moped",
    (35, 3, "b"): "racer_motor",
}
REF = re.compile(
    r"Art\. (?P<article>\d+)\((?P<clause>\d+)\)(?:\((?P<point>[a-zđ])\))? (?P<rest>.+)"
)
AMOUNT = re.compile(
    r"(?P<min>[\d.]+)–(?P<max>[\d.]+)(?P<per> per excess person)?"
    r"(?: \(org (?P<org_min>[\d.]+)–(?P<org_max>[\d.]+)\))?"
)


def _vnd(text: str | None) -> int | None:
    return int(text.replace(".", "")) if text else None


def _who(article: int, clause: int, point: str | None) -> str:
    for key in ((article, clause, point), (article, clause)):
        if key in WHO_BY_CLAUSE:
            return WHO_BY_CLAUSE[key]
    if article not in WHO_BY_ARTICLE:
        raise ValueError(f"Art. {article}({clause}): who is fined is not known")
    return WHO_BY_ARTICLE[article]


def parse_fine(ref: str) -> dict[str, Any]:
    """One reference, "Art. 6(3)(e) 800.000–1.000.000", as a structured fine."""
    m = REF.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not a Decree 168 reference: {ref!r}")
    article, clause, point = int(m["article"]), int(m["clause"]), m["point"]
    fine: dict[str, Any] = {
        "decree": DECREE,
        "article": article,
        "clause": clause,
        "point": point,
        "who": _who(article, clause, point),
        "min_vnd": None,
        "max_vnd": None,
        "org_min_vnd": None,
        "org_max_vnd": None,
        "per_excess_person": False,
        "confiscation": False,
    }
    if m["rest"] == "vehicle confiscation":
        fine["confiscation"] = True
        return fine
    amount = AMOUNT.fullmatch(m["rest"])
    if not amount:
        raise ValueError(f"not a fine range: {ref!r}")
    fine.update(
        min_vnd=_vnd(amount["min"]),
        max_vnd=_vnd(amount["max"]),
        org_min_vnd=_vnd(amount["org_min"]),
        org_max_vnd=_vnd(amount["org_max"]),
        per_excess_person=bool(amount["per"]),
    )
    return fine


def build(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        classes: list[str] = []
        for text in item["vehicles"]:
            for cls in VEHICLE_MAP[text]:
                if cls not in classes:
                    classes.append(cls)
        out.append(
            {
                "code": item["code"],
                "name_vi": item["name_vi"],
                "name_en": item["name_en"],
                "vehicle_classes": classes,
                "vehicles_text": "; ".join(item["vehicles"]),
                "legal_reference": "Nghị định 168/2024/NĐ-CP: " + item["decree_168_refs"],
                "photographable": bool(item["photographable"]),
                "fines": [parse_fine(r) for r in item["decree_168_refs"].split(";")],
            }
        )
    return out


if __name__ == "__main__":
    src, dest = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as fh:
        data = build(json.load(fh))
    with open(dest, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"{len(data)} violations written to {dest}")
