"""New flows reach a running web process: published versions, last good sets, reports.

A process loads its flows at start (bot.core.runtime): from disk when they validate, else
the last good set, with every error of the disk logged as `file:line:col`. Afterwards it
looks, at most once a second and only while it answers requests, at the version staff
published with `bot flows reload` (bot.store.published) and reloads from disk when it
changed, again only when the set validates. Whenever the flows on disk are refused, staff
are told once per distinct set of errors (bot.jobs.flow_alerts), and `/readyz` says so
(`status_lines`) while still answering 200: the service answers from the set it has.
"""

from __future__ import annotations

import logging
import time

import redis
from flask import Flask

from bot.core.runtime import Runtime
from bot.jobs import queues
from bot.store import published

log = logging.getLogger(__name__)


def serving(runtime: Runtime) -> str:
    """Which set answers, in words for logs, staff and /readyz."""
    if runtime.last_good:
        return f"the last good flows (saved {runtime.last_good})"
    return "the flows on disk"


def report(runtime: Runtime, client: redis.Redis | None) -> None:
    """Log the refused flows' errors (file:line:col) and tell staff once per set of errors."""
    lines = [str(p) for p in runtime.disk_problems]
    if not lines:
        return
    for line in lines:
        log.error("%s", line)
    log.error(
        "the flows in %s have %d error(s): serving %s", runtime.flows_dir, len(lines),
        serving(runtime),
    )  # fmt: skip
    if client is None:
        return
    try:
        if published.first_alert(client, lines):
            queues.enqueue_flows_report(client, lines, serving(runtime))
    except redis.RedisError as exc:
        log.warning("could not queue the flows report for staff (%s)", type(exc).__name__)


def status_lines(runtime: Runtime, client: redis.Redis) -> list[str]:
    """What /readyz adds about flows: the set served, and errors that kept a set out."""
    lines = []
    if runtime.last_good:
        lines.append(f"serving {serving(runtime)}: the flows on disk have errors")
    lines += [str(p) for p in runtime.disk_problems]
    try:
        failed = published.failure(client)
    except redis.RedisError:
        failed = []
    if failed:
        lines.append("the last `bot flows reload` was refused:")
        lines += [line for line in failed if line not in lines]
    return lines


def check(runtime: Runtime, client: redis.Redis, watch: published.Watch) -> None:
    """Reload when staff published a new version (looked at most once a second)."""
    now = time.monotonic()
    if not watch.due(now):
        return
    try:
        changed = watch.changed(client, now)
    except redis.RedisError:
        return
    if not changed:
        return
    before = set(map(str, runtime.disk_problems))
    problems = runtime.reload()
    if runtime.disk_problems:
        if set(map(str, runtime.disk_problems)) != before:
            report(runtime, client)
    else:
        log.info("published flows loaded (%d warning(s))", len(problems))


def init_app(app: Flask, runtime: Runtime, client: redis.Redis) -> None:
    """Report flows refused at start, and reload published versions before requests."""
    watch = published.Watch()
    try:
        watch.changed(client, time.monotonic())
    except redis.RedisError:
        watch.seen = None
    report(runtime, client)

    @app.before_request
    def _published_flows() -> None:
        check(runtime, client, watch)
