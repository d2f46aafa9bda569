"""Issue 16 items 1, 2 and 6: erasure that survives a crash, Redis crashes, Redis stalls."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
import zlib

from .harness import Sender, alive, kill9, scan_files, wait_for

UNAVAILABLE = "temporarily unavailable"
BUSY = "still being answered"


def _normal(reply) -> bool:
    text = " ".join(reply.texts)
    return reply.ok and bool(reply.texts) and UNAVAILABLE not in text


def _readable(value: bytes) -> bytes:
    """A value as stored, plus its zlib-inflated form (RQ compresses job data)."""
    for offset in range(min(len(value), 4)):
        try:
            return value + zlib.decompress(value[offset:])
        except zlib.error:
            continue
    return value


# --- item 1: FORGET survives a crash ------------------------------------------------------


def test_forget_is_not_undone_by_a_crash(harness, figures, tmp_path):
    fake = harness.fake_twilio()
    var = tmp_path / "var"
    run = harness.bot_run(
        var, **harness.twilio_env(fake, BOT_STAFF_WEBHOOK_URL=fake.url + "/staff")
    )
    port = run.redis_port()
    assert port, run.proc.output()
    from .harness import Redis

    db = Redis(port)
    sender, number = Sender(run.port), Sender.new_number()
    marker = "MARKER" + os.urandom(4).hex()
    for body in ("hi", "2", "3", "yes", "1", "4", marker):  # reminder, callback, echo
        assert _normal(sender.sms(body, number)), body
    state = [k for k in db.keys("bot:s:*")]
    assert len(state) == 1
    pseudonym = state[0].split(":", 2)[2].strip("{}")
    db.call("SAVE")  # a periodic snapshot taken while the person's data existed
    assert "erase" in " ".join(sender.sms("forget", number).texts).lower()
    confirmed = sender.sms("yes", number)
    assert _normal(confirmed)
    erased_at = time.monotonic()
    left_in_redis = [
        k for k, v in db.dump_all().items() if pseudonym in k or pseudonym.encode() in _readable(v)
    ]
    needles = [pseudonym.encode(), number.encode(), number.lstrip("+").encode(), marker.encode()]
    time.sleep(max(0.0, 5.0 - (time.monotonic() - erased_at)))
    in_files = scan_files(var, needles)
    # Crash: kill -9 the embedded Redis, then load what it left on disk in a fresh server.
    for pid in run.redis_pids():
        kill9(pid)
    wait_for(lambda: not run.redis_pids(), 5)
    copy = tmp_path / "reload"
    shutil.copytree(var / "redis", copy, ignore=shutil.ignore_patterns("*.pid", "*.sock"))
    aof = any(p.name.startswith("appendonly") for p in copy.rglob("*"))
    reloaded = harness.redis(copy, persist="aof" if aof else "rdb")
    back = [
        k
        for k, v in reloaded.client.dump_all().items()
        if pseudonym in k or any(n in _readable(v) for n in needles[1:] + needles[:1])
    ]
    figures(
        {
            "keys_left_in_redis_after_forget": len(left_in_redis),
            "examples_left": [k.split("{")[0][:60] for k in left_in_redis][:8],
            "files_holding_the_person_5s_after_forget": in_files,
            "keys_back_after_kill9_and_restart": len(back),
            "examples_back": [k.split("{")[0] for k in back][:8],
        }
    )
    assert not left_in_redis
    assert not in_files
    assert not back


def test_start_warns_about_redis_persistence(harness, figures, tmp_path):
    redis = harness.redis(persist="none")
    run = harness.bot_run(tmp_path / "var", redis_url=redis.url)
    time.sleep(1)
    lines = [
        line
        for line in run.proc.output().splitlines()
        if "persist" in line.lower() or "appendonly" in line.lower()
    ]
    figures({"persistence_lines_at_start": lines[:5]})
    assert lines


# --- item 2: a Redis crash ----------------------------------------------------------------


class Ticker:
    """Send one signed message per second from fresh senders in a thread; keep each result."""

    def __init__(self, port: int):
        self.sender = Sender(port)
        self.results: list[tuple[float, object]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            start = time.monotonic()
            reply = self.sender.sms("hi", Sender.new_number(), timeout=3)
            self.results.append((start, reply))
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - start)))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)

    def summary(self, since: float) -> dict:
        after = [(t - since, r) for t, r in self.results if t >= since]
        recovered = next((round(t, 2) for t, r in after if _normal(r)), None)
        return {
            "sent": len(after),
            "normal": sum(1 for _, r in after if _normal(r)),
            "unavailable": sum(1 for _, r in after if r.ok and not _normal(r)),
            "refused_or_5xx": sum(1 for _, r in after if not r.ok),
            "recovered_after_s": recovered,
        }


def test_bot_run_recovers_from_redis_kill9(harness, figures, tmp_path):
    run = harness.bot_run(tmp_path / "var")
    master, workers = run.gunicorn_master(), run.worker_pids()
    with Ticker(run.port) as ticker:
        time.sleep(2)
        killed_at = time.monotonic()
        for pid in run.redis_pids():
            kill9(pid)
        wait_for(lambda: any(t >= killed_at and _normal(r) for t, r in ticker.results), 20, 0.2)
        time.sleep(1)
    summary = ticker.summary(killed_at)
    figures(
        {
            **summary,
            "redis_restarted": bool(run.redis_pids()),
            "web_alive": bool(master and alive(master)),
            "worker_alive": any(alive(p) for p in workers) or bool(run.worker_pids()),
            "bot_run_alive": run.proc.alive(),
        }
    )
    assert summary["recovered_after_s"] is not None and summary["recovered_after_s"] <= 10
    assert master and alive(master)
    assert run.worker_pids()


OUTAGE = float(os.environ.get("FAULTS_OUTAGE_S", "60"))
"""Seconds Redis stays down: the promise covers 60 s (FAULTS_OUTAGE_S=15 for a quicker run)."""


def test_web_and_worker_survive_a_redis_outage(harness, figures):
    fake = harness.fake_twilio()
    redis = harness.redis(persist="rdb")
    env = harness.twilio_env(fake, BOT_PARTS_DELAY="0")
    web = harness.web(redis.url, **env)
    worker = harness.worker(redis.url, **env)
    wait_for(lambda: redis.client.keys("rq:worker:*"), 15)
    busy = threading.Event()

    def hook(record):  # Twilio is slow: the worker is mid-job when Redis dies
        busy.set()
        time.sleep(2)

    fake.hook = hook
    sender = Sender(web.port)
    number = Sender.new_number()
    assert _normal(sender.sms("hi", number)) and _normal(sender.sms("1", number))
    assert busy.wait(10), "the worker never started sending"
    redis.kill9()
    killed_at = time.monotonic()
    ok, worker_lasted = wait_for(lambda: not worker.alive(), OUTAGE, 0.1)
    time.sleep(max(0.0, OUTAGE - (time.monotonic() - killed_at)))
    fake.hook = None
    web_alive, worker_alive = web.proc.alive(), worker.alive()
    redis.restart()
    back_at = time.monotonic()
    ok, _ = wait_for(lambda: _normal(sender.sms("hi", Sender.new_number(), timeout=2)), 10, 0.5)
    figures(
        {
            "outage_s": OUTAGE,
            "web_alive": web_alive,
            "worker_alive": worker_alive,
            "worker_exited_after_s": round(worker_lasted, 2) if ok else None,
            "worker_alive_after_restart": worker.alive(),
            "normal_reply_after_restart_s": round(time.monotonic() - back_at, 2) if ok else None,
        }
    )
    assert web_alive and worker_alive and worker.alive() and ok


# --- item 6: a Redis stall ------------------------------------------------------------------


def test_redis_stall_answers_within_1s_and_leaves_no_lock(harness, figures):
    redis = harness.redis()
    web = harness.web(redis.url)
    sender = Sender(web.port)
    people = [Sender.new_number() for _ in range(5)]
    for number in people:
        assert _normal(sender.sms("hi", number))
    results: list = []

    def person(number):
        for _ in range(5):
            start = time.monotonic()
            results.append(sender.sms("4", number, timeout=5))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))

    redis.proc.signal(signal.SIGSTOP)
    threads = [threading.Thread(target=person, args=(n,), daemon=True) for n in people]
    try:
        for thread in threads:
            thread.start()
        time.sleep(5)
    finally:
        redis.proc.signal(signal.SIGCONT)
    for thread in threads:
        thread.join(15)
    time.sleep(0.2)
    locks = {k: redis.client.call("PTTL", k) for k in redis.client.keys("bot:l:*")}
    after = [sender.sms("0", n, timeout=5) for n in people]
    busy = sum(1 for r in after if BUSY in " ".join(r.texts))
    worst = max(r.seconds for r in results)
    figures(
        {
            "requests_during_stall": len(results),
            "answered": sum(1 for r in results if r.ok and r.texts),
            "slowest_answer_s": round(worst, 2),
            "over_1s": sum(1 for r in results if r.seconds > 1.0),
            "locks_left_after_stall": len(locks),
            "lock_ms_left": sorted(locks.values()),
            "busy_replies_after_stall": busy,
        }
    )
    assert all(r.ok and r.texts for r in results)
    assert worst <= 1.0
    assert not locks and busy == 0
