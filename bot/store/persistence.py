"""What Redis keeps on disk, and making an erasure reach those files.

FORGET deletes a person's keys, but a Redis that persists still holds them in its files: an
append-only file (AOF) keeps the commands that wrote them until it is rewritten, and an
RDB snapshot keeps the values until the next snapshot. So after an erasure
`after_erasure` asks Redis for a rewrite of the AOF (BGREWRITEAOF) and, when snapshots are
taken, a fresh one (BGSAVE): once they finish (well within a second on a small
database) no file holds the erased values. `check` says at start whether the configured
Redis can keep the service's promises: keep data across a restart, and erase from disk.

What an operator of an external Redis should set: `appendonly yes`, `appendfsync
everysec` and `save ""` (no RDB snapshots), and allow CONFIG GET, BGREWRITEAOF and BGSAVE
to the service's user.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from redis.cluster import RedisCluster

log = logging.getLogger(__name__)

RETRY_FOR = 10.0
"""Seconds `after_erasure` keeps asking while a rewrite or snapshot is already running
(it started before the erasure, so it may hold the erased values: another must follow)."""
ADVICE = 'set `appendonly yes`, `appendfsync everysec` and `save ""` on that Redis'
"""The fix the warnings suggest."""


def check(client: redis.Redis) -> list[tuple[str, str]]:
    """(level, message) pairs about the persistence of `client`'s Redis; level is
    "info" when it keeps the promises, "warning" when it cannot or it cannot be checked."""
    try:
        config = {**client.config_get("appendonly"), **client.config_get("save")}
        config.update(client.config_get("appendfsync"))
    except redis.ResponseError as exc:
        return [
            (
                "warning",
                "Redis persistence cannot be checked (CONFIG GET refused: "
                f"{str(exc)[:60]}): make sure it uses an append-only file, or a restart "
                f"may lose conversations and an erasure may stay in its files; {ADVICE}",
            )
        ]
    aof = str(config.get("appendonly", "")).lower() == "yes"
    save = str(config.get("save", "")).strip()
    fsync = str(config.get("appendfsync", ""))
    if not aof and not save:
        return [
            (
                "warning",
                "Redis persists nothing (appendonly no, no save rules): a restart loses "
                f"every conversation, reminder and callback request; {ADVICE}",
            )
        ]
    if not aof:
        return [
            (
                "warning",
                f"Redis persists by RDB snapshots only (save {save}): a crash loses what "
                "changed since the last snapshot; erasures are followed by a fresh snapshot "
                f"(BGSAVE), a heavy write on a large database; {ADVICE}",
            )
        ]
    notes = [
        (
            "info",
            f"Redis persistence: append-only file (appendfsync {fsync}); erasures are "
            "followed by a rewrite (BGREWRITEAOF)",
        )
    ]
    if fsync == "no":
        notes.append(("warning", f"Redis appendfsync no: a crash may lose more; {ADVICE}"))
    if save:
        notes.append(
            (
                "warning",
                f"Redis also takes RDB snapshots (save {save}): each erasure is followed by "
                f"a fresh snapshot as well; {ADVICE}",
            )
        )
    return notes


def _snapshot_taken(client: redis.Redis, info: dict) -> bool:
    """True when this Redis has written an RDB snapshot since it started (SAVE or rules)."""
    try:
        uptime = int(client.info("server").get("uptime_in_seconds", 0))
        now = int(client.time()[0])
    except redis.RedisError:
        return False
    return int(info.get("rdb_last_save_time", 0)) > now - uptime


def _ask(client: redis.Redis, command: str) -> bool:
    """Run BGREWRITEAOF or BGSAVE; False while one is already running (ask again later)."""
    try:
        client.execute_command(*command.split())
        return True
    except redis.ResponseError as exc:
        if any(word in str(exc).lower() for word in ("progress", "active")):
            return False
        log.warning("%s after an erasure refused: %s", command, str(exc)[:80])
        return True


def rewrite_files(client: redis.Redis) -> list[str]:
    """Rewrite what Redis keeps on disk so deleted keys leave it; returns what was asked.

    Waits (up to RETRY_FOR) while a rewrite or snapshot that began earlier runs.
    """
    try:
        info = client.info("persistence")
        rules = str(client.config_get("save").get("save", "")).strip()
    except redis.ResponseError:
        rules = ""
    except redis.RedisError as exc:
        log.warning("no rewrite after an erasure: %s", type(exc).__name__)
        return []
    todo = []
    if int(info.get("aof_enabled", 0)):
        todo.append("BGREWRITEAOF")
    if rules or _snapshot_taken(client, info):
        todo.append("BGSAVE SCHEDULE")  # runs once a running rewrite has finished
    deadline = time.monotonic() + RETRY_FOR
    done: list[str] = []
    while todo and time.monotonic() < deadline:
        try:
            for command in list(todo):
                if _ask(client, command):
                    todo.remove(command)
                    done.append(command)
        except redis.RedisError as exc:
            log.warning("rewrite after an erasure failed: %s", type(exc).__name__)
            return done
        if todo:
            time.sleep(0.2)
    if todo:
        log.warning("after an erasure, %s could not start in time", ", ".join(todo))
    return done


def servers(client: redis.Redis) -> list[redis.Redis]:
    """The servers behind `client`: itself, or each primary of a Redis Cluster."""
    if isinstance(client, RedisCluster):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def after_erasure(client: redis.Redis) -> threading.Thread:
    """`rewrite_files` in a background thread, so the person's answer does not wait; on a
    Cluster, on every primary (the person's keys are on one, the counters elsewhere)."""

    def run() -> None:
        for server in servers(client):
            rewrite_files(server)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
