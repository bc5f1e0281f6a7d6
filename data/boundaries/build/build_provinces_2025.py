"""Build the 34 post-1 July 2025 provinces and the old->new province crosswalk.

Inputs
------
- ``data/boundaries/vn_adm1_provinces_pre2025.geojson.gz`` (shipped; 62 of the 63 old
  provinces, see PROVENANCE.md): each new province is the union of the whole old provinces
  merged into it (Resolution 202/2025/QH15; table ``MERGERS`` in ``common.py``).
- Quảng Ninh (old 22, unchanged by the reform) has no pre-2025 geometry; its outline is taken
  from the post-2025 GIS export of thanglequoc/vietnamese-provinces-database (MIT), file
  ``json/geojson/22_quang_ninh/22_quang_ninh.geojson`` (commit cd58063299585146ded3981f2,
  2026-08-02; geometry derived from sapnhap.bando.com.vn). Pass the folder holding ``json/geojson``
  of a checkout of that repository as ``--src``.
- ``vietnam-provinces`` (PyPI, pinned in requirements.txt) for today's codes and names.

Outputs
-------
- ``data/boundaries/vn_provinces_2025.geojson.gz``: properties ``code``, ``name``, ``old_codes``.
- ``data/boundaries/crosswalk_provinces_2025.json``:
  ``{old_code: {"new_code", "old_name", "new_name"}}`` for the 63 old provinces.

Rerun
-----
    git clone https://github.com/thanglequoc/vietnamese-provinces-database /tmp/vpd
    .venv/bin/python data/boundaries/build/build_provinces_2025.py --src /tmp/vpd

``build_communes_2025.py`` (run after this script) rewrites the province file as the union of
each province's communes, so provinces and communes agree (see PROVENANCE.md); this script's
union-of-old-provinces outline was the first version. The crosswalk it writes is final.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shapely.ops import unary_union

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BOUNDARIES,
    MERGERS,
    OLD_NAMES_MISSING,
    OLD_PROVINCES,
    OLD_TO_NEW,
    clean,
    geometry_json,
    km2,
    read_geojson,
    write_geojson_gz,
)

OUT = BOUNDARIES / "vn_provinces_2025.geojson.gz"
CROSSWALK = BOUNDARIES / "crosswalk_provinces_2025.json"
GRID = 1e-5  # snap grid (degrees, ~1 m)
SIMPLIFY = 2e-4  # Douglas-Peucker tolerance (degrees, ~20 m)


def new_province_names() -> dict[str, str]:
    """Full names of today's provinces: 'Thành phố …' as given, 'Tỉnh …' added for provinces."""
    from vietnam_provinces import Province, VietNamDivisionType

    names: dict[str, str] = {}
    for p in Province.iter_all():
        code = f"{p.code.value:02d}"
        name = p.name
        if p.division_type == VietNamDivisionType.TINH and not name.startswith("Tỉnh "):
            name = f"Tỉnh {name}"
        names[code] = name
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True, help="checkout holding json/geojson/")
    args = ap.parse_args()

    names = new_province_names()
    assert sorted(names) == sorted(MERGERS), "merger table and vietnam-provinces disagree"
    assert len(OLD_TO_NEW) == 63

    old = read_geojson(OLD_PROVINCES)["features"]
    old_geom = {f["properties"]["adm1_code"]: f for f in old}
    qn = read_geojson(args.src / "json/geojson/22_quang_ninh/22_quang_ninh.geojson")
    from shapely.geometry import shape

    quang_ninh = shape(qn["features"][0]["geometry"])

    features = []
    crosswalk: dict[str, dict[str, str]] = {}
    for new_code in sorted(MERGERS):
        parts = []
        for oc in MERGERS[new_code]:
            if oc in old_geom:
                parts.append(shape(old_geom[oc]["geometry"]))
                old_name = old_geom[oc]["properties"]["adm1_name"]
            else:
                parts.append(quang_ninh)
                old_name = OLD_NAMES_MISSING[oc]
            crosswalk[oc] = {"new_code": new_code, "old_name": old_name,
                             "new_name": names[new_code]}
        geom = clean(unary_union(parts).buffer(0), GRID, SIMPLIFY)
        features.append({
            "type": "Feature",
            "properties": {"code": new_code, "name": names[new_code],
                           "old_codes": sorted(MERGERS[new_code])},
            "geometry": geometry_json(geom, 5),
        })
        print(f"{new_code} {names[new_code]:<28} {km2(geom):>9.0f} km²  <- {MERGERS[new_code]}")

    size = write_geojson_gz(OUT, features)
    CROSSWALK.write_text(
        json.dumps(dict(sorted(crosswalk.items())), ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    print(f"{OUT.name}: {len(features)} provinces, {size / 1e6:.2f} MB gz; "
          f"{CROSSWALK.name}: {len(crosswalk)} old provinces")


if __name__ == "__main__":
    main()
