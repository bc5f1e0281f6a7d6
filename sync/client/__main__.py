"""``python -m sync.client``: push a folder of photos and clips to a RoadWatch server.

    python -m sync.client push FOLDER --server http://127.0.0.1:5000 \
        --violation PARK_SIDEWALK_ROADWAY

A patrol officer signs the outbox in first (reports then carry the officer's name):

    RW_PASSWORD=... python -m sync.client login --server http://127.0.0.1:5000 --username tuan

It can be interrupted at any moment (Ctrl-C, a dead network, a flat battery) and run
again: what was queued stays queued in the outbox, what was sent is not sent twice,
and an interrupted upload resumes from the server's offset.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .folder import Defaults, queue_folder
from .http import NeedsAttention, RetryLater
from .outbox import Outbox
from .push import LoginRefused, Pusher


def _parser() -> argparse.ArgumentParser:
    """The command line: push, login, status."""
    parser = argparse.ArgumentParser(
        prog="python -m sync.client", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    push = sub.add_parser("push", help="queue every photo/clip of FOLDER and send them")
    push.add_argument("folder", type=Path)
    push.add_argument("--server", required=True, help="e.g. http://127.0.0.1:5000")
    push.add_argument("--outbox", type=Path, default=Path("outbox.sqlite3"))
    push.add_argument("--violation", required=True, help="catalogue code, e.g. RED_LIGHT")
    push.add_argument("--vehicle-class", default="other")
    push.add_argument("--lat", type=float, help="position for files without GPS")
    push.add_argument("--lon", type=float)
    push.add_argument("--note", default="")
    push.add_argument("--chunk-mb", type=float, help="PATCH size; default: whole remainder")
    push.add_argument("--checksum", action="store_true", help="per-PATCH sha256 (needs --chunk-mb)")
    push.add_argument("--max-attempts", type=int, default=None, help="give up after N failed tries")
    login = sub.add_parser(
        "login", help="sign the outbox in as a patrol officer (password: $RW_PASSWORD or asked)"
    )
    login.add_argument("--server", required=True)
    login.add_argument("--outbox", type=Path, default=Path("outbox.sqlite3"))
    login.add_argument("--username", required=True)
    status = sub.add_parser("status", help="what the outbox holds")
    status.add_argument("--outbox", type=Path, default=Path("outbox.sqlite3"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 when everything it was asked to do is done."""
    args = _parser().parse_args(argv)
    if args.command == "status":
        outbox = Outbox(args.outbox)
        for row in outbox.reports():
            print(f"{row['report_id']}  {row['state']:<11} {row['reason'] or ''}")
        return 0
    if args.command == "login":
        return _login(args)
    return _push(args)


def _login(args: argparse.Namespace) -> int:
    """Sign the outbox in as a patrol officer."""
    password = os.environ.get("RW_PASSWORD") or getpass.getpass(f"{args.username}: ")
    try:
        Pusher.login(Outbox(args.outbox), args.server, args.username, password)
    except (LoginRefused, NeedsAttention, RetryLater) as exc:
        print(f"login failed: {exc}")
        return 1
    print(f"signed in as {args.username}: reports are sent under the officer's name")
    return 0


def _push(args: argparse.Namespace) -> int:
    """Queue the folder's files and send everything the outbox holds."""
    outbox = Outbox(args.outbox)
    d = Defaults(
        violation=args.violation,
        vehicle_class=args.vehicle_class,
        lat=args.lat,
        lon=args.lon,
        officer=outbox.get("username") is not None,
        note=args.note,
    )
    queued, skipped = queue_folder(outbox, args.folder, d)
    print(f"queued {queued} file(s) from {args.folder}")
    for path, why in skipped:
        print(f"skipped {path}: {why}")
    chunk = int(args.chunk_mb * 1024 * 1024) if args.chunk_mb else None
    pusher = Pusher.connect(
        outbox, args.server, chunk_size=chunk, checksum=args.checksum, say=print
    )
    try:
        counts = pusher.push_all(max_attempts=args.max_attempts)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume")
        return 130
    print("outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0 if not counts.get("attention") and not pusher.pending() else 1


if __name__ == "__main__":
    sys.exit(main())
