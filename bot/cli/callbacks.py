"""`bot callbacks list | done ID`: staff see the open callback requests and close them.

A request holds the person's number (they consented, so a counsellor can call back); closing
it deletes it, number included. Requests not closed are erased after BOT_CALLBACK_TTL.
"""

from __future__ import annotations

import json

import click

from bot.jobs.callbacks import Request


def _redis():
    from bot.cli.common import settings
    from bot.store.connections import state_client

    return state_client(settings())  # REDIS_URL, the Sentinels' master or the Cluster


def _when(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M")


def table(requests: list[Request]) -> str:
    """The requests as an aligned text table, oldest first."""
    header = ("ID", "ASKED (UTC)", "LANGUAGE", "TOPIC", "TIME", "CHANNEL", "NUMBER", "SENT TO")
    rows = [header] + [
        (r.id, _when(r.created), r.language_name, r.topic, r.preferred_time or "-", r.channel,
         r.number, r.delivered or "-")
        for r in requests
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@click.group()
def callbacks() -> None:
    """Callback requests: list the open ones, close one when it is handled."""


@callbacks.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_requests(as_json: bool) -> None:
    """Show the open callback requests (with the numbers to call), oldest first."""
    from bot.jobs.callbacks import open_requests

    requests = open_requests(_redis())
    if as_json:
        for request in requests:
            click.echo(json.dumps(request.to_json(), ensure_ascii=False))
        return
    if not requests:
        click.echo("No open callback requests.")
        return
    click.echo(table(requests))
    click.echo(f"\n{len(requests)} open. When one is handled: bot callbacks done ID")


@callbacks.command()
@click.argument("request_id")
def done(request_id: str) -> None:
    """Close a handled request: it is deleted, number included."""
    from bot.jobs.callbacks import close

    request = close(_redis(), request_id.strip())
    if request is None:
        raise click.ClickException(
            f"no open callback request {request_id}; `bot callbacks list` shows the open ones"
        )
    click.echo(f"Closed {request.id}; the request and its number are erased.")
