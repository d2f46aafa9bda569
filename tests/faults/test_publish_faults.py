"""Issue 21, several hosts: `bot flows reload` reaches every web process on every host.

Two "hosts" on one machine: each has its own copy of the flows (BOT_FLOWS_DIR), its own
var directory (the last good set), a gunicorn instance (the Procfile's `web:` line, two
gevent workers) and a `bot worker`; one Redis. Staff edit a text in both copies and run
`bot flows reload` on host A while people write to both instances; then host B's copy
gets broken YAML as well as the next edit (issue 16 item 5 across hosts): host B keeps the
set it has, says so in /readyz and its log, and host A serves the new version.

Each web process writes the version it serves to `bot:flows:serving` (host:pid -> JSON,
with the time it loaded it): that, and the answers people get, are what is measured.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time

from .harness import BIN, TEST_FLOWS, Sender, concurrently, wait_for

BOUND = 5.0
"""Issue 21: every process serves a published version within 5 s."""
OLD, NEW, NEWER = "Fault suite flow.", "Edited flow.", "Edited again."
REMINDER, NEW_REMINDER = "Reminder: your appointment is today.", "Reminder: edited."
BROKEN = "  - id: [unclosed\n    type: message\n"
POSITION = re.compile(r"main\.yaml:\d+:\d+")
NO_LIMITS = {
    "BOT_PARTS_DELAY": "0",
    "BOT_RATE_LIMIT": "0",
    "BOT_LOOP_STREAK": "0",
    "BOT_NEW_PER_MINUTE": "0",
    "BOT_DAILY_SEGMENTS": "0",
    "BOT_SEGMENTS_PER_HOUR": "0",
}
"""Hundreds of new people a minute: the brakes on new conversations would answer them."""


class Host:
    """One host: its flows folder, var directory, web instance and worker."""

    def __init__(self, harness, root, name, redis, env):
        self.name = name
        self.flows = root / name / "flows"
        shutil.copytree(TEST_FLOWS, self.flows)
        self.edit(("after: 1h", "after: 2s"))  # reminders due at once, for the test
        self.env = dict(env, BOT_FLOWS_DIR=str(self.flows), BOT_VAR_DIR=str(root / name / "var"))
        self.redis = redis
        self.harness = harness
        self.web = harness.web(redis.url, **self.env)
        self.worker = harness.worker(redis.url, **self.env)
        self.sender = Sender(self.web.port)

    def edit(self, *changes: tuple[str, str], append: str = "") -> None:
        main = self.flows / "main.yaml"
        text = main.read_text()
        for old, new in changes:
            assert old in text, old
            text = text.replace(old, new)
        main.write_text(text + append)

    def bot(self, *args: str) -> tuple[int | None, str]:
        """`bot ARGS` run on this host (its flows, var directory, the shared Redis)."""
        proc = self.harness.spawn(
            "bot-" + args[-1],
            [str(BIN / "bot"), *args],
            self.harness.base_env(REDIS_URL=self.redis.url, **self.env),
        )
        assert proc.wait_exit(30) is not None, proc.output()
        return proc.popen.returncode, proc.output()

    def serving(self) -> dict[int, dict]:
        """pid -> what that gunicorn worker says it serves (bot:flows:serving)."""
        raw = self.redis.client.call("HGETALL", "bot:flows:serving") or []
        pids = set(self.web.workers())
        found = {}
        for name, value in zip(raw[::2], raw[1::2], strict=True):
            pid = int(name.decode().rpartition(":")[2])
            if pid in pids:
                found[pid] = json.loads(value)
        return found


def _published(redis) -> tuple[str, float]:
    raw = redis.client.call("GET", "bot:flows:published") or b""
    version, _, at = raw.decode().partition(":")
    return version, float(at or 0)


class Traffic(threading.Thread):
    """New people writing "hi" to every instance, two at a time each, until stopped."""

    def __init__(self, hosts):
        super().__init__(daemon=True)
        self.hosts = hosts
        self.answers: list[tuple[str, float, float, str]] = []  # host, sent, received, text
        self.stop = threading.Event()

    def run(self) -> None:
        def one(host):
            sent = time.time()
            reply = host.sender.sms("hi", Sender.new_number(), timeout=3)
            return host.name, sent, time.time(), (reply.texts or [""])[0]

        while not self.stop.is_set():
            self.answers += concurrently(one, [h for h in self.hosts for _ in range(2)])
            self.stop.wait(0.05)


def test_a_reload_reaches_every_web_process_on_every_host_and_a_broken_host_keeps_its_set(
    harness, figures, tmp_path
):
    fake = harness.fake_twilio()
    redis = harness.redis()
    env = harness.twilio_env(fake, **NO_LIMITS)
    a, b = (Host(harness, tmp_path, name, redis, env) for name in ("a", "b"))
    hosts = (a, b)
    ok, _ = wait_for(lambda: all(len(h.serving()) == 2 for h in hosts), 20, 0.2)
    assert ok, "each gunicorn worker writes what it serves at start"
    [start_version] = {s["version"] for h in hosts for s in h.serving().values()}

    # 1. The same edit on both hosts, published from host A under traffic.
    for host in hosts:
        host.edit((OLD, NEW), (REMINDER, NEW_REMINDER))
    traffic = Traffic(hosts)
    traffic.start()
    time.sleep(1.5)
    code, output = a.bot("flows", "reload")
    assert code == 0, output
    version, at = _published(redis)

    def all_new():
        return all(
            {s["version"] for s in h.serving().values()} == {version} and len(h.serving()) == 2
            for h in hosts
        )

    ok, _ = wait_for(all_new, 10, 0.05)
    time.sleep(1.0)
    traffic.stop.set()
    traffic.join(10)
    assert ok, {h.name: h.serving() for h in hosts}
    loaded = {f"{h.name}:{pid}": s["loaded"] - at for h in hosts for pid, s in h.serving().items()}
    old_after = [r - at for _, _, r, text in traffic.answers if OLD in text and r > at]
    new_first = {
        h.name: min(r - at for n, _, r, text in traffic.answers if n == h.name and NEW in text)
        for h in hosts
    }
    unanswered = sum(1 for *_, text in traffic.answers if OLD not in text and NEW not in text)

    # Every worker sends reminders with the new text (written at the turn, after the publish).
    people = {}
    for host in hosts:
        for _ in range(2):
            number = Sender.new_number()
            assert NEW in host.sender.sms("hi", number).texts[0]
            host.sender.sms("2", number)
            people[number] = host.name
    ok, reminder_s = wait_for(
        lambda: all(fake.accepted_to(n) for n in people), 30, 0.2
    )  # fmt: skip
    reminders = [t for n in people for t in fake.accepted_to(n)]

    # 2. Host B's copy gets the next edit and broken YAML; host A only the edit.
    for host in hosts:
        host.edit((NEW, NEWER))
    b.edit(append=BROKEN)
    time.sleep(1.1)  # every process idle for longer than a look's interval
    code, output = a.bot("flows", "reload")
    assert code == 0, output
    newer, _ = _published(redis)
    first = {h.name: [h.sender.sms("hi", Sender.new_number()).texts[0] for _ in range(6)]
             for h in hosts}  # fmt: skip
    ok_b, _ = wait_for(lambda: all(s["refused"] for s in b.serving().values()), BOUND, 0.1)
    _, readyz_b = b.web.get("/readyz")
    _, readyz_a = a.web.get("/readyz")
    status_code, status = b.bot("flows", "status")
    log_b = b.web.proc.output()

    result = {
        "web_processes": 4,
        "workers": 2,
        "reload_to_every_process_loaded_s": round(max(loaded.values()), 3),
        "reload_to_each_process_loaded_s": {k: round(v, 3) for k, v in sorted(loaded.items())},
        "first_new_answer_s": {k: round(v, 3) for k, v in new_first.items()},
        "old_answers_after_publish": len(old_after),
        "last_old_answer_s": round(max(old_after), 3) if old_after else None,
        "answers_under_traffic": len(traffic.answers),
        "answers_neither_text": unanswered,
        "reminders_with_new_text": sum(NEW_REMINDER in t for t in reminders),
        "reminders_with_old_text": sum(REMINDER in t for t in reminders),
        "reminders_sent_within_s": round(reminder_s, 2),
        "after_idle_host_a_new_answers_of_6": sum(NEWER in t for t in first["a"]),
        "broken_host_b_kept_answers_of_6": sum(NEW in t for t in first["b"]),
        "broken_host_b_processes_refusing": sum(bool(s["refused"]) for s in b.serving().values()),
        "host_b_logs_file_line_col": bool(POSITION.search(log_b)),
        "host_b_readyz_says_not_published": "does not serve the published version" in readyz_b,
        "bot_flows_status_exit": status_code,
    }
    figures(result)
    assert start_version != version != newer
    assert max(loaded.values()) <= BOUND
    assert not old_after or max(old_after) <= BOUND
    assert unanswered == 0
    assert ok and result["reminders_with_new_text"] == len(people) == len(reminders)
    assert result["after_idle_host_a_new_answers_of_6"] == 6, first["a"]
    assert {s["version"] for s in a.serving().values()} == {newer}
    assert result["broken_host_b_kept_answers_of_6"] == 6, first["b"]
    assert ok_b and {s["version"] for s in b.serving().values()} == {version}
    assert result["host_b_logs_file_line_col"]
    assert f"published version {newer}" in readyz_b and POSITION.search(readyz_b), readyz_b
    assert "does not serve" not in readyz_a, readyz_a
    assert status_code == 1, status
    assert status.count("does NOT serve the published version") == 2, status
    assert all(h.web.proc.alive() and h.worker.alive() for h in hosts)
