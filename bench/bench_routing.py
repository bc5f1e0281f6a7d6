"""Benchmark: indexed district routing vs. a naive polygon loop, on one CPU core.

    python bench/bench_routing.py [--points 1000000] [--naive-points 20000] [--seed 42]

Points are uniform random (fixed seed) in the bounding box of all district polygons except
the Hoàng Sa (498) and Trường Sa (576) archipelagos: 102.144028-109.470109 E,
8.381387-23.392851 N (the "mainland-ish" box, islands near the coast included). About a
quarter of such points fall in a district; the rest are sea or neighbouring countries, so
the figure for points that land in a district is printed as well.

* indexed: ``DistrictIndex.route_many`` (all rules: inside/border/province/tolerance),
  also shown with its lookup grid disabled (STRtree + prepared polygons for every point).
* naive: for each point, ``polygon.contains(point)`` on every one of the 692 unprepared
  district polygons (inside/border only, no fallbacks), on a smaller sample; its time for
  the full point count is extrapolated and labelled as such.

Goal: >= 200,000 points/s indexed. PostGIS is compared only when a server with PostGIS is
reachable (``--postgis-dsn`` or ``ROADWATCH_BENCH_PG_DSN``); that comparison is not written
yet, and the output says so.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server.routing import (  # noqa: E402
    DATA_DIR,
    DISTRICTS_FILE,
    PROVINCES_FILE,
    RULES,
    DistrictIndex,
)

BBOX = (102.144028, 8.381387, 109.470109, 23.392851)  # lon_min, lat_min, lon_max, lat_max
GOAL_PTS_PER_S = 200_000


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity); single-threaded code"


def random_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lons = rng.uniform(BBOX[0], BBOX[2], n)
    lats = rng.uniform(BBOX[1], BBOX[3], n)
    return lats, lons


def time_indexed(index: DistrictIndex, lats: np.ndarray, lons: np.ndarray, repeat: int) -> list:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        index.route_many(lats, lons)
        times.append(time.perf_counter() - t0)
    return times


def naive_route(geoms: list, codes: list[str], lat: float, lon: float) -> str | None:
    pt = shapely.Point(lon, lat)
    hits = [code for geom, code in zip(geoms, codes, strict=True) if geom.contains(pt)]
    return min(hits) if hits else None


def postgis_status(dsn: str | None) -> str:
    if dsn:
        try:
            import psycopg

            with psycopg.connect(dsn, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'postgis'"
                ).fetchone()
        except Exception as e:  # any failure means "not available"
            return f"not available (connection failed: {type(e).__name__}: {e})"
        if row is None:
            return "not available (server reachable, but the postgis extension is not installed)"
        return f"available (postgis {row[0]}), but the PostGIS comparison is not implemented yet"
    controls = glob.glob("/usr/share/postgresql/*/extension/postgis.control")
    if controls:
        return "installed locally but no DSN given (--postgis-dsn); comparison not run"
    return "not available (no DSN given and no local postgis.control); comparison not run"


def fmt_rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} pts/s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000, help="indexed sample size")
    ap.add_argument("--naive-points", type=int, default=20_000, help="naive sample size")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="timed indexed runs (best is used)")
    ap.add_argument("--postgis-dsn", default=os.environ.get("ROADWATCH_BENCH_PG_DSN"))
    args = ap.parse_args(argv)

    pinned = pin_one_core()
    t0 = time.perf_counter()
    index = DistrictIndex.load_default()
    load_s = time.perf_counter() - t0
    lats, lons = random_points(args.points, args.seed)

    index.route_many(lats[:10_000], lons[:10_000])  # warm-up
    times = time_indexed(index, lats, lons, args.repeat)
    best = min(times)
    idx, rule, _ = index.route_indices(lats, lons)
    counts = np.bincount(rule, minlength=len(RULES))
    landed = idx >= 0
    land_times = time_indexed(index, lats[landed], lons[landed], args.repeat)

    # Same index without the lookup grid: STRtree + prepared polygons for every point.
    with gzip.open(DATA_DIR / DISTRICTS_FILE, "rt", encoding="utf-8") as fh:
        districts_fc = json.load(fh)
    with gzip.open(DATA_DIR / PROVINCES_FILE, "rt", encoding="utf-8") as fh:
        provinces_fc = json.load(fh)
    exact = DistrictIndex.from_geojson(districts_fc, provinces_fc, grid_cell_deg=None)
    exact_times = time_indexed(exact, lats, lons, 1)
    same_as_exact = exact.route_many(lats, lons) == index.route_many(lats, lons)

    # Naive loop on the first --naive-points points, over fresh (unprepared) polygons.
    features = districts_fc["features"]
    dgeoms = [shape(f["geometry"]) for f in features]
    codes = [f["properties"]["adm2_code"] for f in features]
    m = min(args.naive_points, args.points)
    t0 = time.perf_counter()
    naive = [naive_route(dgeoms, codes, la, lo) for la, lo in zip(lats[:m], lons[:m], strict=True)]
    naive_s = time.perf_counter() - t0
    indexed_first = index.route_many(lats[:m], lons[:m])
    covered = rule[:m] <= 2  # inside/border (or unrouted): the cases the naive loop answers
    agree = sum(
        1
        for a, b, c in zip(naive, indexed_first, covered, strict=True)
        if c and (a == b or (a is None and b is None))
    )
    naive_pts_s = m / naive_s

    print("RoadWatch district routing benchmark")
    print(f"  machine            : {os.cpu_count()} CPUs, {pinned}")
    print(f"  data               : {len(codes)} districts, index built in {load_s:.2f} s")
    print(
        f"  points             : uniform in lon {BBOX[0]}-{BBOX[2]} E, "
        f"lat {BBOX[1]}-{BBOX[3]} N, seed {args.seed}"
    )
    print(
        "  rules (indexed)    : "
        + ", ".join(f"{name} {c / args.points:.1%}" for name, c in zip(RULES, counts, strict=True))
    )
    print()
    print(f"  {'method':<44}{'points':>10}{'seconds':>10}{'throughput':>22}")
    print(
        f"  {'indexed route_many (best of ' + str(args.repeat) + ')':<44}"
        f"{args.points:>10,}{best:>10.3f}{fmt_rate(args.points, best):>22}"
    )
    print(
        f"  {'  median of runs':<44}{args.points:>10,}{statistics.median(times):>10.3f}"
        f"{fmt_rate(args.points, statistics.median(times)):>22}"
    )
    print(
        f"  {'  only points routed to a district (best)':<44}{int(landed.sum()):>10,}"
        f"{min(land_times):>10.3f}{fmt_rate(int(landed.sum()), min(land_times)):>22}"
    )
    print(
        f"  {'indexed, lookup grid disabled (1 run)':<44}{args.points:>10,}"
        f"{exact_times[0]:>10.3f}{fmt_rate(args.points, exact_times[0]):>22}"
    )
    print(
        f"  {'naive contains() loop, measured':<44}{m:>10,}{naive_s:>10.3f}"
        f"{fmt_rate(m, naive_s):>22}"
    )
    print(
        f"  {'naive contains() loop, EXTRAPOLATED':<44}{args.points:>10,}"
        f"{args.points / naive_pts_s:>10.1f}{fmt_rate(m, naive_s):>22}"
    )
    print()
    print(f"  speed-up indexed / naive : {args.points / best / naive_pts_s:,.0f}x")
    print(f"  grid vs no-grid answers  : {'identical' if same_as_exact else 'DIFFERENT'}")
    print(
        f"  naive vs indexed answers : {agree:,} of {int(covered.sum()):,} agree on points the "
        "naive loop can answer (inside/border/unrouted); it has no province/tolerance "
        "fallback"
    )
    ok = args.points / best >= GOAL_PTS_PER_S
    print(
        f"  goal >= {GOAL_PTS_PER_S:,} pts/s indexed : {'MET' if ok else 'NOT MET'} "
        f"({args.points / best:,.0f} pts/s)"
    )
    print(f"  PostGIS            : {postgis_status(args.postgis_dsn)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
