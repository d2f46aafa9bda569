"""New flows reach a running web process: published versions, last good sets, reports.

A process loads its flows at start (bot.core.runtime): from disk when they validate, else
the last good set, with every error of the disk logged as `file:line:col`. Afterwards it
looks, at most once a second and only while it answers requests, at the version staff
published with `bot flows reload` (bot.store.published) and reloads from disk when it
changed, again only when the set validates. Whenever the flows on disk are refused, staff
are told once per distinct set of errors (bot.jobs.flow_alerts), and `/readyz` says so
(`status_lines`) while still answering 200: the service answers from the set it has.

The look happens before the request is answered, so an idle process answers its next
request with the published flows. With its looks the process writes the version it serves
(bot.store.published.Serving) for `bot flows status`, in the same round trip (every
RECORD_EVERY seconds, and at once when it changed); `/readyz` names the version served and
the one published, and says why when they differ.
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


def report(runtime: Runtime, client: redis.Redis | None, queue: redis.Redis | None = None) -> None:
    """Log the refused flows' errors (file:line:col) and tell staff once per set of errors:
    the alert is remembered on the state Redis (`client`), the report job goes to `queue`
    (REDIS_QUEUE_URL's, where the worker listens; else the state Redis)."""
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
            queues.enqueue_flows_report(queue or client, lines, serving(runtime))
    except redis.RedisError as exc:
        log.warning("could not queue the flows report for staff (%s)", type(exc).__name__)


def version_lines(runtime: Runtime, version: str) -> list[str]:
    """The flows version served and the one published (`version`), and why they differ."""
    served = runtime.version
    lines = [f"flows: serving version {served}, published version {version or '(none)'}"]
    if not version or version == served:
        return lines
    if runtime.disk_problems:
        why = "the flows on this host's disk have errors"
    elif runtime.changes():
        why = "this process has not looked since the files changed (it does before a request)"
    else:
        why = "the flows on this host's disk differ from those published: copy them here"
    lines.append(f"flows: this process does not serve the published version: {why}")
    return lines


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
    try:
        version, _ = published.current(client)
    except redis.RedisError:
        return lines
    return lines + version_lines(runtime, version)


class Looker:
    """One process's looks at the published version, and what it tells about its own."""

    def __init__(
        self,
        runtime: Runtime,
        client: redis.Redis,
        name: str = "",
        queue: redis.Redis | None = None,
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.queue = queue
        self.name = name or published.process_name()
        self.watch = published.Watch()
        self.serving = self._serving(time.time())
        self.recorded = 0.0

    def _serving(self, loaded: float) -> published.Serving:
        runtime = self.runtime
        return published.Serving(
            "web", runtime.version, loaded, len(runtime.disk_problems), bool(runtime.last_good)
        )

    def start(self) -> None:
        """The first look: remember the published version, tell what this process serves."""
        now = time.monotonic()
        try:
            self.watch.changed(self.client, now, self.name, self.serving)
            self.recorded = now
        except redis.RedisError:
            self.watch.seen = None

    def check(self) -> None:
        """Reload when staff published a new version (looked at most once a second)."""
        now = time.monotonic()
        if not self.watch.due(now):
            return
        record = now - self.recorded >= published.RECORD_EVERY
        try:
            changed = self.watch.changed(
                self.client, now, self.name, self.serving if record else None
            )
        except redis.RedisError:
            return
        if record:
            self.recorded = now
        if changed:
            self.reload()

    def reload(self) -> None:
        """Load the flows on disk if they validate; report them to staff if they do not."""
        runtime = self.runtime
        before = set(map(str, runtime.disk_problems))
        files = runtime.files
        problems = runtime.reload()
        if runtime.disk_problems:
            if set(map(str, runtime.disk_problems)) != before:
                report(runtime, self.client, self.queue)
        else:
            log.info("published flows loaded: version %s (%d warning(s))", runtime.version,
                     len(problems))  # fmt: skip
        loaded = time.time() if runtime.files is not files else self.serving.loaded
        self.serving = self._serving(loaded)
        try:
            published.record_serving(self.client, self.name, self.serving)
        except redis.RedisError:
            pass  # written again within RECORD_EVERY s


def init_app(
    app: Flask, runtime: Runtime, client: redis.Redis, queue: redis.Redis | None = None
) -> None:
    """Report flows refused at start, and reload published versions before requests."""
    looker = Looker(runtime, client, queue=queue)
    looker.start()
    report(runtime, client, queue)

    @app.before_request
    def _published_flows() -> None:
        looker.check()
