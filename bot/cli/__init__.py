"""The `bot` command: one click group, each area adds its sub-commands from its own module."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="return-info-line")
def main() -> None:
    """Run, test and maintain the return information line."""


def _register() -> None:
    """Attach sub-commands; imported late so `bot --help` stays fast and modules stay small."""
    from bot.cli.callbacks import callbacks
    from bot.cli.chat import chat
    from bot.cli.flows import flows
    from bot.cli.i18n import i18n
    from bot.cli.i18n_check import check
    from bot.cli.poster import poster
    from bot.cli.review import review
    from bot.cli.segments import segments
    from bot.cli.service import run, worker
    from bot.cli.staff import staff
    from bot.cli.whatsapp import whatsapp

    for command in (chat, flows, i18n, segments, run, worker, callbacks, whatsapp, staff, poster):
        main.add_command(command)
    i18n.add_command(check)
    i18n.add_command(review)


_register()
