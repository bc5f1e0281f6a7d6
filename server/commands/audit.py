"""``flask --app wsgi audit …``: check the evidence custody trail (a hash chain)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..services import custody

cli = AppGroup("audit", help="The evidence custody trail: verify the chain, print its head.")

REASONS = {
    "missing": "is missing (deleted?)",
    "bad_content": "has content that is not JSON (edited?)",
    "bad_link": "does not link to the entry before it (prev_hash differs)",
    "bad_hash": "does not match its hash (edited?)",
    "anchor_mismatch": "has a different hash from the anchor given (the chain was rewritten)",
    "anchor_missing": "of the anchor given is not in the chain (entries were cut off)",
}


@cli.command("verify")
@click.option(
    "--anchor",
    metavar="SEQ:HASH",
    help="a head printed earlier (audit head, the yearly review): it must still be there",
)
def verify_command(anchor: str | None) -> None:
    """Walk the chain from its first entry; name the first entry that does not match.

    Exits 0 and prints OK with the head, or prints the entry and exits 1.
    """
    try:
        wanted = custody.parse_anchor(anchor) if anchor else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    verdict = custody.verify(wanted)
    if verdict.broken is None:
        click.echo(f"OK: {verdict.entries} entries, head {verdict.head}")
        return
    broken = verdict.broken
    click.echo(
        f"FAILED: entry {broken.seq} {REASONS[broken.reason]}; "
        f"{verdict.entries} entries before it match (last good {verdict.head})",
        err=True,
    )
    raise SystemExit(1)


@cli.command("head")
def head_command() -> None:
    """Print the chain's head as SEQ:HASH, to be kept outside the database (an anchor)."""
    click.echo(str(custody.head()))


__all__ = ["cli"]
