"""``flask --app wsgi push …`` and ``flask --app wsgi push-worker``."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup, with_appcontext

from ..services import push

cli = AppGroup("push", help="Web Push commands.")


@cli.command("vapid-keys")
def vapid_keys() -> None:
    """Generate the VAPID key (once) and print the public application server key."""
    path = push.vapid_key_path()
    written = push.generate_vapid_key(path)
    click.echo(f"{'generated' if written else 'kept'} {path}")
    click.echo(f"public key: {push.public_key_b64()}")


@click.command("push-worker")
@click.option("--once", is_flag=True, help="deliver what is due, then exit")
@click.option("--interval", default=5.0, help="seconds between rounds")
@with_appcontext
def push_worker(once: bool, interval: float) -> None:
    """Deliver queued push messages, with retries; runs until stopped."""
    while True:
        stats = push.deliver_due()
        if stats.sent or stats.retried or stats.gone or stats.dead:
            click.echo(
                f"sent {stats.sent}, retry later {stats.retried}, "
                f"subscriptions gone {stats.gone}, given up {stats.dead}"
            )
        if once:
            return
        time.sleep(interval)
