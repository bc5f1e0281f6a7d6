"""``python -m sync.client``: push a folder of photos and clips to a RoadWatch server.

    python -m sync.client push FOLDER --server http://127.0.0.1:5000 \
        --violation PARK_SIDEWALK_ROADWAY

A patrol officer signs the outbox in first (reports then carry the officer's name):

    RW_PASSWORD=... python -m sync.client login --server http://127.0.0.1:5000 --username tuan

It can be interrupted at any moment (Ctrl-C, a dead network, a flat battery) and run
again: what was queued stays queued in the outbox, what was sent is not sent twice,
and an interrupted upload resumes from the server's offset.

When the run cannot go on (no server, a refused login, a full server, a rate limit), it
prints one line on stderr saying what happened, the files stay queued for the next run,
and the exit status says which (the table below, also in README.md).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import requests

from .folder import Defaults, queue_folder
from .http import NeedsAttention, RetryLater
from .outbox import Outbox
from .push import LoginRefused, Pusher

# Exit statuses (README.md "Dash-cam client" has the same table).
OK = 0  # everything asked is done
ATTENTION = 1  # a report needs attention (refused by the server), or login refused locally
USAGE = 2  # bad command line (argparse) or a --server that is not a URL
RETRY_LATER = 3  # server unreachable, timing out or failing (5xx): run again later
REFUSED = 4  # the server refused the credentials or the device registration (401/403)
FULL = 5  # the server has no room for evidence (507, quota)
RATE_LIMITED = 6  # too many requests (429): run again after the Retry-After
INTERRUPTED = 130  # Ctrl-C

EXIT_STATUSES = f"""exit status:
  {OK}    done: every queued report was sent
  {ATTENTION}    some report needs attention (see `status`), or login refused locally
  {USAGE}    usage error
  {RETRY_LATER}    server unreachable or failing: files stay queued, run again later
  {REFUSED}    credentials or device registration refused by the server
  {FULL}    server full (507, storage quota): files stay queued
  {RATE_LIMITED}    rate-limited (429): files stay queued, run again later
  {INTERRUPTED}  interrupted (Ctrl-C): run the same command again to resume
"""

_STATUS_OF_KIND = {"full": FULL, "rate_limited": RATE_LIMITED}
_WHAT_OF_KIND = {
    "network": "server unreachable",
    "server": "server error",
    "incomplete": "upload cut off by the server",
    "full": "server full",
    "rate_limited": "rate-limited by the server",
}
_BAD_URL = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema)  # fmt: skip


def _fail(line: str) -> None:
    """The one line that says why the run ended early (stderr)."""
    print(line, file=sys.stderr)


def _retry_status(exc: RetryLater) -> int:
    return _STATUS_OF_KIND.get(exc.kind, RETRY_LATER)


def _retry_line(exc: RetryLater, queued: int) -> str:
    what = _WHAT_OF_KIND.get(exc.kind, "server error")
    wait = f"; retry after {exc.retry_after:.0f}s" if exc.retry_after else ""
    return f"{what} ({exc}): the files stay queued for the next run ({queued} report(s)){wait}"


def _parser() -> argparse.ArgumentParser:
    """The command line: push, login, status."""
    parser = argparse.ArgumentParser(
        prog="python -m sync.client",
        description=__doc__.split("\n")[0],
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    push = sub.add_parser(
        "push",
        help="queue every photo/clip of FOLDER and send them",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    push.add_argument(
        "--max-attempts",
        type=int,
        default=5,
        help="give up after N failed tries in a row (backoff between them; default 5;"
        " 0: retry forever)",
    )
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
    """Run one command; the exit status is 0 when everything it was asked to do is done
    (the others: :data:`EXIT_STATUSES`)."""
    args = _parser().parse_args(argv)
    if args.command == "status":
        outbox = Outbox(args.outbox)
        for row in outbox.reports():
            print(f"{row['report_id']}  {row['state']:<11} {row['reason'] or ''}")
        return OK
    try:
        if args.command == "login":
            return _login(args)
        return _push(args)
    except _BAD_URL as exc:
        _fail(f"--server is not a usable URL: {exc}")
        return USAGE
    except KeyboardInterrupt:
        _fail("interrupted: run the same command again to resume")
        return INTERRUPTED


def _login(args: argparse.Namespace) -> int:
    """Sign the outbox in as a patrol officer."""
    password = os.environ.get("RW_PASSWORD") or getpass.getpass(f"{args.username}: ")
    try:
        Pusher.login(Outbox(args.outbox), args.server, args.username, password)
    except LoginRefused as exc:
        _fail(f"login failed: {exc}")
        return ATTENTION
    except NeedsAttention as exc:
        _fail(f"login refused by the server: {exc}")
        return REFUSED if exc.status in (401, 403) else ATTENTION
    except RetryLater as exc:
        what = _WHAT_OF_KIND.get(exc.kind, "server error")
        _fail(f"login failed, {what} ({exc}): nothing changed, try again later")
        return _retry_status(exc)
    print(f"signed in as {args.username}: reports are sent under the officer's name")
    return OK


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

    def queued() -> int:
        return len(outbox.reports(("saved", "registering", "uploading")))

    try:
        pusher = Pusher.connect(
            outbox, args.server, chunk_size=chunk, checksum=args.checksum, say=print
        )
    except RetryLater as exc:
        _fail(_retry_line(exc, queued()))
        return _retry_status(exc)
    except NeedsAttention as exc:
        _fail(
            f"device registration refused by the server ({exc}):"
            f" the files stay queued for the next run ({queued()} report(s))"
        )
        return REFUSED if exc.status in (401, 403) else ATTENTION
    counts = pusher.push_all(max_attempts=args.max_attempts or None)
    print("outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if pusher.pending():
        if pusher.gave_up is not None:
            _fail(_retry_line(pusher.gave_up, len(pusher.pending())))
            return _retry_status(pusher.gave_up)
        _fail(f"the files stay queued for the next run ({len(pusher.pending())} report(s))")
        return RETRY_LATER
    return ATTENTION if counts.get("attention") else OK


if __name__ == "__main__":
    sys.exit(main())
