"""``flask --app wsgi push …`` and ``flask --app wsgi push-worker``."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup, with_appcontext

from ..services import digests, push

cli = AppGroup("push", help="Web Push commands.")


@cli.command("vapid-keys")
def vapid_keys() -> None:
    """Generate the VAPID key (once) and print the public application server key."""
    path = push.vapid_key_path()
    written = push.generate_vapid_key(path)
    click.echo(f"{'generated' if written else 'kept'} {path}")
    click.echo(f"public key: {push.public_key_b64()}")


@cli.command("digest")
def digest() -> None:
    """Queue the reviewers' digests of new cases that are due (the worker does it too)."""
    stats = digests.enqueue_reviewer_digests()
    click.echo(f"digests queued: {stats.messages} messages for {stats.users} users")


@click.command("push-worker")
@click.option("--once", is_flag=True, help="deliver what is due, then exit")
@click.option("--interval", default=5.0, help="seconds between rounds")
@with_appcontext
def push_worker(once: bool, interval: float) -> None:
    """Queue the reviewers' digests that are due and deliver queued push messages, with
    retries; runs until stopped."""
    while True:
        queued = digests.enqueue_reviewer_digests()
        if queued.messages:
            click.echo(f"digests queued: {queued.messages} messages for {queued.users} users")
        stats = push.deliver_due()
        if stats.sent or stats.retried or stats.gone or stats.dead:
            click.echo(
                f"sent {stats.sent}, retry later {stats.retried}, "
                f"subscriptions gone {stats.gone}, given up {stats.dead}"
            )
        if once:
            return
        time.sleep(interval)
