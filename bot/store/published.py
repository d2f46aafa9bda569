"""Which flows version staff published, so every process of the service picks it up.

`bot flows reload` validates the flows on disk and, only when they validate, writes a new
version here; each web process looks at most once a second (`Watch.due`) and reloads from
its disk when the version changed, again only if the set validates there. A publish that
fails leaves its errors here for `/readyz` of every process, and each distinct set of
errors is told to staff once (`first_alert`). With its looks a process also writes the
version it serves (`Serving`, one field per process in one hash), which `bot flows status`
lists. Nothing here names a person: a process is named by its host name and pid.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass

import redis as redis_lib

from bot.store import keys

PUBLISHED_TTL = 90 * 24 * 3600
"""Seconds the published version is kept (renewed by every publish); a process that finds
none keeps what it serves."""
FAILED_TTL = 24 * 3600
"""Seconds the errors of a failed publish stay visible, unless a publish succeeds first."""
CHECK_EVERY = 1.0
"""Seconds between two looks at the published version in one process."""
RECORD_EVERY = 10.0
"""Seconds between two writes of what a process serves, when it did not change (a write
also goes with each change); the looks in between are one GET."""
SERVING_TTL = 24 * 3600
"""Seconds a process's line in `bot flows status` outlives its last look (a process looks
only while it answers requests, /readyz included); renewed by every look."""


def publish(client: redis_lib.Redis, version: str) -> None:
    """Announce `version` (a digest of the flow files) and clear any failed publish."""
    pipe = client.pipeline()
    pipe.set(keys.flows_published_key(), f"{version}:{time.time():.3f}", ex=PUBLISHED_TTL)
    pipe.delete(keys.flows_failed_key())
    pipe.execute()


def version_of(raw: bytes | str | None) -> tuple[str, float]:
    """(version, when published as a Unix time) of the stored value; ("", 0.0) when none."""
    value = raw.decode() if isinstance(raw, bytes) else (raw or "")
    version, _, at = value.partition(":")
    try:
        return version, float(at)
    except ValueError:
        return version, 0.0


def current(client: redis_lib.Redis) -> tuple[str, float]:
    """(version, when) of the last publish; ("", 0.0) when nothing was published."""
    return version_of(client.get(keys.flows_published_key()))


def process_name() -> str:
    """This process in `bot flows status`: host name and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Serving:
    """What one process serves, as `bot flows status` shows it."""

    kind: str
    """"web" (the only kind that holds flows: workers send texts rendered at the turn)."""
    version: str
    """bot.core.snapshot.version of the set it serves."""
    loaded: float
    """Unix time it loaded that set."""
    refused: int = 0
    """Errors of the flows on its disk that kept them out (0 when it serves its disk)."""
    last_good: bool = False
    """Whether it serves the last good set kept in the var directory (disk broken at start)."""
    looked: float = 0.0
    """Unix time it last wrote this (at a look, at most RECORD_EVERY s apart while it answers
    requests, and at each change)."""


def record_serving(client: redis_lib.Redis, name: str, serving: Serving) -> None:
    """Write what process `name` serves (its look time is now)."""
    pipe = client.pipeline(transaction=False)
    _write_serving(pipe, name, serving)
    pipe.execute()


def _write_serving(pipe, name: str, serving: Serving) -> None:
    serving.looked = time.time()
    pipe.hset(keys.flows_serving_key(), name, json.dumps(asdict(serving)))
    pipe.expire(keys.flows_serving_key(), SERVING_TTL)


def processes(client: redis_lib.Redis, now: float | None = None) -> dict[str, Serving]:
    """Every process heard from within SERVING_TTL, by name; older lines are deleted."""
    now = time.time() if now is None else now
    found, stale = {}, []
    for raw_name, raw in client.hgetall(keys.flows_serving_key()).items():
        name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
        try:
            serving = Serving(**json.loads(raw))
        except (ValueError, TypeError):
            stale.append(name)
            continue
        if now - serving.looked > SERVING_TTL:
            stale.append(name)
        else:
            found[name] = serving
    if stale:
        client.hdel(keys.flows_serving_key(), *stale)
    return dict(sorted(found.items()))


def record_failure(client: redis_lib.Redis, lines: list[str]) -> None:
    """Keep the errors of a publish that did not validate, for /readyz."""
    client.set(keys.flows_failed_key(), json.dumps(lines), ex=FAILED_TTL)


def failure(client: redis_lib.Redis) -> list[str]:
    """The errors of the last failed publish, or [] when the last publish succeeded."""
    raw = client.get(keys.flows_failed_key())
    if not raw:
        return []
    try:
        lines = json.loads(raw)
    except ValueError:
        return []
    return [str(line) for line in lines] if isinstance(lines, list) else []


def first_alert(client: redis_lib.Redis, lines: list[str]) -> bool:
    """True for the first process to see this set of errors (within FAILED_TTL)."""
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return bool(client.set(keys.flows_alert_key(digest), "1", nx=True, ex=FAILED_TTL))


@dataclass
class Watch:
    """One process's view of the published version, looked at most every CHECK_EVERY s."""

    seen: str | None = None
    checked: float = 0.0

    def due(self, now: float) -> bool:
        """Whether it is time to look again."""
        return now - self.checked >= CHECK_EVERY

    def changed(
        self, client: redis_lib.Redis, now: float, name: str = "", serving: Serving | None = None
    ) -> bool:
        """Look at the published version; True when it differs from the one seen before.

        The first look only remembers the version: the process loaded its flows at start.
        With `name` and `serving`, what this process serves is written in the same round
        trip (record_serving).
        """
        self.checked = now
        if serving is None:
            raw = client.get(keys.flows_published_key())
        else:
            pipe = client.pipeline(transaction=False)
            pipe.get(keys.flows_published_key())
            _write_serving(pipe, name, serving)
            raw = pipe.execute()[0]
        value = raw.decode() if isinstance(raw, bytes) else raw
        first = self.seen is None
        before, self.seen = self.seen, value or ""
        return not first and self.seen != before
