"""``flask --app wsgi users …``: console and officer accounts."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from ..models.accounts import ROLES, User
from ..services import accounts

cli = AppGroup("users", help="Accounts of officers, reviewers, supervisors and admins.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--district", "districts", multiple=True, help="a reviewer's area code")
@click.option("--unit", "unit_codes", multiple=True, help="a unit the reviewer belongs to")
@click.option("--province", help="a supervisor's province code")
@click.option("--name", "display_name", default="", help="the name shown in the console")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
def create(
    username: str,
    role: str,
    districts: tuple[str, ...],
    unit_codes: tuple[str, ...],
    province: str | None,
    display_name: str,
    password_stdin: bool,
) -> None:
    """Create an account."""
    try:
        accounts.create_user(
            username,
            _password(password_stdin),
            role,
            districts=districts,
            province=province,
            display_name=display_name,
            unit_codes=unit_codes,
        )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {username} ({role})")


@cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin")
def set_password(username: str, password_stdin: bool) -> None:
    """Set a new password (existing console sessions of the user end)."""
    try:
        accounts.set_password(username, _password(password_stdin))
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password set for {username}")


@cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Deactivate an account: it can no longer log in."""
    try:
        accounts.deactivate(username)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deactivated {username}")


@cli.command("list")
def list_users() -> None:
    """List the accounts with their roles and districts."""
    for user in db.session.scalars(sa.select(User).order_by(User.username)):
        codes = accounts.districts_of(user)
        scope = (
            "all"
            if codes is None
            else f"province {user.province_code}"
            if user.role == "supervisor"
            else ",".join(sorted(codes))
        )
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{user.role}\t{scope}\t{state}\t{user.display_name}")
