"""`python -m bench` (what `make bench` runs): the service against the floor, and its costs.

1. Flow loading: the shipped flows and a generated set of 1,000 nodes in 12 languages
   (bench.loading), each in fresh processes.
2. Redis memory per conversation: 10,000 conversations written by the service's own store
   (bench.memory).
3. HTTP: the service (`bot.web.app:create_app()`) and the floor (`bench.floor`) under the same
   gunicorn settings (bench.servers), each driven by the load generator in its own process
   (bench.loadgen) with signed conversations (bench.conversations): a warm-up, a closed
   loop in short slices alternating floor and service, an open-loop phase at a fixed rate,
   then a round trip count with MONITOR (bench.roundtrips) and the memory of each web worker.

Redis is the embedded server unless REDIS_URL is set (its database must be empty). Every
process listens on 127.0.0.1 only; every loop is bounded in count and in time. Results go to
bench/results/latest.json and latest.md (`--quick`: quick.json and quick.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from bench import conversations as conv
from bench import loading, memory, report, roundtrips
from bench.servers import (
    CLIENT_CPU,
    FLOOR_APP,
    GUNICORN_ARGS,
    ROOT,
    SERVER_CPU,
    SERVICE_APP,
    Gunicorn,
    can_pin,
    process_cpu_seconds,
    process_memory,
    production_flows,
    start_redis,
)

RESULTS = Path(__file__).resolve().parent / "results"
PUBLIC_URL = "https://bench.invalid"
"""The URL requests are signed for (PUBLIC_URL of both apps); .invalid never resolves."""
ACCOUNT_SID = "AC" + "0" * 32
"""The Twilio account of the requests and of the service's TWILIO_ACCOUNT_SID check."""
PERSON_GAP_S = 6.0
"""Open loop: seconds between two messages of one person (slower than BOT_LOOP_FAST)."""
MESSAGES_PER_CONVERSATION = 5
"""A low estimate of the scripts' length, to make enough conversations for a phase."""


@dataclass(frozen=True)
class Plan:
    """How much of everything one run does."""

    mode: str
    messages: int  # closed loop: messages per app in each slice
    rounds: int  # closed loop: pairs of slices (floor and service)
    concurrency: int
    closed_seconds: float  # limit per closed-loop run
    rate: float
    open_seconds: float
    warmup: int
    roundtrip_messages: int
    conversations: int  # memory
    nodes: int
    cold_runs: int


def make_plan(args: argparse.Namespace) -> Plan:
    """Defaults for a full or a quick run, then the options given."""
    quick = args.quick
    plan = Plan(
        mode="quick" if quick else "full",
        messages=300 if quick else 400,
        rounds=8 if quick else 40,
        concurrency=8,
        closed_seconds=30.0 if quick else 120.0,
        rate=80.0,
        open_seconds=10.0 if quick else 30.0,
        warmup=300,
        roundtrip_messages=200 if quick else 400,
        conversations=1000 if quick else 10_000,
        nodes=1000,
        cold_runs=1 if quick else 3,
    )
    overrides = {
        "messages": args.messages,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "open_seconds": args.seconds,
        "conversations": args.conversations,
        "nodes": args.nodes,
    }
    return Plan(**{**asdict(plan), **{k: v for k, v in overrides.items() if v is not None}})


class Bench:
    """One run: the processes, the request files and the results."""

    def __init__(self, plan: Plan, work: Path, pinned: bool):
        self.plan = plan
        self.work = work
        self.pinned = pinned
        self.token = secrets.token_hex(16)
        self.next_index = 0
        self.seed = 0

    def requests_file(self, name: str, messages: int, active: int = 0) -> Path:
        """Fresh conversations (new senders) for one phase, signed, in a file."""
        count = messages // MESSAGES_PER_CONVERSATION + active + self.plan.concurrency
        self.seed += 1
        convs = conv.make_conversations(count, seed=self.seed, first_index=self.next_index)
        self.next_index += count
        path = self.work / f"{name}.json"
        conv.write_requests(path, conv.signed_conversations(convs, self.token, PUBLIC_URL, name))
        return path

    def primed_files(self, name: str, messages: int, active: int) -> tuple[Path, Path]:
        """Conversations cut at a random message: the beginnings (played first, not
        measured) and the rest (measured), so a phase that reaches only a few messages of
        each conversation still sees every position of the scripts, not only greetings."""
        path = self.requests_file(name, messages, active)
        rng = random.Random(self.seed)  # noqa: S311 - a reproducible cut, not a secret
        signed = conv.read_requests(path)
        cuts = [rng.randrange(len(c)) for c in signed]
        prime, rest = self.work / f"{name}-prime.json", self.work / f"{name}-rest.json"
        conv.write_requests(prime, [c[:k] for c, k in zip(signed, cuts, strict=True) if k])
        conv.write_requests(rest, [c[k:] for c, k in zip(signed, cuts, strict=True)])
        return prime, rest

    def load(self, url: str | list[str], requests: Path, mode: str, **limits: Any) -> dict:
        """Run bench.loadgen in its own process and return its report."""
        out = requests.with_suffix(f".{mode}.{time.monotonic_ns()}.out")
        cmd = [sys.executable, "-m", "bench.loadgen", "--requests", str(requests)]
        for one in [url] if isinstance(url, str) else url:
            cmd += ["--url", one]
        cmd += ["--mode", mode, "--out", str(out)]
        for key, value in limits.items():
            cmd += [f"--{key.replace('_', '-')}", str(value)]
        if self.pinned:
            cmd += ["--cpu", str(CLIENT_CPU)]
        seconds = float(limits.get("max_seconds", 60))
        subprocess.run(cmd, cwd=ROOT, check=True, timeout=seconds + 90)  # noqa: S603
        return json.loads(out.read_text(encoding="utf-8"))

    def env(self, redis_url: str) -> dict[str, str]:
        """The environment of both gunicorn processes."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TWILIO_"))}
        return {
            **keep,
            "REDIS_URL": redis_url,
            "TWILIO_AUTH_TOKEN": self.token,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "PUBLIC_URL": PUBLIC_URL,
            "BOT_SECRET_KEY": secrets.token_urlsafe(32),
            "BOT_ENV": "production",
            "BOT_FLOWS_DIR": production_flows(),  # made-up staff values: no placeholders
            # The global brakes (issue 17) would refuse most of the bench's thousands of
            # new conversations: the bench measures the message path, so they are off.
            "BOT_NEW_PER_MINUTE": "0",
            "BOT_SEGMENTS_PER_HOUR": "0",
            "BOT_DAILY_SEGMENTS": "0",
            "PYTHONUNBUFFERED": "1",
        }


def _failed(*reports: dict) -> int:
    return sum(sum(r["errors"].values()) for r in reports)


def _log_summary(path: Path) -> dict[str, Any]:
    """Warnings and errors the service logged during the run (startup lines left out)."""
    counts: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        for level in (" WARNING ", " ERROR ", " CRITICAL "):
            if level in line and "the flows have" not in line:
                what = line.split(level, 1)[1][:90]
                counts[level.strip() + " " + what] = counts.get(level.strip() + " " + what, 0) + 1
    return {"lines": sum(counts.values()), "by_message": counts}


def run_http(bench: Bench, redis_url: str) -> tuple[dict, dict]:
    """Warm-up, closed-loop rounds, open loop, round trips and worker memory of both apps."""
    plan, work = bench.plan, bench.work
    env = bench.env(redis_url)
    cpu = SERVER_CPU if bench.pinned else None
    apps = {
        "floor": Gunicorn(FLOOR_APP, env, work / "floor.log", cpu),
        "service": Gunicorn(SERVICE_APP, env, work / "service.log", cpu),
    }
    http: dict[str, Any] = {name: {} for name in apps}
    trips: dict[str, Any] = {}
    try:
        for name, server in apps.items():
            http[name]["ready_s"] = round(server.start(), 3)
        url = {name: s.base_url + conv.WEBHOOK_PATH for name, s in apps.items()}
        warm = bench.requests_file("warmup", plan.warmup)
        for name in apps:
            http[name]["warmup"] = bench.load(
                url[name],
                warm,
                "closed",
                concurrency=plan.concurrency,
                max_messages=plan.warmup,
                max_seconds=30,
            )
        print(
            f"  closed loop: {plan.rounds} pairs of slices of {plan.messages} messages, "
            "floor and service alternating",
            flush=True,
        )
        requests = bench.requests_file("closed", plan.messages * plan.rounds)
        # Worker CPU over the whole loop (an app's worker idles while the other's slice
        # runs); Redis CPU is read by the load generator between slices.
        before = {name: process_cpu_seconds(server.worker_pid()) for name, server in apps.items()}
        paired = bench.load(
            [f"{name}={url[name]}" for name in apps],
            requests,
            "paired",
            concurrency=plan.concurrency,
            slices=plan.rounds,
            slice_messages=plan.messages,
            max_seconds=plan.closed_seconds,
            redis_url=redis_url,
        )
        for name, server in apps.items():
            used = process_cpu_seconds(server.worker_pid()) - before[name]
            closed = paired["apps"][name]
            busy, messages = max(closed["elapsed_s"], 1e-9), max(closed["ok"], 1)
            closed["cpu"] = {
                "worker_cpu_share": round(used / busy, 3),
                "worker_cpu_ms_per_message": round(used / messages * 1000, 3),
                "redis_cpu_share": round(closed["redis_cpu_s"] / busy, 3),
                "redis_cpu_ms_per_message": round(closed["redis_cpu_s"] / messages * 1000, 3),
            }
            http[name]["closed"] = closed
            http[name]["slices"] = [pair[name] for pair in paired["pairs"]]
        http["round_ratios"] = paired["ratios"]
        http["ratio"] = paired["ratio"]
        http["ratio_quartiles"] = paired["ratio_quartiles"]
        active = max(1, int(plan.rate * PERSON_GAP_S))
        prime, rest = bench.primed_files("open", int(plan.rate * plan.open_seconds), active)
        for name in apps:
            http[name]["open_priming"] = bench.load(
                url[name],
                prime,
                "closed",
                concurrency=plan.concurrency,
                max_messages=10**6,
                max_seconds=120,
            )
            print(f"  {name}: open loop at {plan.rate:g}/s for {plan.open_seconds:g} s", flush=True)
            http[name]["open"] = bench.load(
                url[name],
                rest,
                "open",
                rate=plan.rate,
                active=active,
                max_messages=int(plan.rate * plan.open_seconds),
                max_seconds=plan.open_seconds,
            )
        counted = bench.requests_file("monitor", plan.roundtrip_messages)
        for name in apps:
            print(f"  {name}: Redis commands (MONITOR)", flush=True)
            trips[name] = {"monitor": monitor_commands(bench, redis_url, url[name], counted)}
        for name, server in apps.items():
            http[name]["worker_memory"] = process_memory(server.worker_pid())
    finally:
        for server in apps.values():
            server.stop()
    in_process = bench.requests_file("roundtrips", plan.roundtrip_messages)
    for name in apps:
        print(f"  {name}: Redis round trips (in-process count)", flush=True)
        counted = count_round_trips(bench, redis_url, name, in_process)
        trips[name] = {**counted, **trips[name]}
    for name in apps:
        http[name]["failed"] = _failed(http[name]["closed"], http[name]["open"])
    http["service_log"] = _log_summary(work / "service.log")
    return http, trips


def monitor_commands(bench: Bench, redis_url: str, url: str, requests: Path) -> dict:
    """Commands the app's clients sent to Redis per message, counted with MONITOR."""
    client = redis.Redis.from_url(redis_url)
    try:
        before = roundtrips.commandstats(client)
        counter = roundtrips.CommandCounter(redis_url)
        counter.start()
        try:
            result = bench.load(
                url,
                requests,
                "closed",
                concurrency=4,
                max_messages=bench.plan.roundtrip_messages,
                max_seconds=60,
            )
            roundtrips.wait_quiet()
        finally:
            counter.stop()
        after = roundtrips.commandstats(client)
    finally:
        client.close()
    counted = counter.per_message(result["ok"])
    delta = roundtrips.commandstats_delta(before, after)
    scripts = delta.get("evalsha", 0) + delta.get("eval", 0)
    counted["script_calls_per_message_commandstats"] = round(scripts / max(result["ok"], 1), 3)
    counted["failed"] = _failed(result)
    return counted


def count_round_trips(bench: Bench, redis_url: str, app_name: str, requests: Path) -> dict:
    """Round trips per message of the app run in this process (bench.roundtrips)."""
    from bench.floor import create_app as floor_app
    from bot.web.app import create_app as service_app

    env = bench.env(redis_url)
    config = {k: v for k, v in env.items() if k.startswith(("BOT_", "TWILIO_", "REDIS_", "PUB"))}
    bot_log = logging.getLogger("bot")
    level = bot_log.level
    bot_log.setLevel(logging.WARNING)  # one INFO line per message is not what we measure here
    try:
        app = service_app(config) if app_name == "service" else floor_app(config)
        client = app.test_client()

        def post(request: conv.SignedRequest) -> None:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            headers["X-Twilio-Signature"] = request.signature
            response = client.post(conv.WEBHOOK_PATH, data=request.body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{app_name} answered {response.status_code} in-process")

        messages = [r for c in conv.read_requests(requests) for r in c]
        messages = messages[: bench.plan.roundtrip_messages + 10]
        return roundtrips.count_in_process(post, messages, warmup=10)
    finally:
        bot_log.setLevel(level)


def _git(*args: str) -> str:
    try:
        out = subprocess.run(  # noqa: S603 - fixed git command
            ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def meta(plan: Plan, pinned: bool, redis_url: str) -> dict[str, Any]:
    """Where and how the numbers were measured."""
    client = redis.Redis.from_url(redis_url)
    try:
        server = {**client.info("server"), **client.info("memory")}
    finally:
        client.close()
    return {
        "mode": plan.mode,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        # The results of an earlier run are not a change to the code measured.
        "dirty": bool(
            _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
        ),
        "python": platform.python_version(),
        "redis": f"{server.get('redis_version')} ({server.get('mem_allocator')})",
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "pinned": pinned,
        "gunicorn": " ".join(GUNICORN_ARGS),
        "settings": asdict(plan),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def print_summary(results: dict, paths: tuple[Path, Path]) -> None:
    """The Markdown table on stdout, and where the files are."""
    print()
    print(report.markdown(results))
    print(f"Results: {paths[0]} and {paths[1]}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 even when a target is missed (the table says so)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--messages", type=int, help="closed loop: messages per app and slice")
    parser.add_argument("--rounds", type=int, help="closed loop: pairs of slices (median ratio)")
    parser.add_argument("--concurrency", type=int, help="closed loop: virtual users")
    parser.add_argument("--rate", type=float, help="open loop: messages per second (80)")
    parser.add_argument("--seconds", type=float, help="open loop: duration")
    parser.add_argument("--conversations", type=int, help="memory: conversations (10000)")
    parser.add_argument("--nodes", type=int, help="loading: nodes of the generated set (1000)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--name", help="results file name (default: latest, or quick)")
    args = parser.parse_args(argv)
    plan = make_plan(args)
    pinned = can_pin() and not args.no_pin
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bot-bench-") as tmp:
        work = Path(tmp)
        if pinned:
            os.sched_setaffinity(0, {CLIENT_CPU})
        redis_url, embedded = start_redis(work, CLIENT_CPU if pinned else None)
        try:
            results = run(plan, work, pinned, redis_url)
        finally:
            if embedded is not None:
                embedded.stop()
    results["meta"]["duration_s"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    paths = report.write(results, args.out, args.name or ("quick" if args.quick else "latest"))
    print_summary(results, paths)
    return 0


def run(plan: Plan, work: Path, pinned: bool, redis_url: str) -> dict[str, Any]:
    """Every phase in order; returns the results document."""
    client = redis.Redis.from_url(redis_url)
    results: dict[str, Any] = {"meta": meta(plan, pinned, redis_url)}
    print("Flow loading (fresh processes)...", flush=True)
    results["loading"] = {
        "shipped": loading.shipped(plan.cold_runs),
        "generated": loading.generated(work / "generated", plan.nodes, plan.cold_runs),
    }
    print(f"Redis memory: {plan.conversations:,} conversations...", flush=True)
    client.flushdb()
    results["memory"] = memory.run(redis_url, plan.conversations)
    client.flushdb()
    print("HTTP: floor and service under gunicorn...", flush=True)
    bench = Bench(plan, work, pinned)
    results["http"], results["round_trips"] = run_http(bench, redis_url)
    client.flushdb()
    client.close()
    results["targets"] = report.check_targets(results)
    return results


if __name__ == "__main__":
    sys.exit(main())
