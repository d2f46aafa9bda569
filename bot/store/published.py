"""Which flows version staff published, so every process of the service picks it up.

`bot flows reload` validates the flows on disk and, only when they validate, writes a new
version here; each web process looks at most once a second (`Watch.due`) and reloads from
its disk when the version changed, again only if the set validates there. A publish that
fails leaves its errors here for `/readyz` of every process, and each distinct set of
errors is told to staff once (`first_alert`). Nothing here names a person.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

import redis as redis_lib

from bot.store import keys

PUBLISHED_TTL = 90 * 24 * 3600
"""Seconds the published version is kept (renewed by every publish); a process that finds
none keeps what it serves."""
FAILED_TTL = 24 * 3600
"""Seconds the errors of a failed publish stay visible, unless a publish succeeds first."""
CHECK_EVERY = 1.0
"""Seconds between two looks at the published version in one process."""


def publish(client: redis_lib.Redis, version: str) -> None:
    """Announce `version` (a digest of the flow files) and clear any failed publish."""
    pipe = client.pipeline()
    pipe.set(keys.flows_published_key(), f"{version}:{time.time():.3f}", ex=PUBLISHED_TTL)
    pipe.delete(keys.flows_failed_key())
    pipe.execute()


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

    def changed(self, client: redis_lib.Redis, now: float) -> bool:
        """Look at the published version; True when it differs from the one seen before.

        The first look only remembers the version: the process loaded its flows at start.
        """
        self.checked = now
        raw = client.get(keys.flows_published_key())
        value = raw.decode() if isinstance(raw, bytes) else raw
        first = self.seen is None
        before, self.seen = self.seen, value or ""
        return not first and self.seen != before
