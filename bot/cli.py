"""The `bot` command: one click group, each area adds its sub-commands from its own module."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="return-info-line")
def main() -> None:
    """Run, test and maintain the return information line."""


def _register() -> None:
    """Attach sub-commands; imported late so `bot --help` stays fast and modules stay small."""
    from bot.cli_callbacks import callbacks
    from bot.cli_chat import chat
    from bot.cli_flows import flows
    from bot.cli_i18n import i18n
    from bot.cli_segments import segments
    from bot.cli_service import run, worker
    from bot.cli_whatsapp import whatsapp

    for command in (chat, flows, i18n, segments, run, worker, callbacks, whatsapp):
        main.add_command(command)


_register()
