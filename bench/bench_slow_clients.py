"""Slow clients: how fast other requests are answered while uploads trickle.

    python bench/bench_slow_clients.py [--rounds 50] [--tricklers 100] [--no-nginx]
                                       [--no-before]

The server is started as ``./scripts/run`` starts it (the command is read from the
script; tests/test_slow_clients.py), alone and behind the production nginx
(``deploy/nginx/roadwatch.conf``), and for comparison with the worker the script used
before (``--worker-class gthread --threads 4``: 2 workers x 4 threads). For each, with 0
and then with ``--tricklers`` connections sending an upload body one byte every 5 s
(half tus PATCHes, half PUTs of reports), ``--rounds`` rounds of three requests of other
clients are timed, each on a new connection with 5 s of patience: GET
/api/v1/violations, GET /healthz and PUT of a small new report. Printed: p50, p99 and
the slowest of each, and how many were not answered within 5 s. With few samples p99 is
close to the slowest. Each measurement is preceded by 5 s of warm-up rounds. A shape
whose first round with tricklers gets no answer at all is given only 3 rounds (each
unanswered request costs 5 s).

Figures are printed; record them in bench/README.md with the machine's load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_slow_clients import (  # noqa: E402
    EXPECTED,
    NGINX,
    NO_FLOOD_LIMITS,
    PATIENCE_S,
    Answer,
    Tricklers,
    all_bodies_being_read,
    nginx_front,
    probe_round,
    register,
    run_server,
    trickling_uploads,
)

BEFORE = ("--worker-class", "gthread", "--threads", "4")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(base: str, rounds: int, tricklers: int) -> tuple[list[Answer], float, bool]:
    """Probe answers, the load average meanwhile, and whether the server (or proxy) had
    taken in every trickling body before the probes began."""
    port = int(base.rsplit(":", 1)[1])
    auth = register(base)
    # Warm up for 5 s: right after the start a worker still building its routing index
    # (gunicorn.conf.py) holds SQLite's write lock for ~2 s, and the other's writes wait.
    warm_until = time.monotonic() + 5
    while time.monotonic() < warm_until:
        probe_round(base, auth)
    trickling = Tricklers(port, trickling_uploads(base, tricklers)) if tricklers else None
    answers: list[Answer] = []
    with trickling or nullcontext():
        held = True
        if tricklers:
            deadline = time.monotonic() + 30
            while not (held := all_bodies_being_read(port, tricklers)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        for i in range(rounds):
            got = probe_round(base, auth)
            answers += got
            if i == 0 and all(a.status != EXPECTED[a.what] for a in got):
                answers += [a for _ in range(2) for a in probe_round(base, auth)]
                break
        load = os.getloadavg()[0]
    return answers, load, held


def report(shape: str, tricklers: int, answers: list[Answer], load: float, held: bool) -> None:
    for what in EXPECTED:
        mine = [a for a in answers if a.what == what]
        ok = [a.seconds * 1000 for a in mine if a.status == EXPECTED[what]]
        failed = len(mine) - len(ok)
        figures = (
            f"{statistics.median(ok):7.1f} | {percentile(ok, 0.99):7.1f} | {max(ok):7.1f}"
            if ok
            else "      – |       – |       –"
        )
        print(
            f"| {shape} | {tricklers}{'' if held else ' (not all taken in)'} | {what} | "
            f"{len(mine)} | {figures} | {failed} | {load:.2f} |",
            flush=True,
        )


@contextmanager
def shape_url(kind: str, root: Path, rounds_dir: str) -> Iterator[str]:
    instance = root / rounds_dir / "instance"
    extra = BEFORE if kind == "gthread (before)" else ()
    with run_server(instance, NO_FLOOD_LIMITS, extra) as base:
        if kind == "nginx + gevent":
            with nginx_front(root / rounds_dir / "nginx", base) as front:
                yield front
        else:
            yield base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--tricklers", type=int, default=100)
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--no-before", action="store_true", help="skip the gthread worker")
    args = parser.parse_args()
    shapes = ["gevent (scripts/run)"]
    if not args.no_nginx and NGINX is not None:
        shapes.append("nginx + gevent")
    if not args.no_before:
        shapes.append("gthread (before)")
    print(f"patience {PATIENCE_S} s; load average at start {os.getloadavg()[0]:.2f}")
    print("| shape | tricklers | request | n | p50 ms | p99 ms | max ms | not answered | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench_slow_") as tmp:
        for i, kind in enumerate(shapes):
            with shape_url(kind, Path(tmp), f"s{i}") as base:
                for n in (0, args.tricklers):
                    answers, load, held = measure(base, args.rounds, n)
                    report(kind, n, answers, load, held)


if __name__ == "__main__":
    main()
