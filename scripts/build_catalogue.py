"""Build data/violations.json from the research file (../shared/data/violations.json).

Run once by a developer when the research changes; the product reads only the
generated data/violations.json. It maps the free-text vehicle descriptions to the
vehicle classes a report uses, and keeps the original text beside them.

    python scripts/build_catalogue.py ../shared/data/violations.json data/violations.json
"""

from __future__ import annotations

import json
import sys

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
