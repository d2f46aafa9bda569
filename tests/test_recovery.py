"""What a dead worker left, cleared before a worker starts (bot.jobs.recovery), on a real Redis.

The fault suite kills a real `bot worker` with kill -9 and times the recovery
(tests/faults/test_jobs_faults.py); these tests pin each rule with RQ's own records: only
workers and schedulers of this machine whose process is gone count as dead, never another
machine's, and a dead worker's started job is handed back to RQ.
"""

from __future__ import annotations

import socket
import subprocess

from rq import Queue, Worker
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler

from bot.jobs import recovery


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _worker(redis, name: str, **fields) -> Worker:
    worker = Worker([Queue("default", connection=redis)], connection=redis, name=name)
    worker.register_birth()
    if fields:
        redis.hset(worker.key, mapping=fields)
    return worker


def test_only_this_machines_workers_with_no_process_are_dead(redis):
    _worker(redis, "dead-here", pid=_dead_pid())
    _worker(redis, "alive-here")  # this test's own process
    _worker(redis, "elsewhere", hostname="another-" + socket.gethostname(), pid=_dead_pid())
    assert [w.name for w in recovery.dead_workers(redis)] == ["dead-here"]
    assert {w.name for w in recovery.dead_workers(redis, gone=["alive-here"])} == {
        "dead-here",
        "alive-here",
    }
    recovery.recover(redis, ["default"])
    assert {w.name for w in Worker.all(connection=redis)} == {"alive-here", "elsewhere"}


def test_scheduler_locks_of_dead_or_unknown_holders_are_released(redis):
    key = RQScheduler.get_locking_key("default")
    redis.set(key, "ghost")  # no heartbeat record at all
    assert recovery.release_scheduler_locks(redis, ["default"]) == 1
    assert not redis.exists(key)

    live = RQScheduler(["default"], connection=redis, name="live")
    live.register_birth()  # this process
    redis.set(key, "live")
    assert recovery.release_scheduler_locks(redis, ["default"]) == 0
    assert redis.get(key) == b"live"

    dead = RQScheduler(["default"], connection=redis, name="dead")
    dead.register_birth()
    redis.hset(dead.key, "pid", _dead_pid())
    redis.set(key, "dead")
    assert recovery.release_scheduler_locks(redis, ["default"]) == 1
    assert not redis.exists(key) and not redis.exists(dead.key)

    elsewhere = RQScheduler(["default"], connection=redis, name="elsewhere")
    elsewhere.register_birth()
    redis.hset(elsewhere.key, mapping={"hostname": "another-host", "pid": _dead_pid()})
    redis.set(key, "elsewhere")
    assert recovery.release_scheduler_locks(redis, ["default"]) == 0


def test_a_dead_workers_started_job_goes_back_to_rq(redis):
    queue = Queue("default", connection=redis)
    job = queue.enqueue("builtins.print", "never run")
    worker = _worker(redis, "killed")
    dequeued, _queue = Queue.dequeue_any([queue], timeout=None, connection=redis)
    assert dequeued.id == job.id
    worker.prepare_execution(dequeued)
    worker.prepare_job_execution(dequeued)
    assert job.id in StartedJobRegistry(queue=queue).get_job_ids()
    redis.hset(worker.key, "pid", _dead_pid())

    recovery.recover(redis, ["default"])

    assert job.id not in StartedJobRegistry(queue=queue).get_job_ids()
    assert job.id in FailedJobRegistry(queue=queue).get_job_ids()  # no retries left: failed
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert "killed" not in {w.name for w in Worker.all(connection=redis)}


def test_a_live_workers_started_job_is_left_alone(redis):
    queue = Queue("default", connection=redis)
    job = queue.enqueue("builtins.print", "running")
    worker = _worker(redis, "working")  # alive: this process
    dequeued, _queue = Queue.dequeue_any([queue], timeout=None, connection=redis)
    worker.prepare_execution(dequeued)
    worker.prepare_job_execution(dequeued)
    recovery.recover(redis, ["default"])
    assert job.id in StartedJobRegistry(queue=queue).get_job_ids()
