"""What every `bot` command needs: the settings and the flows, with errors said plainly.

Each command builds its `Settings` here, once, from the environment; a bad setting or a
broken flow ends the command with one clear message (file:line:col for flows), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.core import runtime as runtime_checks
from bot.core.runtime import Runtime
from bot.flow import FlowError
from bot.settings import ConfigError, Settings, service_values


def settings() -> Settings:
    """The settings from the environment; a bad value ends the command with how to fix it."""
    try:
        return Settings.from_environ()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def refuse_placeholders(config: Settings) -> None:
    """In production, end the command while a staff value is a placeholder (each named)."""
    try:
        runtime_checks.refuse_placeholders(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def load_runtime(
    flows_dir: Path | str | None = None, config: Settings | None = None, last_good: bool = False
) -> Runtime:
    """The flows (`flows_dir`, else the settings' folder) and catalogs, or every problem.

    With `last_good` (a service starting), broken flows on disk fall back to the last set
    that validated, and the errors are printed with a line saying so.
    """
    config = config or settings()
    var_dir = config.var_path if last_good else None
    try:
        runtime = Runtime.load(
            flows_dir or config.flows_path, config.locales_path, service_values(config), var_dir
        )
    except FlowError as exc:
        for problem in exc.problems:
            click.echo(problem.render(), err=True)
        raise click.ClickException("the flows have errors; fix them and run again") from None
    if runtime.disk_problems:
        for problem in runtime.disk_problems:
            click.echo(problem.render(), err=True)
        click.echo(
            f"The flows on disk have {len(runtime.disk_problems)} error(s) (above): starting "
            f"on the last good flows, saved {runtime.last_good}. Fix them and save.",
            err=True,
        )
    return runtime


flows_option = click.option(
    "--flows", "flows_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Flows folder (default: the configured BOT_FLOWS_DIR).",
)  # fmt: skip
"""`--flows DIR` for commands that read the flows and their catalogs."""
locales_option = click.option(
    "--locales", "locales_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Catalogs folder (default: the configured one).",
)  # fmt: skip
"""`--locales DIR`, beside `flows_option`."""


def cli_client(config: Settings):
    """A client on the service's state Redis (REDIS_URL, the Sentinels' master or the
    Cluster), patient enough for a command: at least 2 s where the web allows less."""
    import dataclasses

    from bot.store.connections import web_client

    return web_client(dataclasses.replace(config, redis_timeout=max(config.redis_timeout, 2.0)))
