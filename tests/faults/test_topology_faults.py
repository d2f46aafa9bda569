"""Issue 21: Redis Sentinel failover under a running conversation; two web and two workers.

Real servers on free ports: a master, a replica and three Sentinels (`redis-server
--sentinel`), the Procfile's `web:` and `worker:` lines with REDIS_SENTINELS set. A person
writes every 200 ms through the flow's echo ("4", then a word the flow repeats), so every
answer shows whether the state written by the message before it survived: an echo of the
wrong word, or the menu instead of "Say something.", is an acknowledged message lost.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from .harness import SHIPPED_FLOWS, Redis, Sender, free_port, redis_binary, wait_for

MASTER = "bot"
INTERVAL = 0.2
"""Seconds between two messages of the conversation (issue 21)."""
RECOVERY_BOUND = 10.0
"""Issue 21: normal answers again within 10 s of a failover."""
UNAVAILABLE = "temporarily unavailable"
REPLICAS = int(os.environ.get("SENTINEL_REPLICAS", "1"))
"""Replicas of the master (issue 21: one); SENTINEL_REPLICAS=2 measures two."""
NO_LIMITS = {"BOT_PARTS_DELAY": "0", "BOT_RATE_LIMIT": "0", "BOT_LOOP_STREAK": "0"}
"""One message every 200 ms is faster than a person: the limits would refuse it."""


class Sentinels:
    """A master, a replica and three Sentinels watching them."""

    def __init__(self, harness, root: Path, replicas: int = REPLICAS):
        self.harness = harness
        self.master = harness.redis(data_dir=root / "master")
        self.replicas = [
            harness.redis(
                data_dir=root / f"replica-{n}",
                extra=("--replicaof", "127.0.0.1", str(self.master.port)),
            )
            for n in range(replicas)
        ]
        self.replica_count = replicas
        self.ports = []
        for n in range(3):
            folder = root / f"sentinel-{n}"
            folder.mkdir(parents=True)
            port = free_port()
            conf = folder / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile {folder}/sentinel.log\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 5000\n"
            )
            harness.spawn("sentinel", [redis_binary(), str(conf), "--sentinel"],
                          harness.base_env(), cwd=folder)  # fmt: skip
            self.ports.append(port)
        ok, _ = wait_for(self._watching, 20, 0.2)
        assert ok, "the Sentinels did not find the replica and each other"

    def _watching(self) -> bool:
        for port in self.ports:
            sentinel = Redis(port)
            if len(sentinel.call("SENTINEL", "REPLICAS", MASTER)) < self.replica_count:
                return False
            if len(sentinel.call("SENTINEL", "SENTINELS", MASTER)) < 2:
                return False
        return True

    @property
    def setting(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def env(self) -> dict[str, str]:
        return {"REDIS_SENTINELS": self.setting, "REDIS_SENTINEL_MASTER": MASTER}

    def master_port(self) -> int:
        _host, port = Redis(self.ports[0]).call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
        return int(port)


PROMPT = "Say something. (Last: {})"
"""The echo's prompt names the answer stored before it ("..." before the first)."""


def _expected(state: tuple[str, str], body: str) -> tuple[tuple[str, str], str]:
    """The person's state after `body`, and the text its answer must hold.

    A state is (node, last word): at "menu", "4" opens the echo, whose prompt shows the
    last word stored; at "echo", any text is stored and said back, then the menu.
    """
    node, last = state
    if node == "echo":
        return ("menu", body), f"You said: {body}"
    if body == "4":
        return ("echo", last), PROMPT.format(last)
    return state, "did not understand"


def _observed(text: str) -> tuple[str, str] | None:
    """The state an answer shows, read back from its text (None: it shows none)."""
    if "Say something. (Last: " in text:
        return "echo", text.split("(Last: ", 1)[1].split(")", 1)[0]
    if "You said: " in text:
        return "menu", text.split("You said: ", 1)[1].split("\n", 1)[0]
    return None


def converse(sender: Sender, number: str, seconds: float, during=None, at: float = 2.0):
    """Echo exchanges every INTERVAL for `seconds`, then one more; `during()` runs once at `at` s.

    Every answer is checked against the state the acknowledged messages before it left:
    the prompt names the word stored last, the echo repeats the word just sent, so any
    acknowledged message whose state is missing later shows. A message answered
    "unavailable" may or may not have been written: both states stay possible until the
    next answer tells. Returns per message (time sent, kind): "normal" (an answer that
    matches a possible state), "unavailable", "busy", "error" (no HTTP answer) or "lost"
    (the answer shows an acknowledged message's state missing; the check goes on from the
    state the answer shows).
    """
    assert sender.sms("hi", number).ok  # the welcome and the menu
    start = time.monotonic()
    results, possible, word, done, last_round = [], [("menu", "...")], 0, False, False
    stored, gone = [("menu", "...")], 0  # the states acknowledged messages left, in order
    while not last_round:
        last_round = time.monotonic() - start >= seconds
        if during and not done and time.monotonic() - start >= at:
            during()
            done = True
        body = "4" if possible[-1][0] == "menu" else f"word{word}"
        word += body != "4"
        reply = sender.sms(body, number, timeout=5)
        text = " ".join(reply.texts)
        now = time.monotonic() - start
        outcomes = [_expected(state, body) for state in possible]
        if not reply.ok:
            kind = "error"
        elif UNAVAILABLE in text:
            kind = "unavailable"
        elif "still being answered" in text:
            kind = "busy"
        else:
            matching = [after for after, shown in outcomes if shown in text]
            kind = "normal" if matching else "lost"
            seen = _observed(text) or ("menu", "...")
            if not matching:  # back to an older state: count the acknowledged messages gone
                node, last = seen
                before = ("menu", last) if node == "echo" else ("echo", None)
                back = [i for i, (n, w) in enumerate(stored) if n == before[0]
                        and before[1] in (None, w)]  # fmt: skip
                gone += len(stored) - 1 - (back[-1] if back else -1)
            possible = matching[-1:] or [seen]
            stored.append(possible[0])
        if kind in ("error", "unavailable", "busy"):  # written or not: both may follow
            possible = list(dict.fromkeys([*possible, *(after for after, _ in outcomes)]))[-2:]
        results.append((now, kind))
        time.sleep(INTERVAL)
    return results, gone


def summary(results, gone: int, event_at: float) -> dict:
    after = [(t, kind) for t, kind in results if t >= event_at]
    bad = [t for t, kind in after if kind != "normal"]
    recovered = next((t for t, kind in after if kind == "normal" and t > max(bad, default=0)), None)
    return {
        "messages": len(results),
        "refused": sum(kind in ("unavailable", "busy", "error") for _, kind in results),
        "acknowledged": sum(kind in ("normal", "lost") for _, kind in results),
        "lost": gone,
        "lost_seen": sum(kind == "lost" for _, kind in results),
        "recovery_s": round((recovered - event_at) if bad and recovered else 0.0, 2),
        "first_bad_s": round(bad[0] - event_at, 2) if bad else None,
    }


def _start(harness, tmp_path):
    sentinels = Sentinels(harness, tmp_path / "redis")
    fake = harness.fake_twilio()
    env = {**sentinels.env(), **harness.twilio_env(fake, **NO_LIMITS)}
    web = harness.web("", **env)  # REDIS_URL empty: Sentinel
    worker = harness.worker("", **env)
    return sentinels, fake, web, worker


def _long_reply_sent(sender, fake, number) -> bool:
    assert sender.sms("hi", number).ok
    assert sender.sms("1", number).ok
    ok, _ = wait_for(lambda: len(fake.accepted_to(number)) >= 1, 20, 0.1)
    return bool(ok)


def test_sentinel_failover_keeps_the_conversation(harness, figures, tmp_path):
    sentinels, fake, web, worker = _start(harness, tmp_path)
    sender = Sender(web.port)
    number = Sender.new_number()
    assert _long_reply_sent(sender, fake, Sender.new_number()), web.proc.output()[-3000:]
    old = sentinels.master_port()
    switched = {}

    def failover():
        switched["at"] = time.monotonic()
        Redis(sentinels.ports[0]).call("SENTINEL", "FAILOVER", MASTER)

    started = time.monotonic()
    results, gone = converse(sender, number, 14.0, failover)
    event_at = switched["at"] - started
    new = sentinels.master_port()
    figures_ = summary(results, gone, event_at)
    states = Redis(new).keys("bot:s:*")
    after_failover = _long_reply_sent(sender, fake, Sender.new_number())
    figures_.update(old_master=old, new_master=new, worker_sends_after=after_failover)
    figures(figures_)
    assert new != old, "SENTINEL FAILOVER did not move the master"
    assert figures_["lost"] == 0, results
    assert figures_["recovery_s"] <= RECOVERY_BOUND, results
    assert len(states) >= 2, "the conversations' state is not on the new master"
    assert after_failover, f"the worker sent nothing after the failover:\n{worker.output()[-2000:]}"
    assert web.proc.alive() and worker.alive()


def test_sentinel_kill9_of_the_master_measured(harness, figures, tmp_path):
    """Asynchronous replication: what a `kill -9` of the master loses is measured, not promised."""
    sentinels, _fake, web, _worker = _start(harness, tmp_path)
    sender = Sender(web.port)
    number = Sender.new_number()
    killed = {}

    def kill():
        killed["at"] = time.monotonic()
        sentinels.master.kill9()

    started = time.monotonic()
    results, gone = converse(sender, number, 16.0, kill)
    figures_ = summary(results, gone, killed["at"] - started)
    figures_.update(new_master=sentinels.master_port(), old_master=sentinels.master.port)
    figures(figures_)
    assert sentinels.master_port() != sentinels.master.port
    assert figures_["recovery_s"] <= 15.0, results


def test_two_web_instances_and_two_workers_answer_in_order_once(harness, figures, tmp_path):
    fake = harness.fake_twilio()
    redis = harness.redis()
    env = harness.twilio_env(fake, **NO_LIMITS)
    webs = [harness.web(redis.url, **env), harness.web(redis.url, **env)]
    workers = [harness.worker(redis.url, **env), harness.worker(redis.url, **env)]
    ok, _ = wait_for(lambda: len(redis.client.keys("rq:worker:*")) >= 2, 20)
    assert ok, workers[0].output()[-2000:]
    senders = [Sender(web.port) for web in webs]
    people = [Sender.new_number() for _ in range(4)]
    for i, number in enumerate(people):
        assert senders[i % 2].sms("hi", number).ok
    wrong, answered = [], 0
    for n in range(6):  # each person's messages alternate between the two instances
        for i, number in enumerate(people):
            sender = senders[(n + i) % 2]
            prompt = sender.sms("4", number)
            echo = senders[(n + i + 1) % 2].sms(f"w{n}", number)
            answered += 2
            if "Say something." not in " ".join(prompt.texts):
                wrong.append((number, n, "prompt", prompt.texts))
            if f"You said: w{n}" not in " ".join(echo.texts):
                wrong.append((number, n, "echo", echo.texts))
    long_people = [Sender.new_number() for _ in range(4)]
    for i, number in enumerate(long_people):
        assert senders[i % 2].sms("hi", number).ok
        assert senders[(i + 1) % 2].sms("1", number).ok
    wait_for(lambda: all(len(fake.accepted_to(n)) >= 2 for n in long_people), 30, 0.2)
    parts = {n: fake.accepted_to(n) for n in long_people}
    duplicated = sum(len(p) - len(set(p)) for p in parts.values())
    in_order = all(
        [int(t.split("Sentence ")[1].split()[0]) for t in p if "Sentence " in t]
        == sorted(int(t.split("Sentence ")[1].split()[0]) for t in p if "Sentence " in t)
        for p in parts.values()
    )
    figures({"answered": answered, "wrong": len(wrong), "parts": sum(map(len, parts.values())),
             "duplicated": duplicated, "in_order": in_order})  # fmt: skip
    assert wrong == []
    assert duplicated == 0 and in_order
    assert all(len(p) >= 2 for p in parts.values()), parts


# --- state on a Redis Cluster, queues on a Redis of their own -------------------------------


def _bus_port() -> int:
    """A free port whose cluster bus port (+10000) exists and is free too."""
    while True:
        port = free_port()
        if port + 10000 <= 65535 and _free(port + 10000):
            return port


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Cluster:
    """Three masters (`--cluster-enabled yes`) joined by `redis-cli --cluster create`."""

    OPTIONS = (
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
    )  # fmt: skip

    def __init__(self, harness, root: Path):
        self.nodes = [
            harness.redis(data_dir=root / f"node-{n}", port=_bus_port(), extra=self.OPTIONS)
            for n in range(3)
        ]
        cli = Path(redis_binary()).with_name("redis-cli")
        cli_path = str(cli) if cli.exists() else shutil.which("redis-cli")
        assert cli_path, "no redis-cli to create the cluster with"
        created = subprocess.run(
            [cli_path, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=30, env=harness.base_env(),
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        ok, _ = wait_for(self._ready, 20, 0.2)
        assert ok, "the cluster did not reach cluster_state:ok"

    def _ready(self) -> bool:
        return all(b"cluster_state:ok" in n.client.call("CLUSTER", "INFO") for n in self.nodes)

    @property
    def setting(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def keys(self) -> dict[int, list[str]]:
        return {n.port: n.client.keys("*") for n in self.nodes}

    def commands(self, name: str) -> int:
        """Calls of one command over every node (INFO commandstats)."""
        total = 0
        for node in self.nodes:
            for line in node.client.call("INFO", "commandstats").decode().splitlines():
                if line.startswith(f"cmdstat_{name}:"):
                    total += int(line.split("calls=")[1].split(",")[0])
        return total


SCRIPTS = {"fa": "\u0600-\u06ff", "ar": "\u0600-\u06ff", "ka": "\u10a0-\u10ff"}


def _in_script(texts: list[str], lang: str) -> bool:
    low, high = SCRIPTS[lang].split("-")
    letters = [c for c in " ".join(texts) if c.isalpha()]
    return bool(letters) and sum(low <= c <= high for c in letters) > len(letters) / 2


def test_state_on_a_cluster_and_queues_apart(harness, figures, tmp_path):
    """Conversations in Georgian, Persian and Arabic, a long reply, a callback request and a
    reminder with state on three Cluster masters and RQ on a plain Redis; FORGET erases the
    person from every node and from the queue Redis."""
    cluster = Cluster(harness, tmp_path / "cluster")
    queue = harness.redis()
    fake = harness.fake_twilio()
    env = {
        "REDIS_CLUSTER_NODES": cluster.setting,
        "REDIS_QUEUE_URL": queue.url,
        **harness.twilio_env(fake, BOT_STAFF_WEBHOOK_URL=fake.url + "/staff", **NO_LIMITS),
    }
    web = harness.web("", **env)  # REDIS_URL empty: state on the Cluster
    shipped = harness.web("", BOT_FLOWS_DIR=str(SHIPPED_FLOWS), **env)

    # Three languages, each continued by a second message (the state came back).
    speakers = Sender(shipped.port)
    started = time.monotonic()
    sent = 0
    spoken = {}
    for lang, first, second in (
        ("ka", "გამარჯობა", "1"),
        ("fa", "سلام", "۲"),
        ("ar", "مرحبا", "1"),
    ):
        number = Sender.new_number()
        one, two = speakers.sms(first, number), speakers.sms(second, number)
        sent += 2
        spoken[lang] = one.ok and two.ok and _in_script(two.texts, lang)
        assert spoken[lang], (lang, one.texts, two.texts, shipped.proc.output()[-2000:])

    # Round trips: EVALSHA per message in a conversation (BEGIN, COMMIT), measured.
    sender, number = Sender(web.port), Sender.new_number()
    assert sender.sms("hi", number).ok
    evals_before, timed = cluster.commands("evalsha"), time.monotonic()
    echoes = 10
    for n in range(echoes):
        prompt, echo = sender.sms("4", number), sender.sms(f"w{n}", number)
        assert "Say something." in " ".join(prompt.texts), prompt.texts
        assert f"You said: w{n}" in " ".join(echo.texts), echo.texts
    per_message_ms = (time.monotonic() - timed) * 1000 / (2 * echoes)
    evalsha_per_message = (cluster.commands("evalsha") - evals_before) / (2 * echoes)
    sent += 1 + 2 * echoes

    # A long reply (parts by a job), a reminder and a callback request.
    for body in ("1", "2", "3", "yes", "1"):
        reply = sender.sms(body, number)
        assert reply.ok and UNAVAILABLE not in " ".join(reply.texts), (body, reply.texts)
    sent += 5
    on_queue = queue.client.keys("*")
    assert any(k.startswith("rq:job:") for k in on_queue), on_queue
    assert not [k for ks in cluster.keys().values() for k in ks if k.startswith("rq:")]
    scheduled = queue.client.call("ZRANGE", "rq:scheduled:default", 0, -1)
    assert len(scheduled) == 1, scheduled  # the reminder, due in an hour
    queue.client.call("ZADD", "rq:scheduled:default", int(time.time()) - 1, scheduled[0])
    burst = harness.shell(
        "worker-burst", "bot worker --burst", harness.base_env(REDIS_URL="", **env)
    )
    assert burst.wait_exit(60) is not None, burst.output()[-2000:]
    bodies = fake.accepted_to(number)
    assert any("Sentence 16" in b for b in bodies), (bodies, burst.output()[-2000:])
    assert any("Reminder: your appointment" in b for b in bodies), bodies
    assert fake.staff, "the callback request did not reach staff"

    # FORGET: every key of the person, on every node and on the queue Redis.
    keys_before = sum(len(k) for k in cluster.keys().values())
    state = [k for ks in cluster.keys().values() for k in ks if k.startswith("bot:s:{")]
    assert sender.sms("forget", number).ok
    assert sender.sms("yes", number).ok
    sent += 2
    pseudonyms = {k.split("{")[1].split("}")[0] for k in state}
    for node in cluster.nodes:
        for key, value in node.client.dump_all().items():
            assert number.encode() not in value, key
    left = {p for p in pseudonyms if any(p in k for ks in cluster.keys().values() for k in ks)}
    erased = pseudonyms - left
    for node in cluster.nodes:  # the callbacks' index, the counters: no erased pseudonym
        for key, value in node.client.dump_all().items():
            assert not any(p.encode() in value for p in erased), key
    queue_left = [
        k for k, v in queue.client.dump_all().items()
        if number.encode() in v or any(p in k or p.encode() in v for p in erased)
    ]  # fmt: skip
    echo_person = len(erased)
    figures({
        "messages": sent,
        "languages_answered": sorted(lang for lang, ok in spoken.items() if ok),
        "evalsha_per_message": round(evalsha_per_message, 2),
        # BEGIN and COMMIT measured, plus the counters' pipeline (bot.store.cluster)
        "round_trips_per_message": round(evalsha_per_message + 1, 2),
        "ms_per_message": round(per_message_ms, 1),
        "seconds": round(time.monotonic() - started, 1),
        "keys_on_nodes_before_forget": keys_before,
        "people_erased": echo_person,
        "queue_keys_of_erased_left": len(queue_left),
    })  # fmt: skip
    # `bot flows reload` publishes to the Cluster, and the web processes see the version.
    reload = harness.shell("reload", "bot flows reload", harness.base_env(REDIS_URL="", **env))
    assert reload.wait_exit(30) is not None and reload.popen.returncode == 0, reload.output()
    published, _ = wait_for(lambda: "published version (none)" not in web.get("/readyz")[1], 5)
    assert published, web.get("/readyz")[1]
    assert echo_person == 1, (pseudonyms, left)  # the three speakers keep theirs
    assert queue_left == [], queue_left
    assert evalsha_per_message == 2.0
    assert web.proc.alive() and shipped.proc.alive()
