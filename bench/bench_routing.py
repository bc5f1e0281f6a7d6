"""Benchmark: indexed district routing vs. a naive polygon loop, on one CPU core.

    python bench/bench_routing.py [--set 2025|pre2025] [--points 1000000] [--naive-points 20000]

``--set 2025`` (default) routes over today's ~3,321 communes (34 provinces), ``--set
pre2025`` over the 692 pre-2025 districts; the sample and the method are the same.

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

* PostGIS: the same 692 district polygons (the index's own valid, merged geometries, as
  WKB) in a table with a GiST index; the same points sent in batches of ``--pg-batch`` as
  two ``float8[]`` arrays (``unnest``) and joined with ``ST_Contains(geom, point)`` (the
  GiST index finds the candidates), lowest code per point (the border rule), over one
  connection whose server process is pinned to the benchmark's CPU, parallel query and JIT
  off. Timed end to end as a client sees it (sending the arrays, the query, fetching the
  answers). A second run with ``ST_Intersects`` (interior *or* boundary, which is what
  shapely's ``intersects_xy`` tests) applies the documented border rule exactly. Answers
  are compared with the indexed ones for the rules PostGIS implements here (inside and
  border; the province and tolerance fallbacks have no counterpart in the query).

  The server is ``--postgis-dsn`` / ``ROADWATCH_BENCH_PG_DSN`` if given, else a throw-away
  cluster started with ``tests/pg.py`` when PostgreSQL is installed. When ``CREATE
  EXTENSION postgis`` fails (Debian: ``apt-get install postgresql-15-postgis-3``), the
  output says "PostGIS: not installed" and the rest of the benchmark is unaffected.

Goal: >= 1,000,000 points/s indexed over the 2025 communes (it was 200,000 over the districts).
"""

from __future__ import annotations

import argparse
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
from server.district_index import (  # noqa: E402
    COMMUNES_2025_FILE,
    DATA_DIR,
    DEFAULT_PROPS,
    DISTRICTS_FILE,
    PROPS_2025,
    PROVINCES_2025_FILE,
    PROVINCES_FILE,
    RULES,
    DistrictIndex,
)

BBOX = (102.144028, 8.381387, 109.470109, 23.392851)  # lon_min, lat_min, lon_max, lat_max
GOAL_PTS_PER_S = 1_000_000  # issue 23: over every commune, one core
VERTEX_POINTS = 20_000


def pin_one_core() -> tuple[str, int | None]:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}", cpu
    return "not pinned (no sched_setaffinity); single-threaded code", None


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


POSTGIS_QUERY = """
SELECT t.i, min(d.code)
FROM unnest(%(lon)s::float8[], %(lat)s::float8[]) WITH ORDINALITY AS t(lon, lat, i)
JOIN bench_districts d ON {predicate}(d.geom, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326))
GROUP BY t.i
"""


def _postgis_route(conn, predicate: str, lats: np.ndarray, lons: np.ndarray, batch: int) -> list:
    """District code (or None) per point, by ``predicate`` and the lowest-code rule."""
    out: list[str | None] = [None] * len(lats)
    sql = POSTGIS_QUERY.format(predicate=predicate)
    for lo in range(0, len(lats), batch):
        hi = min(lo + batch, len(lats))
        rows = conn.execute(sql, {"lon": lons[lo:hi].tolist(), "lat": lats[lo:hi].tolist()})
        for i, code in rows:
            out[lo + i - 1] = code
    return out


def postgis_compare(
    dsn: str | None,
    index: DistrictIndex,
    lats: np.ndarray,
    lons: np.ndarray,
    idx: np.ndarray,
    rule: np.ndarray,
    batch: int,
    cpu: int | None,
) -> list[str]:
    """Route the points with PostGIS; lines to print (``PostGIS: not installed`` if absent)."""
    try:
        import psycopg
    except ImportError:
        return ["PostGIS: not measured (psycopg is not installed)"]
    server = None
    if not dsn:
        try:
            from tests import pg

            server = pg.start()  # inherits this process's CPU affinity: one core
        except Exception as e:  # no PostgreSQL on this machine
            return [f"PostGIS: not measured (no --postgis-dsn and no local PostgreSQL: {e})"]
        dsn = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as e:
                first = str(e).strip().splitlines()[0]
                return [f"PostGIS: not installed (CREATE EXTENSION postgis failed: {first})"]
            version = conn.execute(
                "SELECT 'postgis ' || postgis_lib_version() || ', GEOS ' || postgis_geos_version()"
                " || ', ' || split_part(version(), ' on ', 1)"
            ).fetchone()[0]
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            pinned = "server process not pinned"
            if cpu is not None:
                try:
                    os.sched_setaffinity(pid, {cpu})
                    pinned = f"server process pinned to CPU {cpu} too"
                except OSError:  # a remote server, or not ours to pin
                    pass
            conn.execute("SET max_parallel_workers_per_gather = 0")
            conn.execute("SET jit = off")
            conn.execute(
                "CREATE TEMP TABLE bench_districts "
                "(code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)"
            )
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_districts VALUES (%s, ST_Multi(ST_GeomFromWKB(%s, 4326)))",
                    [(d.code, shapely.to_wkb(g)) for d, g in index.district_geometries()],
                )
            conn.execute("CREATE INDEX ON bench_districts USING gist (geom)")
            conn.execute("ANALYZE bench_districts")
            load_s = time.perf_counter() - t0
            n = len(lats)
            _postgis_route(conn, "ST_Contains", lats[:10_000], lons[:10_000], batch)  # warm-up
            runs = {}
            for predicate in ("ST_Contains", "ST_Intersects"):
                t0 = time.perf_counter()
                answers = _postgis_route(conn, predicate, lats, lons, batch)
                runs[predicate] = (time.perf_counter() - t0, answers)
            # Points exactly on district boundaries, which uniform random points never
            # hit: polygon vertices (most are shared by two or three districts).
            vlats, vlons = boundary_points(index, VERTEX_POINTS, seed=1)
            vidx, vrule, _ = index.route_indices(vlats, vlons)
            on_edges = {
                p: _postgis_route(conn, p, vlats, vlons, batch)
                for p in ("ST_Contains", "ST_Intersects")
            }
            plan = conn.execute(
                "EXPLAIN " + POSTGIS_QUERY.format(predicate="ST_Contains"),
                {"lon": [105.8], "lat": [21.0]},
            ).fetchall()
    finally:
        if server is not None:
            server.stop()

    codes = [d.code for d in index.districts()]
    contained = np.isin(rule, [RULES.index("inside"), RULES.index("border")])
    expect = [codes[i] if c else None for i, c in zip(idx.tolist(), contained, strict=True)]
    border = rule == RULES.index("border")
    gist = any("bench_districts_geom_idx" in line for (line,) in plan)
    lines = [
        f"PostGIS: {version}; "
        f"{len(codes)} polygons loaded + GiST index built in {load_s:.2f} s; "
        f"{pinned}; batches of {batch:,} points; plan uses the GiST index: {gist}",
    ]
    for predicate, (secs, answers) in runs.items():
        differ = [i for i, (a, b) in enumerate(zip(answers, expect, strict=True)) if a != b]
        on_border = sum(1 for i in differ if border[i] and answers[i] is None)
        lines.append(
            f"  {'PostGIS ' + predicate + ' + GiST (1 run)':<44}{n:>10,}{secs:>10.3f}"
            f"{fmt_rate(n, secs):>22}"
        )
        lines.append(
            f"    answers differing from the index (inside/border rules): {len(differ):,} of "
            f"{n:,}; of which on a shared border (index: border rule, PostGIS: none) "
            f"{on_border:,}"
            + (
                f"; first differing points: {[(lats[i], lons[i]) for i in differ[:3]]}"
                if len(differ) > on_border
                else ""
            )
        )
    vexpect = [codes[i] if r in (1, 2) else None for i, r in zip(vidx, vrule, strict=True)]
    vborder = int((vrule == RULES.index("border")).sum())
    lines.append(
        f"    {len(vlats):,} district vertices (on boundaries; {vborder:,} on a shared "
        "border, where the index applies the border rule, lowest code):"
    )
    for predicate, answers in on_edges.items():
        differ = [i for i, (a, b) in enumerate(zip(answers, vexpect, strict=True)) if a != b]
        none = sum(1 for i in differ if answers[i] is None)
        lines.append(
            f"      {predicate}: {len(differ):,} differ from the index ({none:,} of them: "
            "PostGIS finds no district)"
        )
    return lines


def boundary_points(index: DistrictIndex, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` distinct polygon vertices of the districts (fixed seed), as (lats, lons)."""
    xy = np.unique(
        np.concatenate([shapely.get_coordinates(g) for _, g in index.district_geometries()]),
        axis=0,
    )
    pick = np.random.default_rng(seed).choice(len(xy), size=min(n, len(xy)), replace=False)
    return xy[pick, 1], xy[pick, 0]


def fmt_rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} pts/s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000, help="indexed sample size")
    ap.add_argument("--naive-points", type=int, default=20_000, help="naive sample size")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3, help="timed indexed runs (best is used)")
    ap.add_argument("--postgis-dsn", default=os.environ.get("ROADWATCH_BENCH_PG_DSN"))
    ap.add_argument("--pg-batch", type=int, default=100_000, help="points per PostGIS query")
    ap.add_argument("--no-postgis", action="store_true", help="skip the PostGIS comparison")
    ap.add_argument("--set", choices=("2025", "pre2025"), default="2025", help="boundary set")
    args = ap.parse_args(argv)
    if args.set == "2025":
        areas_file, provinces_file, props = COMMUNES_2025_FILE, PROVINCES_2025_FILE, PROPS_2025
    else:
        areas_file, provinces_file, props = DISTRICTS_FILE, PROVINCES_FILE, DEFAULT_PROPS

    pinned, cpu = pin_one_core()
    t0 = time.perf_counter()
    index = DistrictIndex.load_2025() if args.set == "2025" else DistrictIndex.load_default()
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
    with gzip.open(DATA_DIR / areas_file, "rt", encoding="utf-8") as fh:
        districts_fc = json.load(fh)
    with gzip.open(DATA_DIR / provinces_file, "rt", encoding="utf-8") as fh:
        provinces_fc = json.load(fh)
    exact = DistrictIndex.from_geojson(districts_fc, provinces_fc, props, grid_cell_deg=None)
    exact_times = time_indexed(exact, lats, lons, 1)
    same_as_exact = exact.route_many(lats, lons) == index.route_many(lats, lons)

    # Naive loop on the first --naive-points points, over fresh (unprepared) polygons.
    features = districts_fc["features"]
    dgeoms = [shape(f["geometry"]) for f in features]
    codes = [f["properties"][props.district_code] for f in features]
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

    if args.no_postgis:
        postgis = ["PostGIS: not measured (--no-postgis)"]
    else:
        postgis = postgis_compare(
            args.postgis_dsn, index, lats, lons, idx, rule, args.pg_batch, cpu
        )

    print(f"RoadWatch routing benchmark: boundary set {args.set}")
    print(f"  machine            : {os.cpu_count()} CPUs, {pinned}")
    print(f"  data               : {len(codes)} areas, index built in {load_s:.2f} s")
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
    for line in postgis[1:]:
        print(line)
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
    print(f"  {postgis[0]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
