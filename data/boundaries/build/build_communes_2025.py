"""Build today's (1 July 2025) commune layer, the provinces dissolved from it, and the
old-district <-> new-commune crosswalk.

Inputs (none is read at run time by the product)
------------------------------------------------
1. Commune geometry: the GeoJSON export of thanglequoc/vietnamese-provinces-database
   (MIT licence for the repository; geometry derived from the "Bản đồ tham khảo đơn vị hành
   chính Việt Nam", sapnhap.bando.com.vn, Vietnam Natural Resources, Environment and
   Cartography Publishing House), folder ``json/geojson/<province>/wards/<code>_<name>.geojson``
   at commit cd58063299585146ded3981f2272946ef19ced54 (2026-08-02; export dated 2026-07-25).
   Pass the checkout as ``--src``.
2. Codes and names: ``vietnam-provinces`` (PyPI, version pinned in requirements.txt). Every
   output feature carries its code and name. Source features are matched to it by province and
   name (not by code: the two code lists differ for about 120 units, see PROVENANCE.md); the
   source's own code is kept as ``source_code``.
3. Aliases (old names): ``mapping/merges.json`` of dvhcvn/20250701 (MIT; new commune -> old
   communes, built from the 2025 resolutions 1654-1687/NQ-UBTVQH15), commit
   dd94887ce32324380bc5bb0a76fe39867dafc73b. Pass the file as ``--merges``. Old district names
   come from the shipped ``vn_adm2_districts_pre2025.geojson.gz`` via the crosswalk.
4. ``data/boundaries/vn_adm2_districts_pre2025.geojson.gz`` (shipped) for the crosswalk.

Steps
-----
match -> measure raw overlaps/gaps -> clip overlaps (the commune with the lower code keeps the
overlap) -> fill interior gaps (a hole in the union of all communes goes to the neighbour with
which it shares the longest border) -> GEOS coverage simplification (shared borders simplified
once, so no new slivers) -> snap to a grid -> clip again -> write. Provinces are the union of
their communes. Areas use a spherical Lambert cylindrical equal-area projection
(``common.equal_area``).

Outputs (data/boundaries/)
--------------------------
- ``vn_communes_2025.geojson.gz``: routing layer, coverage tolerance 2e-4° (~20 m),
  coordinates rounded to 1e-5°.
- ``communes_2025/<province_code>.geojson.gz``: phone layer per province, tolerance 7e-4°
  (~75 m), coordinates rounded to 1e-4°.
- ``vn_provinces_2025.geojson.gz``: the 34 provinces dissolved from the routing communes.
- ``crosswalk_districts_2025.json``: old district -> communes and commune -> old districts,
  with area shares.
- ``build/report_2025.json``: the measured figures quoted in PROVENANCE.md.

Rerun (about 6 minutes on one core)
-----------------------------------
    git clone https://github.com/thanglequoc/vietnamese-provinces-database /tmp/vpd
    git clone https://github.com/dvhcvn/20250701 /tmp/dvhcvn2025
    .venv/bin/python data/boundaries/build/build_communes_2025.py \\
        --src /tmp/vpd --merges /tmp/dvhcvn2025/mapping/merges.json
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_provinces_2025 import new_province_names  # noqa: E402
from common import (  # noqa: E402
    BOUNDARIES,
    MERGERS,
    OLD_DISTRICTS,
    OLD_PROVINCES,
    as_multipolygon,
    equal_area,
    geometry_json,
    km2,
    read_geojson,
    write_geojson_gz,
)

ROUTING_TOL = 2e-4
ROUTING_GRID = 1e-5
PHONE_TOL = 7e-4
PHONE_GRID = 1e-4
PROVINCE_TOL = 3e-4
SLIVER = 0.005  # crosswalk shares below 0.5 % are dropped, the rest renormalised
DISTRICT_ALIAS_SHARE = 0.2  # an old district is an alias when >= 20 % of the commune lies in it
# Island special zones that replaced a whole old district and have no land neighbour: their
# outline is the union of the source polygons and the old district's polygons (pre-2025 file,
# gis.chinhphu.vn), because the source misplaces some islands (Phú Lâm, Hoàng Sa, lies ~2.7 km
# from the source's nearest polygon but inside the old district polygon).
ISLAND_ZONES = {"20333": "498", "22736": "576", "11948": "318", "19742": "471",
                "21548": "536", "26732": "755", "23272": "602", "31108": "912"}

OUT_COMMUNES = BOUNDARIES / "vn_communes_2025.geojson.gz"
OUT_PHONE_DIR = BOUNDARIES / "communes_2025"
OUT_PROVINCES = BOUNDARIES / "vn_provinces_2025.geojson.gz"
OUT_CROSSWALK = BOUNDARIES / "crosswalk_districts_2025.json"
OUT_REPORT = Path(__file__).resolve().parent / "report_2025.json"

TONES = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe",
         "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy",
         "uỵ": "ụy"}
TYPE_PREFIX = re.compile(r"^(xã|phường|đặc khu|thị trấn) ")


def norm(name: str, drop_type: bool = False) -> str:
    """Comparable form of a unit name: NFC, lower case, one tone-mark placement, ASCII
    apostrophe and hyphen, single spaces; optionally without the type word."""
    s = unicodedata.normalize("NFC", name).strip().lower()
    s = re.sub(r"\s+", " ", s)
    for old, new in TONES.items():
        s = s.replace(old, new)
    s = s.replace("’", "'").replace("ʼ", "'").replace("‘", "'")
    s = re.sub(r"\s*[-–—]\s*", "-", s)
    return TYPE_PREFIX.sub("", s) if drop_type else s


T0 = time.time()


def log(msg: str) -> None:
    print(f"[{time.time() - T0:6.0f}s] {msg}", flush=True)


# --------------------------------------------------------------------------- inputs


def load_vp() -> tuple[dict[str, Any], dict[str, str]]:
    from vietnam_provinces import Ward

    wards = {f"{w.code.value:05d}": w for w in Ward.iter_all()}
    return wards, new_province_names()


def load_source(src: Path) -> list[tuple[str, str, dict[str, Any], BaseGeometry]]:
    rows = []
    for path in sorted(glob.glob(str(src / "json/geojson/*/wards/*.geojson"))):
        with open(path, encoding="utf-8") as fh:
            feat = json.load(fh)["features"][0]
        province = Path(path).parts[-3].split("_")[0]
        rows.append((str(feat["id"]), province, feat["properties"], shape(feat["geometry"])))
    return rows


def match(vp: dict[str, Any], rows: list) -> tuple[dict[str, int], dict[str, Any]]:
    """vietnam-provinces code -> index into rows, by (province, name)."""
    by_name: dict[tuple[str, str], int] = {}
    by_bare: dict[tuple[str, str], list[int]] = {}
    for i, (_code, prov, props, _g) in enumerate(rows):
        by_name[(prov, norm(props["fullName"]))] = i
        by_bare.setdefault((prov, norm(props["fullName"], True)), []).append(i)
    out: dict[str, int] = {}
    notes: dict[str, Any] = {"matched_by_bare_name": [], "unmatched": [], "code_differs": []}
    for code, w in sorted(vp.items()):
        prov = f"{w.province_code.value:02d}"
        i = by_name.get((prov, norm(w.name)))
        if i is None:
            cands = by_bare.get((prov, norm(w.name, True)), [])
            if len(cands) == 1:
                i = cands[0]
                notes["matched_by_bare_name"].append(
                    {"code": code, "name": w.name, "source_name": rows[i][2]["fullName"]})
        if i is None:
            notes["unmatched"].append({"code": code, "name": w.name})
            continue
        out[code] = i
        if rows[i][0] != code:
            notes["code_differs"].append(
                {"code": code, "name": w.name, "source_code": rows[i][0],
                 "source_name": rows[i][2]["fullName"]})
    used = sorted(out.values())
    assert len(used) == len(set(used)), "one source feature matched twice"
    return out, notes


# --------------------------------------------------------------------------- geometry


def overlap_stats(codes: list[str], geoms: np.ndarray, top: int = 10) -> dict[str, Any]:
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inter = shapely.intersection(geoms[a], geoms[b])
    areas = np.array([km2(g) if not g.is_empty else 0.0 for g in inter])
    pos = areas > 1e-9  # 0.001 m²: below that it is floating-point noise on a shared edge
    order = np.argsort(-areas)[:top]
    return {
        "pairs_with_area": int(pos.sum()),
        "pairs_over_100_m2": int((areas > 1e-4).sum()),
        "pairs_over_0_01_km2": int((areas > 0.01).sum()),
        "total_km2": round(float(areas.sum()), 4),
        "biggest": [{"a": codes[a[i]], "b": codes[b[i]], "km2": round(float(areas[i]), 4)}
                    for i in order if areas[i] > 1e-9],
    }


def holes_of(union: BaseGeometry, geoms: np.ndarray, tree: shapely.STRtree) -> list[Polygon]:
    """Interior gaps: holes of the union of all communes, minus communes lying inside them."""
    gaps: list[Polygon] = []
    for part in shapely.get_parts(union):
        for ring in part.interiors:
            hole = Polygon(ring)
            inside = tree.query(hole, predicate="intersects")
            if len(inside):
                hole = hole.difference(shapely.union_all(geoms[inside]))
            gaps.extend(p for p in as_multipolygon(hole).geoms if p.area > 0)
    return gaps


def gap_stats(gaps: list[BaseGeometry], top: int = 10) -> dict[str, Any]:
    areas = sorted((km2(g) for g in gaps), reverse=True)
    return {"count": len(gaps), "total_km2": round(sum(areas), 4),
            "biggest_km2": [round(a, 4) for a in areas[:top]]}


def clip_overlaps(codes: list[str], geoms: np.ndarray, grid: float = 0.0) -> np.ndarray:
    """Remove from each commune what communes with a lower code already hold.

    With ``grid`` the overlay runs in that fixed precision, so the result stays on the grid
    and rounding the written coordinates to it cannot reopen an overlap."""
    out = geoms.copy()
    tree = shapely.STRtree(geoms)
    for i in np.argsort(codes):
        lower = [j for j in tree.query(geoms[i], predicate="intersects") if codes[j] < codes[i]]
        if lower:
            out[i] = as_multipolygon(shapely.difference(
                out[i], shapely.union_all(out[lower], grid_size=grid or None),
                grid_size=grid or None))
    return out


def fill_gaps(geoms: np.ndarray, gaps: list[Polygon]) -> tuple[np.ndarray, list[dict]]:
    """Give each interior gap to the neighbour sharing the longest border with it."""
    out = geoms.copy()
    tree = shapely.STRtree(geoms)
    extra: dict[int, list[BaseGeometry]] = {}
    assigned = []
    for gap in gaps:
        near = tree.query(gap.buffer(1e-6), predicate="intersects")
        if not len(near):
            continue
        border = gap.boundary
        lengths = [border.intersection(geoms[j].buffer(1e-6)).length for j in near]
        j = int(near[int(np.argmax(lengths))])
        extra.setdefault(j, []).append(gap)
        assigned.append({"index": j, "km2": km2(gap)})
    for j, parts in extra.items():
        out[j] = as_multipolygon(shapely.union_all([out[j], *parts]).buffer(0))
    return out, assigned


def simplify_coverage(geoms: np.ndarray, tol: float, grid: float) -> np.ndarray:
    simp = shapely.coverage_simplify(geoms, tol)
    snapped = shapely.set_precision(simp, grid)
    return np.array([as_multipolygon(g) for g in snapped], dtype=object)


# --------------------------------------------------------------------------- crosswalk


def crosswalk(codes: list[str], geoms: np.ndarray,
              province_of: dict[str, str]) -> dict[str, Any]:
    dist = read_geojson(OLD_DISTRICTS)["features"]
    d_codes = [f["properties"]["adm2_code"] for f in dist]
    d_geoms = np.array([equal_area(shape(f["geometry"])) for f in dist], dtype=object)
    c_geoms = np.array([equal_area(g) for g in geoms], dtype=object)
    c_area = shapely.area(c_geoms)
    d_area = shapely.area(d_geoms)
    tree = shapely.STRtree(c_geoms)
    di, ci = tree.query(d_geoms, predicate="intersects")
    inter = shapely.area(shapely.intersection(d_geoms[di], c_geoms[ci]))

    raw_d: dict[str, list[tuple[str, float]]] = {c: [] for c in d_codes}
    raw_c: dict[str, list[tuple[str, float]]] = {c: [] for c in codes}
    for d, c, a in zip(di, ci, inter, strict=True):
        if a <= 0:
            continue
        raw_d[d_codes[d]].append((codes[c], a / d_area[d]))
        raw_c[codes[c]].append((d_codes[d], a / c_area[c]))

    def normalise(pairs: list[tuple[str, float]]) -> list[tuple[str, float]]:
        # Slivers under 0.5 % go, but a unit never loses its largest overlap (Trường Sa:
        # the old district's islands are 0.3 % of today's sea-wide special zone).
        kept = [(k, s) for k, s in pairs if s >= SLIVER] or sorted(pairs, key=lambda x: -x[1])[:1]
        tot = sum(s for _, s in kept)
        return sorted(((k, s / tot) for k, s in kept), key=lambda x: (-x[1], x[0]))

    d2c = {d: [{"commune_code": k, "share": round(s, 4)} for k, s in normalise(p)]
           for d, p in sorted(raw_d.items())}
    c2d = {c: [{"district_code": k, "share": round(s, 4)} for k, s in normalise(p)]
           for c, p in sorted(raw_c.items())}
    covered = {d: sum(s for _, s in p) for d, p in raw_d.items()}
    covered_c = {c: sum(s for _, s in p) for c, p in raw_c.items()}
    names = {f["properties"]["adm2_code"]: f["properties"]["adm2_name"] for f in dist}
    stats = {
        "districts": len(d2c),
        "districts_without_overlap": sorted(d for d, v in d2c.items() if not v),
        "district_share_sum_min": min(sum(x["share"] for x in v) for v in d2c.values() if v),
        "district_share_sum_max": max(sum(x["share"] for x in v) for v in d2c.values() if v),
        "district_raw_coverage_min": round(min(covered.values()), 4),
        "district_raw_coverage_median": round(float(np.median(list(covered.values()))), 4),
        "districts_raw_coverage_below_0_95": sorted(
            (d, names[d], round(v, 3)) for d, v in covered.items() if v < 0.95),
        "communes": len(c2d),
        "communes_without_district": len([c for c, v in c2d.items() if not v]),
        "communes_without_district_by_province": dict(sorted(Counter(
            province_of[c] for c, v in c2d.items() if not v).items())),
        "communes_raw_coverage_below_0_95": len([c for c, v in covered_c.items() if v < 0.95]),
    }
    return {"d2c": d2c, "c2d": c2d, "raw_c": raw_c, "stats": stats, "names": names}


# --------------------------------------------------------------------------- aliases


def alias_map(vp: dict[str, Any], merges_path: Path | None, raw_c: dict[str, list],
              district_names: dict[str, str]) -> dict[str, list[str]]:
    aliases: dict[str, list[str]] = {c: [] for c in vp}
    for code, pairs in raw_c.items():
        for d, share in sorted(pairs, key=lambda x: -x[1]):
            if share >= DISTRICT_ALIAS_SHARE:
                aliases[code].append(district_names[d])
    if merges_path is not None:
        data = json.loads(merges_path.read_text(encoding="utf-8"))["data"]
        index = {(f"{w.province_code.value:02d}", norm(w.name)): c for c, w in vp.items()}
        for prov in data:
            for unit in prov["level2s"]:
                code = index.get((prov["level1_id"], norm(unit["name"])))
                if code is None:
                    continue
                for old in unit["merges"]:
                    aliases[code].append(old["name"])
    out = {}
    for code, names in aliases.items():
        seen: set[str] = {norm(vp[code].name)}
        uniq = []
        for n in names:
            if norm(n) not in seen:
                seen.add(norm(n))
                uniq.append(n)
        out[code] = uniq
    return out


# --------------------------------------------------------------------------- main


def feature(props: dict[str, Any], geom: MultiPolygon, ndigits: int) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry_json(geom, ndigits)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="checkout holding json/geojson/ (required)")
    ap.add_argument("--merges", type=Path, help="dvhcvn/20250701 mapping/merges.json")
    ap.add_argument("--crosswalk-only", action="store_true",
                    help="recompute crosswalk_districts_2025.json from the shipped communes")
    args = ap.parse_args()
    if args.crosswalk_only:
        rewrite_crosswalk()
        return
    if args.src is None:
        ap.error("--src is required")
    report: dict[str, Any] = {}

    vp, prov_names = load_vp()
    rows = load_source(args.src)
    log(f"source: {len(rows)} communes; vietnam-provinces: {len(vp)}")
    idx, notes = match(vp, rows)
    report["match"] = {"source_features": len(rows), "vietnam_provinces": len(vp),
                       "matched": len(idx), **notes}
    log(f"matched {len(idx)}; unmatched {len(notes['unmatched'])}; "
        f"code differs {len(notes['code_differs'])}")

    codes = sorted(idx)
    raw = np.array([as_multipolygon(rows[idx[c]][3]) for c in codes], dtype=object)
    old_d = {f["properties"]["adm2_code"]: shape(f["geometry"])
             for f in read_geojson(OLD_DISTRICTS)["features"]}
    report["island_zones_km2_added"] = {}
    for i, c in enumerate(codes):
        if c in ISLAND_ZONES:
            merged = as_multipolygon(shapely.union_all([raw[i], old_d[ISLAND_ZONES[c]]],
                                                       grid_size=1e-6))
            report["island_zones_km2_added"][c] = round(km2(merged) - km2(raw[i]), 2)
            raw[i] = merged
    report["raw_vertices"] = int(shapely.get_num_coordinates(raw).sum())
    report["raw_overlaps"] = overlap_stats(codes, raw)
    log(f"raw overlaps {report['raw_overlaps']['pairs_with_area']} pairs, "
        f"{report['raw_overlaps']['total_km2']} km²")

    clipped = clip_overlaps(codes, raw)
    tree = shapely.STRtree(clipped)
    union = shapely.union_all(clipped)
    gaps = holes_of(union, clipped, tree)
    report["raw_interior_gaps"] = gap_stats(gaps)
    log(f"interior gaps {report['raw_interior_gaps']['count']}, "
        f"{report['raw_interior_gaps']['total_km2']} km²")

    old_union = shapely.union_all([shape(f["geometry"]) for f in
                                   read_geojson(OLD_PROVINCES)["features"]])
    outside = as_multipolygon(old_union.difference(union))
    report["old_province_outline_not_covered"] = gap_stats(list(outside.geoms))
    report["communes_outside_old_province_outline"] = gap_stats(
        list(as_multipolygon(union.difference(old_union)).geoms))
    log("outline comparison done")

    filled, assigned = fill_gaps(clipped, gaps)
    report["gaps_filled"] = len(assigned)

    routing = simplify_coverage(filled, ROUTING_TOL, ROUTING_GRID)
    routing = clip_overlaps(codes, routing, ROUTING_GRID)
    empty = [c for c, g in zip(codes, routing, strict=True) if g.is_empty]
    assert not empty, f"communes lost in simplification: {empty}"
    assert all(g.is_valid for g in routing)
    report["routing_vertices"] = int(shapely.get_num_coordinates(routing).sum())
    report["routing_overlaps"] = overlap_stats(codes, routing)
    r_union = shapely.union_all(routing)
    report["routing_interior_gaps"] = gap_stats(
        holes_of(r_union, routing, shapely.STRtree(routing)))
    log(f"routing layer: {report['routing_vertices']} vertices, gaps "
        f"{report['routing_interior_gaps']}")

    phone = simplify_coverage(filled, PHONE_TOL, PHONE_GRID)
    phone = clip_overlaps(codes, phone, PHONE_GRID)
    lost = [c for c, g in zip(codes, phone, strict=True) if g.is_empty]
    report["phone_lost_communes"] = lost

    cw = crosswalk(codes, routing,
                   {c: f"{vp[c].province_code.value:02d}" for c in codes})
    report["crosswalk"] = cw["stats"]
    log(f"crosswalk: {cw['stats']['districts_without_overlap']}")
    aliases = alias_map(vp, args.merges, cw["raw_c"], cw["names"])

    feats, by_prov = [], {}
    for c, g, pg in zip(codes, routing, phone, strict=True):
        w = vp[c]
        pc = f"{w.province_code.value:02d}"
        props = {"code": c, "name": w.name, "type": w.division_type.value,
                 "province_code": pc, "province_name": prov_names[pc],
                 "aliases": aliases[c], "source_code": rows[idx[c]][0]}
        feats.append(feature(props, g, 5))
        if not pg.is_empty:
            by_prov.setdefault(pc, []).append(feature(props, pg, 4))
    report["sizes"] = {OUT_COMMUNES.name: write_geojson_gz(OUT_COMMUNES, feats)}
    for old in OUT_PHONE_DIR.glob("*.geojson.gz"):
        old.unlink()
    for pc, fs in sorted(by_prov.items()):
        report["sizes"][f"communes_2025/{pc}.geojson.gz"] = write_geojson_gz(
            OUT_PHONE_DIR / f"{pc}.geojson.gz", fs)

    # Provinces: the union of their routing communes, coverage-simplified once more.
    pcodes = sorted(MERGERS)
    dissolved = np.array([
        as_multipolygon(shapely.union_all([g for c, g in zip(codes, routing, strict=True)
                                           if f"{vp[c].province_code.value:02d}" == pc]))
        for pc in pcodes], dtype=object)
    provinces = simplify_coverage(dissolved, PROVINCE_TOL, ROUTING_GRID)
    pfeats = [feature({"code": pc, "name": prov_names[pc], "old_codes": sorted(MERGERS[pc])},
                      g, 5) for pc, g in zip(pcodes, provinces, strict=True)]
    report["sizes"][OUT_PROVINCES.name] = write_geojson_gz(OUT_PROVINCES, pfeats)
    report["province_km2"] = {pc: round(km2(g)) for pc, g in zip(pcodes, provinces, strict=True)}

    write_crosswalk(cw)
    OUT_REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    log(f"sizes: {report['sizes'][OUT_COMMUNES.name] / 1e6:.2f} MB routing; done")


def rewrite_crosswalk() -> None:
    feats = read_geojson(OUT_COMMUNES)["features"]
    codes = [f["properties"]["code"] for f in feats]
    geoms = np.array([shape(f["geometry"]) for f in feats], dtype=object)
    cw = crosswalk(codes, geoms, {f["properties"]["code"]: f["properties"]["province_code"]
                                  for f in feats})
    write_crosswalk(cw)
    report = json.loads(OUT_REPORT.read_text(encoding="utf-8"))
    report["crosswalk"] = cw["stats"]
    OUT_REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    log(f"crosswalk rewritten: {cw['stats']['communes_without_district']} communes without")


def write_crosswalk(cw: dict[str, Any]) -> None:
    OUT_CROSSWALK.write_text(json.dumps({
        "meta": {
            "description": "Old (pre-1 July 2025) districts <-> today's communes, by area.",
            "share": "fraction of the old district's (resp. the commune's) area in the other "
                     "unit; shares under 0.5 % dropped (a unit keeps at least its largest "
                     "overlap), the rest renormalised to sum to 1",
            "area": "spherical Lambert cylindrical equal-area projection",
            "districts_source": "vn_adm2_districts_pre2025.geojson.gz (692 districts)",
            "communes_source": "vn_communes_2025.geojson.gz",
        },
        "district_to_communes": cw["d2c"],
        "commune_to_districts": cw["c2d"],
    }, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
