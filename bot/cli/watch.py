"""`bot run` in development: a save in flows/ or locales/ reaches the running service.

A thread of `bot run` looks at the two folders every POLL seconds (file sizes and times:
no extra dependency, and the same on every system and editor, which saves in many ways).
When something changed it compiles the catalogs that changed, validates the flows, and then
either publishes them (the last good set is saved and every web process reloads within a
second, as after `bot flows reload`) and prints which files changed, or prints every error
as `file:line:col` and says that the service keeps the flows it has.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import click

from bot.settings import Settings

POLL = 0.5
"""Seconds between two looks at flows/ and locales/; a save is live within about 2 s."""


def signature(folders: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    """Each YAML and .po file under the folders -> (size, modification time in ns)."""
    seen = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".yaml", ".po") and path.is_file():
                try:
                    stat = path.stat()
                except OSError:
                    continue
                seen[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return seen


def compile_catalogs(paths: list[str]) -> list[str]:
    """Compile each changed .po file to the .mo beside it; the errors, one per catalog."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    errors = []
    for name in paths:
        path = Path(name)
        try:
            with path.open("rb") as source:
                catalog = read_po(source, abort_invalid=True)
            with path.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog)
        except Exception as exc:
            errors.append(f"{path}: the catalog cannot be read ({exc})")
    return errors


def publish(config: Settings, redis_url: str) -> tuple[list[str], list[str]]:
    """Validate the flows on disk and publish them if they validate: (errors, changed files)."""
    from bot.cli.common import cli_client
    from bot.core.snapshot import Snapshot, changed_files, flow_files
    from bot.core.snapshot import version as flows_version
    from bot.flow import read_flows
    from bot.flow.problems import ERROR
    from bot.store import published

    snapshot = Snapshot.for_folder(config.var_path, config.flows_path)
    kept = snapshot.unpack()
    before = flow_files(kept) if kept else None
    files = flow_files(config.flows_path)
    flowset, problems = read_flows(config.flows_path)
    # `redis_url`: the embedded Redis `bot run` started; else the service's own Redis.
    client = cli_client(dataclasses.replace(config, redis_url=redis_url) if redis_url else config)
    if flowset is None:
        errors = [p for p in problems if p.severity == ERROR]
        published.record_failure(client, [str(p) for p in errors])  # for /readyz
        return [p.render() for p in errors], []
    snapshot.save(files)
    version = flows_version(files)
    published.publish(client, version)
    return [], changed_files(before, files) if before is not None else []


class Watcher(threading.Thread):
    """Publishes flows/ and locales/ after each save, for as long as `bot run` runs."""

    def __init__(self, config: Settings, redis_url: str):
        super().__init__(name="flows-watcher", daemon=True)
        self.config = config
        self.redis_url = redis_url
        self.folders = (config.flows_path, config.locales_path)
        self.stop = threading.Event()

    def run(self) -> None:
        """Poll until stopped; print what each change did."""
        last = signature(self.folders)
        while not self.stop.wait(POLL):
            now = signature(self.folders)
            if now == last:
                continue
            edited = sorted(n for n in set(now) | set(last) if now.get(n) != last.get(n))
            last = now
            try:
                self.changed(edited)
            except Exception as exc:
                click.echo(f"[flows] could not publish the change ({type(exc).__name__}: {exc})")

    def changed(self, edited: list[str]) -> None:
        """Compile, validate and publish after `edited` files changed; say what happened."""
        errors = compile_catalogs([n for n in edited if n.endswith(".po")])
        changed: list[str] = []
        if not errors:
            errors, changed = publish(self.config, self.redis_url)
        if errors:
            for line in errors:
                click.echo(line)
            click.echo(
                f"[flows] {len(errors)} error(s): the service keeps the flows it has; "
                "fix them and save again."
            )
            return
        names = [Path(n).name for n in edited]
        what = ", ".join(changed or names)
        click.echo(f"[flows] saved changes are live: {what}")


def start(config: Settings, redis_url: str) -> Watcher:
    """Start watching (development only: production publishes with `bot flows reload`)."""
    watcher = Watcher(config, redis_url)
    watcher.start()
    return watcher
