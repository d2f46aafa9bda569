"""`bot staff add | list | remove | passwd`: the console's staff accounts.

Passwords are read from standard input, never from the command line (it would stay in the
shell history and the process list): asked twice on a terminal, one line when piped.
Every change is written to the console's audit log as done by `cli`.
"""

from __future__ import annotations

import sys

import click

from bot.store.staff import MIN_PASSWORD, ROLES


def _staff():
    import redis

    from bot.cli.common import settings
    from bot.store.connections import state_client
    from bot.store.staff import Staff

    client = state_client(settings())  # REDIS_URL, the Sentinels' master or the Cluster
    try:
        client.ping()
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Redis is not reachable at REDIS_URL ({type(exc).__name__}): start it, or set "
            "REDIS_URL to the service's Redis"
        ) from None
    return client, Staff(client)


def read_password() -> str:
    """The password: prompted twice (hidden) on a terminal, else one line of stdin."""
    if sys.stdin.isatty():
        return click.prompt(
            f"Password (at least {MIN_PASSWORD} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    return sys.stdin.readline().rstrip("\r\n")


def _audit(client, action: str, detail: str) -> None:
    from bot.store import audit

    audit.record(client, "cli", action, detail)


@click.group()
def staff() -> None:
    """Staff accounts of the console (/console)."""


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
def add(name: str, role: str) -> None:
    """Create an account; the password comes from standard input."""
    from bot.store.staff import StaffError

    client, accounts = _staff()
    try:
        accounts.add(name, role, read_password())
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(client, "staff_add", f"{name} as {role}")
    click.echo(f"added {name} ({role})")


@staff.command("list")
def list_() -> None:
    """The accounts, by name."""
    _client, accounts = _staff()
    for account in accounts.list():
        click.echo(f"{account.name}\t{account.role}")


@staff.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Delete an account; its sessions end at once."""
    client, accounts = _staff()
    if not accounts.remove(name):
        raise click.ClickException(f"there is no account named {name!r}")
    _audit(client, "staff_remove", name)
    click.echo(f"removed {name}")


@staff.command("passwd")
@click.argument("name")
def passwd(name: str) -> None:
    """Set a new password (from standard input); also lifts a lockout."""
    from bot.store.staff import StaffError

    client, accounts = _staff()
    try:
        accounts.set_password(name, read_password())
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(client, "staff_passwd", name)
    click.echo(f"password changed for {name}")
