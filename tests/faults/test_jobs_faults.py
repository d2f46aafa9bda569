"""Issue 16 items 3 and 4: due jobs after a worker or Redis restart; a worker killed mid-send.

The flow's menu option 1 answers with a reply too long for one SMS: the first part goes in
the TwiML answer, the others are sent by a job due `BOT_PARTS_DELAY` later (RQ's scheduler).
"""

from __future__ import annotations

import collections
import time

from .harness import Sender, kill9, wait_for, worker_processes

DUE_BOUND = 30.0
"""Issue 16 item 3: due jobs run within 30 s after a restart."""
WAIT = 40.0
"""How long the tests wait for a due job before calling it stuck."""


def _registered(redis) -> bool:
    """The worker is up and its scheduler holds its lock."""
    return bool(redis.keys("rq:worker:*")) and bool(redis.keys("rq:scheduler-lock:*"))


def _start(harness, persist="none", delay="2s"):
    fake = harness.fake_twilio()
    redis = harness.redis(persist=persist)
    env = harness.twilio_env(fake, BOT_PARTS_DELAY=delay)
    web = harness.web(redis.url, **env)
    worker = harness.worker(redis.url, **env)
    ok, _ = wait_for(lambda: _registered(redis.client), 20)
    assert ok, worker.output()[-2000:]
    return fake, redis, web, worker, env


def _long_reply(sender: Sender, number: str) -> None:
    assert sender.sms("hi", number).ok
    reply = sender.sms("1", number)
    assert reply.ok and reply.texts, reply


def _kill_tree(proc) -> list[int]:
    pids = proc.tree()
    for pid in pids:
        kill9(pid)
    proc.wait_exit(5)
    return pids


def test_due_jobs_run_after_worker_kill_and_restart(harness, figures):
    fake, redis, web, worker, env = _start(harness)
    _kill_tree(worker)
    again = harness.worker(redis.url, **env)
    restarted = time.monotonic()
    sender, number = Sender(web.port), Sender.new_number()
    _long_reply(sender, number)
    sent, _ = wait_for(lambda: len(fake.accepted_to(number)) >= 2, WAIT, 0.2)
    seconds = time.monotonic() - restarted
    figures(
        {
            "parts_sent": len(fake.accepted_to(number)),
            "seconds_after_restart": round(seconds, 2),
            "due_after_restart_s": 2.0,
            "bound_s": DUE_BOUND,
            "waited_up_to_s": WAIT,
        }
    )
    assert sent and seconds <= DUE_BOUND, (
        f"scheduled: {redis.client.keys('rq:scheduled:*')}, locks: "
        f"{redis.client.keys('rq:scheduler-lock:*')}\n--- worker after the restart:\n"
        f"{again.output()[-3000:]}\n--- web:\n{web.proc.output()[-2000:]}"
    )


def test_due_jobs_run_after_redis_restart(harness, figures):
    fake, redis, web, worker, env = _start(harness, persist="rdb")
    redis.client.call("SAVE")  # the last snapshot holds the scheduler's lock and the worker
    redis.kill9()
    redis.restart()
    restarted = time.monotonic()
    time.sleep(2)
    worker_survived = worker.alive()
    if not worker_survived:  # as a process manager would: start it again
        harness.worker(redis.url, **env)
    sender, number = Sender(web.port), Sender.new_number()
    _long_reply(sender, number)
    sent, _ = wait_for(lambda: len(fake.accepted_to(number)) >= 2, WAIT, 0.2)
    seconds = time.monotonic() - restarted
    figures(
        {
            "worker_survived_redis_restart": worker_survived,
            "parts_sent": len(fake.accepted_to(number)),
            "seconds_after_restart": round(seconds, 2),
            "bound_s": DUE_BOUND,
        }
    )
    assert sent and seconds <= DUE_BOUND


def test_worker_killed_between_parts_sends_each_remaining_part_once(harness, figures):
    fake, redis, web, worker, env = _start(harness, delay="0")
    sender = Sender(web.port)
    control = Sender.new_number()
    _long_reply(sender, control)
    ok, _ = wait_for(lambda: len(fake.accepted_to(control)) >= 2, 15, 0.1)
    assert ok, "the long reply needs at least two parts sent by the worker"
    time.sleep(1)
    expected = collections.Counter(fake.accepted_to(control))

    victim = Sender.new_number()
    killed: list[int] = []
    seen = collections.Counter()

    def hook(record):
        if not record.form.get("To", "").endswith(victim):
            return None
        seen["n"] += 1
        if seen["n"] == 2 and not killed:  # the first REST part went out; die before the next
            killed.extend(pid for pid in worker.tree())
            for pid in killed:
                kill9(pid)
            return "drop"
        return None

    fake.hook = hook
    _long_reply(sender, victim)
    ok, _ = wait_for(lambda: killed, 15, 0.05)
    assert ok, "the worker never started the second part"
    worker.wait_exit(5)
    fake.hook = None
    harness.worker(redis.url, **env)
    restarted = time.monotonic()
    done, _ = wait_for(lambda: collections.Counter(fake.accepted_to(victim)) == expected, WAIT, 0.2)
    if done:
        time.sleep(3)  # a duplicate would come now
    got = collections.Counter(fake.accepted_to(victim))
    figures(
        {
            "parts_expected": sum(expected.values()),
            "parts_sent": sum(got.values()),
            "parts_lost": sum((expected - got).values()),
            "parts_duplicated": sum((got - expected).values()),
            "seconds_to_complete_after_restart": round(time.monotonic() - restarted, 2)
            if done
            else None,
            "workers_alive": len(worker_processes(harness.procs[-1].pid)),
        }
    )
    assert got == expected
