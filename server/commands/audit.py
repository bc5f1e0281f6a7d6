"""``flask --app wsgi audit …``: check the evidence custody trail (a hash chain)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..services import checkpoints, custody, reconcile

cli = AppGroup("audit", help="The evidence custody trail: verify the chain, print its head.")

REASONS = {
    "missing": "is missing (deleted?)",
    "bad_content": "has content that is not JSON (edited?)",
    "bad_link": "does not link to the entry before it (prev_hash differs)",
    "bad_subject_link": (
        "does not link to the entry before it about the same subject (subject_prev_hash differs)"
    ),
    "bad_version": "is hashed the old way after newer entries (re-hashed?)",
    "bad_hash": "does not match its hash (edited?)",
    "anchor_mismatch": "has a different hash from the anchor given (the chain was rewritten)",
    "anchor_missing": "of the anchor given is not in the chain (entries were cut off)",
    "checkpoint_mismatch": (
        "has a different hash from the last signed checkpoint (re-hashed or rewritten)"
    ),
    "checkpoint_missing": (
        "of the last signed checkpoint is not in the chain (entries were cut off)"
    ),
}


@cli.command("verify")
@click.option(
    "--anchor",
    metavar="SEQ:HASH",
    help="a head printed earlier (audit head, the yearly review): it must still be there",
)
def verify_command(anchor: str | None) -> None:
    """Walk the chain from its first entry; name the first entry that does not match.

    The chain is also checked against the newest signed checkpoint the server keeps (its
    entry must still be there with that hash), then the live tables against the chain
    (status events, decisions, received files: server/services/reconcile.py). Exits 0 and
    prints OK with the head, or prints what differs and exits 1.
    """
    try:
        wanted = custody.parse_anchor(anchor) if anchor else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    signed = checkpoints.last_checkpoint()
    mark = None
    if signed is not None:
        mark = custody.Head(int(signed.body["seq"]), str(signed.body["hash"]))
        click.echo(f"signed checkpoint {mark} of {signed.body['at']} (key {signed.key_id[:16]})")
    verdict = custody.verify(wanted, mark)
    if verdict.broken is None:
        mismatches = reconcile.reconcile()
        for mismatch in mismatches:
            click.echo(f"MISMATCH: {mismatch}", err=True)
        if mismatches:
            click.echo(
                f"FAILED: the chain is intact ({verdict.entries} entries, head "
                f"{verdict.head}) but {len(mismatches)} table row(s) differ from it",
                err=True,
            )
            raise SystemExit(1)
        click.echo(f"OK: {verdict.entries} entries, head {verdict.head}")
        return
    broken = verdict.broken
    click.echo(
        f"FAILED: entry {broken.seq} {REASONS[broken.reason]}; "
        f"{verdict.entries} entries before it match (last good {verdict.head})",
        err=True,
    )
    raise SystemExit(1)


@cli.command("checkpoint")
def checkpoint_command() -> None:
    """Sign a checkpoint of the chain's head (seq, hash, count, time) with the server's
    key and keep it in the instance folder (run from cron, e.g. hourly)."""
    signed = checkpoints.sign_checkpoint()
    db_commit()
    body = signed.body
    click.echo(f"checkpoint {body['seq']}:{body['hash']} ({body['count']} entries)")


@cli.command("rotate-key")
def rotate_key_command() -> None:
    """Make a new server signing key; older ones stay published (their packages verify)."""
    key_id = checkpoints.rotate()
    click.echo(f"new checkpoint key {key_id}; published at {checkpoints.WELL_KNOWN}")


def db_commit() -> None:
    from ..extensions import db

    db.session.commit()


@cli.command("head")
def head_command() -> None:
    """Print the chain's head as SEQ:HASH, to be kept outside the database (an anchor)."""
    click.echo(str(custody.head()))


__all__ = ["cli"]
