"""How the background side is doing, for the console's health page: workers, queues, jobs.

Reads RQ's own records (worker heartbeats, queue lengths, scheduled and failed registries)
on the queue Redis, and the persistence setting of the state Redis and, when it is another
(REDIS_QUEUE_URL), of the queue Redis; never a job's arguments, which may carry a number.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import redis as redis_lib
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from bot.jobs.queues import QUEUES
from bot.store.persistence import servers


@dataclass(frozen=True)
class QueueHealth:
    """One queue's waiting, scheduled and failed jobs."""

    name: str
    waiting: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class Health:
    """Redis, workers and queues at one moment."""

    redis_ok: bool
    redis_error: str = ""
    persistence: str = ""
    workers: int = 0
    last_heartbeat_age: float | None = None  # seconds since the freshest heartbeat
    queues: list[QueueHealth] = field(default_factory=list)


def _persistence(client: redis_lib.Redis) -> str:
    """RDB and AOF as Redis reports them (INFO persistence; CONFIG may be disabled)."""
    info = client.info("persistence")
    rdb = "RDB on" if info.get("rdb_last_save_time") and _saves(client) else "RDB off"
    aof = "AOF on" if int(info.get("aof_enabled", 0)) else "AOF off"
    return f"{rdb}, {aof}"


def _saves(client: redis_lib.Redis) -> bool:
    try:
        save = client.config_get("save").get("save", "")
    except redis_lib.ResponseError:  # CONFIG renamed or refused by a managed Redis
        return True
    return bool(str(save).strip())


def _seconds(when: dt.datetime) -> float:
    """RQ writes heartbeats in UTC, naive or aware depending on its version."""
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


def check(
    client: redis_lib.Redis, now: float | None = None, state: redis_lib.Redis | None = None
) -> Health:
    """What the health page shows; Redis errors are reported, not raised.

    `client` is the queue Redis, `state` the state Redis when it is another (on a Cluster,
    the persistence of its first primary is shown, and how many there are).
    """
    now = time.time() if now is None else now
    try:
        client.ping()
        persistence = _persistence(client)
        if state is not None and state is not client:
            state.ping()
            nodes = servers(state)
            many = f" ({len(nodes)} Cluster primaries)" if len(nodes) > 1 else ""
            persistence = f"state: {_persistence(nodes[0])}{many}; queues: {persistence}"
        workers = Worker.all(connection=client)
        beats = [_seconds(w.last_heartbeat) for w in workers if w.last_heartbeat]
        queues = []
        for name in QUEUES:
            queue = Queue(name, connection=client)
            queues.append(
                QueueHealth(
                    name,
                    queue.count,
                    ScheduledJobRegistry(queue=queue).count,
                    FailedJobRegistry(queue=queue).count,
                )
            )
    except redis_lib.RedisError as exc:
        return Health(False, redis_error=type(exc).__name__)
    age = now - max(beats) if beats else None
    return Health(True, "", persistence, len(workers), age, queues)
