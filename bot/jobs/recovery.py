"""What a dead worker leaves in Redis, cleared when a worker starts, so due work goes on.

A worker killed outright (kill -9, a crash, the machine's OOM killer) cannot tell Redis:

- its scheduler's lock (`rq:scheduler-lock:<queue>`) stays for a minute, and a new worker
  only tries to take it at its maintenance tasks (RQ's default: every 10 minutes), so due
  parts of replies and reminders waited about 14 minutes;
- the job it was running stays "started" until its execution's heartbeat expires (about
  90 s), and only then is it retried.

`recover` runs before a worker starts. A worker or scheduler counts as dead when it ran on
this machine (same host name) and its process is gone, or when this process made it and
replaced it (`gone`, a worker that lost Redis); a scheduler lock whose holder has no
heartbeat record is released too. Workers on other machines are never
touched: their locks and jobs expire by RQ's own rules. Each abandoned job is handed to
RQ's own clean-up (StartedJobRegistry.cleanup), which retries it when it has retries left.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable

import redis as redis_lib
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError, SchedulerNotFound
from rq.executions import Execution
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler

log = logging.getLogger(__name__)

FORGET_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
"""KEYS: a scheduler lock. ARGV: the dead holder's name. Deletes it only if still theirs."""


def _gone(pid: int) -> bool:
    """True when no living process has this pid on this machine (a zombie is dead: killed
    with its parent, it may wait for a reaper that never comes)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("Z", "X")


def dead_workers(connection: redis_lib.Redis, gone: Iterable[str] = ()) -> list[Worker]:
    """Workers registered in Redis that ran here and whose process is gone, plus `gone`."""
    here = socket.gethostname()
    replaced = set(gone)
    dead = []
    for worker in Worker.all(connection=connection):
        if worker.name in replaced or (
            worker.hostname == here and worker.pid and _gone(int(worker.pid))
        ):
            dead.append(worker)
    return dead


def release_scheduler_locks(connection: redis_lib.Redis, queues: Iterable[str]) -> int:
    """Delete scheduler locks whose holder ran here and is gone; returns how many."""
    here = socket.gethostname()
    script = connection.register_script(FORGET_LOCK)
    released = 0
    for name in queues:
        key = RQScheduler.get_locking_key(name)
        holder = connection.get(key)
        if not holder:
            continue
        holder_name = holder.decode() if isinstance(holder, bytes) else str(holder)
        try:
            scheduler = RQScheduler.fetch(holder_name, connection)
        except SchedulerNotFound:
            # No heartbeat record: its scheduler died and said so, or its record expired
            # (a Redis restarted from older files). A live one writes it as it starts.
            released += int(script(keys=[key], args=[holder_name]))
            continue
        if scheduler.hostname == here and scheduler.pid and _gone(int(scheduler.pid)):
            released += int(script(keys=[key], args=[holder_name]))
            connection.delete(scheduler.key)
    return released


def requeue_abandoned(connection: redis_lib.Redis, queues: Iterable[str], dead: set[str]) -> int:
    """Jobs the `dead` workers were running: expired now, so RQ retries or fails them."""
    abandoned = 0
    for name in queues:
        queue = Queue(name, connection=connection)
        registry = StartedJobRegistry(queue=queue)
        expire = {}
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                execution = Execution.fetch(execution_id, job_id, connection)
            except (NoSuchJobError, ValueError):
                continue
            if execution.worker_name in dead:
                expire[execution.composite_key] = 0
        if expire:
            connection.zadd(registry.key, expire, xx=True)
            registry.cleanup()
            abandoned += len(expire)
    return abandoned


def recover(connection: redis_lib.Redis, queues: Iterable[str], gone: Iterable[str] = ()) -> None:
    """Before a worker starts: free dead schedulers' locks, retry dead workers' jobs."""
    names = tuple(queues)
    dead = dead_workers(connection, gone)
    released = release_scheduler_locks(connection, names)
    abandoned = requeue_abandoned(connection, names, {w.name for w in dead})
    for worker in dead:
        worker.register_death()
    if dead or released or abandoned:
        log.warning(
            "recovered after a dead worker: %d worker(s), %d scheduler lock(s), %d job(s)",
            len(dead),
            released,
            abandoned,
        )
