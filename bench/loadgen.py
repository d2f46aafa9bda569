"""The load generator: replays signed conversations against 127.0.0.1, in its own process.

    python -m bench.loadgen --requests FILE --url http://127.0.0.1:PORT/webhooks/twilio \
        --mode closed --concurrency 8 --max-messages 5000 --max-seconds 30

Requests are read already signed (bench.conversations), so the generator only sends bytes
and times answers. Each conversation's messages go in order, the next only after the reply
to the previous one, as a person answers what they read (so the service never waits on its
own conversation lock).

- `closed`: maximum throughput. `concurrency` virtual users each play one conversation
  after another, sending the next message as soon as the reply comes: the rate is whatever
  the server sustains. Latency is from send to full reply.
- `paired`: `closed` against two apps (the floor and the service) in alternating short
  slices, each app's slice running `slice-messages` messages with the same users, the
  order swapped every pair (floor then service, service then floor). Both apps get the same
  conversations, each continuing where its previous slice stopped. The ratio of two
  slices run a fraction of a second apart is immune to the drift of a shared machine's
  speed, which moves whole rounds run seconds apart by 10 % and more; the report gives
  each pair's ratio and their median.
- `open`: a fixed arrival rate (e.g. 80 messages a second, Twilio's WhatsApp ceiling).
  Messages are scheduled at start + i / rate whatever the server does, interleaved over
  `active` conversations at once (so one person's messages are active / rate seconds
  apart). Latency is measured from the SCHEDULED time, so a server (or a generator) that
  falls behind shows it in the percentiles instead of silently sending less
  (no coordinated omission); `send_latency_ms` is from the actual send, for comparison.

Every loop is bounded by a message count and by a time limit, and only loopback URLs are
accepted. The report (JSON) also gives the generator's own CPU use, so a saturated
generator can be told from a saturated server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bench.conversations import SignedRequest, read_requests

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""The only hosts the generator sends to."""
REQUEST_TIMEOUT = 10.0
"""Seconds before one request counts as failed (gunicorn's worker timeout in the Procfile)."""
DRAIN_SECONDS = 15.0
"""Seconds to wait for requests still in flight once the schedule is over."""


def check_loopback(url: str) -> None:
    """Refuse any target that is not this machine."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise SystemExit(f"bench.loadgen only sends to loopback addresses, not {host!r}")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def latency_summary(values_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, max and mean of latencies in milliseconds."""
    if not values_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    return {
        "p50": round(percentile(values_ms, 50), 3),
        "p95": round(percentile(values_ms, 95), 3),
        "p99": round(percentile(values_ms, 99), 3),
        "max": round(max(values_ms), 3),
        "mean": round(sum(values_ms) / len(values_ms), 3),
    }


class _Recorder:
    """Latencies and failures of one phase."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.send_latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.sent = 0
        self.last_done = 0.0

    async def post(
        self, session: aiohttp.ClientSession, url: str, req: SignedRequest, since: float
    ) -> None:
        """Send one request; record its latency from `since` (a perf_counter time)."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": req.signature,
        }
        self.sent += 1
        sent_at = time.perf_counter()
        try:
            async with session.post(url, data=req.body.encode(), headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[type(exc).__name__] += 1
            return
        done = time.perf_counter()
        self.last_done = max(self.last_done, done)
        if status != 200:
            self.errors[f"http {status}"] += 1
        elif b"<Message>" not in body:
            self.errors["no <Message> in the reply"] += 1
        else:
            self.latencies.append((done - since) * 1000)
            self.send_latencies.append((done - sent_at) * 1000)

    def report(self, mode: str, started: float, cpu_before: float) -> dict:
        ok = len(self.latencies)
        elapsed = max((self.last_done or time.perf_counter()) - started, 1e-9)
        cpu = _cpu_seconds() - cpu_before
        return {
            "mode": mode,
            "sent": self.sent,
            "ok": ok,
            "errors": dict(self.errors),
            "elapsed_s": round(elapsed, 3),
            "messages_per_s": round(ok / elapsed, 1),
            "latency_ms": latency_summary(self.latencies),
            "send_latency_ms": latency_summary(self.send_latencies),
            "generator_cpu_s": round(cpu, 3),
            "generator_cpu_share": round(cpu / elapsed, 3),
        }


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _session(connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def closed_loop(
    url: str,
    conversations: Sequence[Sequence[SignedRequest]],
    *,
    concurrency: int,
    max_messages: int,
    max_seconds: float,
) -> dict:
    """Maximum throughput with `concurrency` users; bounded by count and time."""
    check_loopback(url)
    rec = _Recorder()
    todo = deque(conversations)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    deadline = started + max_seconds

    async def user(session: aiohttp.ClientSession) -> None:
        while todo:
            conversation = todo.popleft()
            for req in conversation:
                if rec.sent >= max_messages or time.perf_counter() >= deadline:
                    return
                await rec.post(session, url, req, time.perf_counter())

    async with _session(concurrency) as session:
        await asyncio.wait_for(
            asyncio.gather(*(user(session) for _ in range(concurrency))),
            timeout=max_seconds + DRAIN_SECONDS,
        )
    return rec.report("closed", started, cpu_before)


def _redis_cpu(client) -> float:
    """CPU seconds Redis has used (INFO cpu); 0.0 without a client."""
    if client is None:
        return 0.0
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _merge(reports: Sequence[dict], latencies: Sequence[float]) -> dict:
    """One app's slices as one closed-loop report (throughput over its slices' time)."""
    ok = sum(r["ok"] for r in reports)
    elapsed = sum(r["elapsed_s"] for r in reports)
    errors: Counter[str] = Counter()
    for r in reports:
        errors.update(r["errors"])
    return {
        "mode": "closed",
        "sent": sum(r["sent"] for r in reports),
        "ok": ok,
        "errors": dict(errors),
        "elapsed_s": round(elapsed, 3),
        "messages_per_s": round(ok / max(elapsed, 1e-9), 1),
        "latency_ms": latency_summary(latencies),
        "generator_cpu_s": round(sum(r["generator_cpu_s"] for r in reports), 3),
        "redis_cpu_s": round(sum(r.get("redis_cpu_s", 0.0) for r in reports), 3),
    }


async def paired_loop(
    urls: dict[str, str],
    conversations: Sequence[Sequence[SignedRequest]],
    *,
    concurrency: int,
    slices: int,
    slice_messages: int,
    max_seconds: float,
    redis_url: str = "",
) -> dict:
    """Closed loops on two apps in alternating slices; each pair's throughput ratio.

    `urls` maps two names to URLs, the reference first (the ratio is second / first).
    """
    names = list(urls)
    if len(names) != 2:
        raise SystemExit("paired mode takes exactly two apps")
    for url in urls.values():
        check_loopback(url)
    client = None
    if redis_url:
        import redis  # the benchmark's own dependency; only for INFO cpu between slices

        client = redis.Redis.from_url(redis_url)
    cursors = {name: deque((i, 0) for i in range(len(conversations))) for name in names}
    per_app: dict[str, list[dict]] = {name: [] for name in names}
    latencies: dict[str, list[float]] = {name: [] for name in names}
    pairs: list[dict[str, float]] = []
    deadline = time.perf_counter() + max_seconds

    async def run_slice(name: str, session: aiohttp.ClientSession) -> dict:
        rec, todo, url = _Recorder(), cursors[name], urls[name]
        budget = [slice_messages]

        async def user() -> None:
            while todo and budget[0] > 0:
                index, position = todo.popleft()
                conversation = conversations[index]
                while position < len(conversation):
                    if budget[0] <= 0:
                        todo.appendleft((index, position))  # its next slice goes on here
                        return
                    budget[0] -= 1
                    await rec.post(session, url, conversation[position], time.perf_counter())
                    position += 1

        redis_before, cpu_before = _redis_cpu(client), _cpu_seconds()
        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(user() for _ in range(concurrency))),
            timeout=max_seconds + DRAIN_SECONDS,
        )
        report = rec.report("closed", started, cpu_before)
        report["redis_cpu_s"] = round(_redis_cpu(client) - redis_before, 4)
        latencies[name] += rec.latencies
        return report

    sessions = {name: _session(concurrency) for name in names}
    try:
        for k in range(slices):
            if time.perf_counter() >= deadline:
                break
            pair: dict[str, float] = {}
            for name in names if k % 2 == 0 else names[::-1]:
                report = await run_slice(name, sessions[name])
                per_app[name].append(report)
                pair[name] = report["messages_per_s"]
            pairs.append(pair)
    finally:
        for session in sessions.values():
            await session.close()
        if client is not None:
            client.close()
    reference, measured = names
    ratios = [round(p[measured] / p[reference], 3) for p in pairs if p[reference] > 0]
    ordered = sorted(ratios)
    return {
        "mode": "paired",
        "slices": len(pairs),
        "slice_messages": slice_messages,
        "apps": {name: _merge(per_app[name], latencies[name]) for name in names},
        "pairs": pairs,
        "ratios": ratios,
        "ratio": ordered[(len(ordered) - 1) // 2] if ordered else 0.0,
        "ratio_quartiles": [percentile(ordered, 25), percentile(ordered, 75)] if ordered else [],
    }


def interleave(lengths: Sequence[int], active: int) -> list[tuple[int, int]]:
    """(conversation, message) pairs, round-robin over `active` conversations at a time."""
    waiting = deque(range(len(lengths)))
    current: deque[list[int]] = deque()
    order: list[tuple[int, int]] = []
    while waiting or current:
        while waiting and len(current) < active:
            current.append([waiting.popleft(), 0])
        slot = current.popleft()
        order.append((slot[0], slot[1]))
        slot[1] += 1
        if slot[1] < lengths[slot[0]]:
            current.append(slot)
    return order


async def open_loop(
    url: str,
    conversations: Sequence[Sequence[SignedRequest]],
    *,
    rate: float,
    active: int,
    max_messages: int,
    max_seconds: float,
) -> dict:
    """A fixed arrival rate; latency from each message's scheduled time."""
    check_loopback(url)
    rec = _Recorder()
    schedule = interleave([len(c) for c in conversations], active)
    schedule = schedule[: min(max_messages, int(rate * max_seconds))]
    previous: dict[int, asyncio.Task] = {}
    tasks: list[asyncio.Task] = []

    async def send(
        session: aiohttp.ClientSession, after: asyncio.Task | None, req: SignedRequest, due: float
    ) -> None:
        if after is not None:
            await asyncio.wait([after])  # the person answers what they read
        await rec.post(session, url, req, due)

    cpu_before = _cpu_seconds()
    async with _session(max(active, 16)) as session:
        started = time.perf_counter() + 0.05
        for i, (conv, position) in enumerate(schedule):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            req = conversations[conv][position]
            task = asyncio.create_task(send(session, previous.get(conv), req, due))
            previous[conv] = task
            tasks.append(task)
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
            if late:
                rec.errors["still running at the end"] += len(late)
    return rec.report("open", started, cpu_before)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run one phase and print (or write) its JSON report."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--requests", type=Path, required=True, help="from write_requests")
    parser.add_argument(
        "--url",
        required=True,
        action="append",
        help="http://127.0.0.1:PORT/webhooks/twilio; paired: NAME=URL, twice (reference first)",
    )
    parser.add_argument("--mode", choices=("closed", "open", "paired"), required=True)
    parser.add_argument("--slices", type=int, default=40, help="paired: pairs of slices")
    parser.add_argument("--slice-messages", type=int, default=400, help="paired: per slice")
    parser.add_argument("--redis-url", default="", help="paired: Redis CPU per slice")
    parser.add_argument("--concurrency", type=int, default=8, help="closed: virtual users")
    parser.add_argument("--rate", type=float, default=80.0, help="open: messages per second")
    parser.add_argument("--active", type=int, default=240, help="open: conversations at once")
    parser.add_argument("--max-messages", type=int, default=5000)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin the generator to this CPU")
    parser.add_argument("--out", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    for url in args.url:
        check_loopback(url.split("=", 1)[-1])
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    conversations = read_requests(args.requests)
    if args.mode == "paired":
        run = paired_loop(
            dict(url.split("=", 1) for url in args.url),
            conversations,
            concurrency=args.concurrency,
            slices=args.slices,
            slice_messages=args.slice_messages,
            max_seconds=args.max_seconds,
            redis_url=args.redis_url,
        )
    elif args.mode == "closed":
        run = closed_loop(
            args.url[0],
            conversations,
            concurrency=args.concurrency,
            max_messages=args.max_messages,
            max_seconds=args.max_seconds,
        )
    else:
        run = open_loop(
            args.url[0],
            conversations,
            rate=args.rate,
            active=args.active,
            max_messages=args.max_messages,
            max_seconds=args.max_seconds,
        )
    report = asyncio.run(run)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
