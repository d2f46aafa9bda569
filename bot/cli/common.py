"""What every `bot` command needs: the settings and the flows, with errors said plainly.

Each command builds its `Settings` here, once, from the environment; a bad setting or a
broken flow ends the command with one clear message (file:line:col for flows), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.core.runtime import Runtime
from bot.flow import FlowError
from bot.settings import ConfigError, Settings, service_values


def settings() -> Settings:
    """The settings from the environment; a bad value ends the command with how to fix it."""
    try:
        return Settings.from_environ()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def load_runtime(flows_dir: Path | str | None = None, config: Settings | None = None) -> Runtime:
    """The flows (`flows_dir`, else the settings' folder) and catalogs, or every problem."""
    config = config or settings()
    try:
        return Runtime.load(
            flows_dir or config.flows_path, config.locales_path, service_values(config)
        )
    except FlowError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException("the flows have errors; fix them and run again") from None
