"""Benchmark: the statistics dashboard, the review workbook and the hotspot map with
1,000,000 reports stored (issue 13).

    python bench/bench_stats.py [--reports 1000000] [--samples 20] [--backend both]

For each backend (SQLite file, and a throw-away PostgreSQL started with tests/pg.py):

1. Migrate a fresh database and bulk-load ``--reports`` reports with their media and
   cases, as bench/bench_ingest.py does (365 days up to 20 November 2026; 60 % in
   Hà Nội, 30 % in Hồ Chí Minh City, 10 % anywhere in Vietnam; 70 % with one of
   200,000 plates). About 37 % are then verified and 19 % rejected (a status event
   from 1 minute to 5 days after receipt, the case's verdict set); the rest wait.
   The load goes through the statistics triggers (migration 0016); then
   ``rollup_store.rebuild()`` counts everything once (timed).
2. Through the console (Flask test client, a signed-in supervisor of Hà Nội, or the
   admin for the country), time ``--samples`` requests of each:
   * the dashboard ``/console/stats`` for the province-year 2026 (and 2025 beside it);
   * the yearly review workbook ``/console/stats/review.xlsx`` of the same;
   * the hotspot map ``/console/stats/hotspots`` for the whole country and year;
   each "warm" (nothing changed since the last request) and "live" (before each
   request 10 reports of the province change status by a bulk SQL update, so that up to
   10 district-months must be counted again first).
3. Print the query plans of the rollup read and of the hotspot aggregation.

Goals (issue 13): dashboard and workbook p95 < 1 s, hotspots of the whole country
p95 < 2 s, on both backends.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402

from bench.bench_ingest import Dataset, bulk_load, percentiles  # noqa: E402
from server import create_app  # noqa: E402
from server.district_index import DistrictIndex  # noqa: E402

GOALS_MS = {"dashboard": 1000.0, "workbook": 1000.0, "hotspots": 2000.0}
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def decide(app, data: Dataset, seed: int) -> float:
    """Verify ~37 % and reject ~19 % of the reports (status events, verdicts)."""
    import sqlalchemy as sa

    from server.extensions import db
    from server.models import Report, StatusEvent

    rng = random.Random(seed)
    t0 = time.perf_counter()
    with app.app_context():
        received = db.session.scalar(sa.select(Report.received_at).limit(1))
        events = []
        verified, rejected = [], []
        for rid in data.ids:
            digit = int(rid[0], 16)
            if digit < 6:
                verified.append(rid)
                status, reason = "verified", None
            elif digit < 9:
                rejected.append(rid)
                status, reason = "rejected", rng.choice(("plate_unreadable", "not_a_violation"))
            else:
                continue
            at = received + timedelta(minutes=rng.randint(1, 5 * 24 * 60))
            events.append(
                {"report_id": rid, "status": status, "reason_code": reason,
                 "actor": "user:bench", "created_at": at}  # fmt: skip
            )
        for lo in range(0, len(events), 20_000):
            db.session.execute(sa.insert(StatusEvent), events[lo : lo + 20_000])
            db.session.commit()
        for status, ids in (("verified", verified), ("rejected", rejected)):
            for lo in range(0, len(ids), 20_000):
                chunk = ids[lo : lo + 20_000]
                db.session.execute(
                    sa.update(Report).where(Report.id.in_(chunk)).values(status=status)
                )
                db.session.execute(
                    sa.text(
                        "UPDATE cases SET verdict = :s WHERE first_report_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"s": status, "ids": chunk},
                )
                db.session.commit()
    return time.perf_counter() - t0


def login(client, username: str) -> None:
    page = client.get("/console/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    resp = client.post(
        "/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 302, resp.status_code


def change_some(app, data: Dataset, rng: random.Random, n: int = 10) -> None:
    """``n`` reports of Hà Nội in 2026 change status by a bulk update (no ORM)."""
    import sqlalchemy as sa

    from server.extensions import db
    from server.models import Report

    picks = []
    while len(picks) < n:
        i = rng.randrange(data.n)
        if data.district[i] and data.captured(i).year == 2026 and 20.9 < data.lat[i] < 21.2:
            picks.append(data.ids[i])
    with app.app_context():
        db.session.execute(
            sa.update(Report)
            .where(Report.id.in_(picks))
            .values(status=rng.choice(("verified", "rejected", "submitted")))
        )
        db.session.commit()


def timed(client, url: str, samples: int, before=None) -> list[float]:
    out = []
    client.get(url)  # compile templates and statements once
    for _ in range(samples):
        if before:
            before()
        t0 = time.perf_counter()
        resp = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return out


def plans(app) -> dict[str, str]:
    """EXPLAIN of the rollup read and of the hotspot aggregation."""
    import sqlalchemy as sa

    from server.extensions import db
    from server.services import accounts, stats
    from server.services.stats import Period

    out = {}
    with app.app_context():
        scope = sorted(accounts.province_districts("01"))
        period = Period.whole_year(2026)
        from server.models import StatsRollup

        rollup = (
            sa.select(StatsRollup.dim, StatsRollup.key, sa.func.sum(StatsRollup.n))
            .where(
                StatsRollup.month.in_(period.months()),
                StatsRollup.kind == "r",
                StatsRollup.district_code.in_(scope),
            )
            .group_by(StatsRollup.dim, StatsRollup.key)
        )
        start, end = period.utc_bounds()
        from server.models import Report

        row_ix = stats.cell_index(Report.lat, 90.0, 0.005)
        col_ix = stats.cell_index(Report.lon, 180.0, 0.005)
        hotspot = (
            sa.select(row_ix, col_ix, sa.func.count(), sa.func.max(Report.district_code))
            .where(Report.captured_at >= start, Report.captured_at < end)
            .group_by(row_ix, col_ix)
        )
        pg = db.engine.dialect.name == "postgresql"
        for name, q in (("rollup read", rollup), ("hotspots", hotspot)):
            sql = str(q.compile(db.engine, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) " if pg else "EXPLAIN QUERY PLAN "
            rows = db.session.execute(sa.text(prefix + sql)).all()
            out[name] = "\n".join(" | ".join(str(c) for c in r) for r in rows)
    return out


def run_backend(name: str, url: str, data: Dataset, args: argparse.Namespace) -> dict:
    from flask_migrate import upgrade

    from server.extensions import db
    from server.models import Device
    from server.services import accounts
    from server.services.stats import rollup_store

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-stats-{name}-media-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "IDENTITY_KEY": Fernet.generate_key().decode(),
            "MEDIA_ROOT": str(tmp / "media"),
            "RATE_LIMIT_DEVICES_PER_MINUTE": 0,
        }
    )
    out: dict = {}
    with app.app_context():
        upgrade()
        loaded = accounts.get_by_username("root") is not None
        if not loaded:
            device = Device(id=str(uuid.uuid4()), token_hash=uuid.uuid4().hex * 2)
            db.session.add(device)
            db.session.commit()
            device_id = device.id
            accounts.create_user("sup_hn", PASSWORD, "supervisor", province="01")
            accounts.create_user("root", PASSWORD, "admin")
    if loaded:  # --workdir of an earlier run: its data is there (same --reports, --seed)
        print(f"[{name}] reusing the database of an earlier run", flush=True)
    else:
        out["load_s"] = bulk_load(app, data, device_id)
        print(f"[{name}] loaded {data.n:,} reports in {out['load_s']:.0f} s", flush=True)
        out["decide_s"] = decide(app, data, args.seed)
        print(f"[{name}] decided in {out['decide_s']:.0f} s", flush=True)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            raw = db.engine.raw_connection()
            raw.dbapi_connection.autocommit = True
            raw.dbapi_connection.execute("VACUUM ANALYZE")
            raw.dbapi_connection.autocommit = False
            raw.close()
        t0 = time.perf_counter()
        if loaded and args.keep_rollups:  # count only what an earlier run left dirty
            buckets = rollup_store.refresh_all()
        else:
            buckets = rollup_store.rebuild()
        out["rebuild_s"] = time.perf_counter() - t0
        rows = db.session.execute(db.text("SELECT count(*) FROM stats_rollup")).scalar_one()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE stats_rollup"))
            db.session.commit()
    print(
        f"[{name}] rollups: {buckets:,} district-months, {rows:,} rows, "
        f"counted in {out['rebuild_s']:.0f} s",
        flush=True,
    )
    rng = random.Random(args.seed)
    sup, admin = app.test_client(), app.test_client()
    login(sup, "sup_hn")
    login(admin, "root")
    year = "preset=year&year=2026"
    live = lambda: change_some(app, data, rng)  # noqa: E731
    out["load_avg"] = os.getloadavg()[0]
    out["times"] = {
        "dashboard warm": timed(sup, f"/console/stats?{year}", args.samples),
        "dashboard live": timed(sup, f"/console/stats?{year}", args.samples, live),
        "workbook warm": timed(sup, f"/console/stats/review.xlsx?{year}", args.samples),
        "workbook live": timed(sup, f"/console/stats/review.xlsx?{year}", args.samples, live),
        "hotspots": timed(admin, f"/console/stats/hotspots?{year}", args.samples),
        "hotspots live": timed(admin, f"/console/stats/hotspots?{year}", args.samples, live),
    }
    out["load_avg"] = (out["load_avg"] + os.getloadavg()[0]) / 2
    out["plans"] = plans(app)
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def report(name: str, r: dict) -> bool:
    print(f"\n== {name}: load average {r['load_avg']:.1f}")
    ok = True
    for what, ms in r["times"].items():
        p = percentiles(ms)
        goal = GOALS_MS[what.split()[0]]
        met = p["p95"] <= goal
        ok &= met
        print(
            f"{what:16s} p50 {p['p50']:7.0f} ms  p95 {p['p95']:7.0f} ms  max {p['max']:7.0f} ms"
            f"   goal p95 <= {goal:.0f} ms: {'met' if met else 'NOT met'}"
        )
    for title, plan in r["plans"].items():
        print(f"-- plan: {title}\n{plan}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--workdir", type=Path, help="keep the SQLite database here and reuse it in a later run"
    )
    ap.add_argument(
        "--keep-rollups",
        action="store_true",
        help="reusing a database: refresh its dirty district-months instead of a rebuild",
    )
    ap.add_argument(
        "--pg-url",
        help="a running PostgreSQL (postgresql+psycopg://…/db) to load, or to reuse when an"
        " earlier run loaded it, instead of a throw-away server",
    )
    args = ap.parse_args(argv)
    print(
        f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    t0 = time.perf_counter()
    data = Dataset(args.reports, args.seed, DistrictIndex.load_default())
    print(f"generated {args.reports:,} reports in {time.perf_counter() - t0:.0f} s", flush=True)
    gc.collect()
    gc.freeze()
    ok = True
    if args.backend in ("sqlite", "both"):
        tmp = args.workdir or Path(tempfile.mkdtemp(prefix="bench-stats-sqlite-"))
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            r = run_backend("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", data, args)
        finally:
            if not args.workdir:
                shutil.rmtree(tmp, ignore_errors=True)
        ok &= report("sqlite", r)
    if args.backend in ("postgresql", "both") and args.pg_url:
        r = run_backend("postgresql", args.pg_url, data, args)
        ok &= report("postgresql", r)
    elif args.backend in ("postgresql", "both"):
        import sqlalchemy as sa

        from tests import pg

        server = pg.start()
        try:
            admin = sa.create_engine(f"{server.base_url}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql("CREATE DATABASE bench")
            admin.dispose()
            r = run_backend("postgresql", f"{server.base_url}/bench", data, args)
            ok &= report("postgresql", r)
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
