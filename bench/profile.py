"""Where a message's time goes: the service in-process under cProfile, on the bench's mix.

    python -m bench.profile [--conversations 300] [--top 25]

Replays whole conversations (bench.conversations) through `create_app()`'s own WSGI stack
(Flask's test client: no gunicorn, no network to the client) against a real Redis (the
embedded one unless REDIS_URL is set; its database must be empty). Prints the time per
message, the own time per module (which part of the code the CPU is in), and the functions
with the most cumulative time. The timer is the thread's CPU time, so waiting for Redis does
not count (gunicorn's other threads use that wait); `--wall` profiles wall-clock time. Use it
when `python -m bench` says the service is slow.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench import conversations as conv
from bench.servers import start_redis

TOKEN = "bench-profile-token"  # noqa: S105 - signs requests to a local app
PUBLIC_URL = "https://bench.invalid"


def _area(filename: str) -> str:
    """A short name for the code a function belongs to: a bot module or a library."""
    path = filename.replace("\\", "/")
    if "/bot/" in path:
        return "bot/" + path.split("/bot/", 1)[1]
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if path == "~":
        return "builtins (C functions: str, unicodedata, sockets...)"
    if path.startswith("<") or "/lib/python" not in path:
        return path.rsplit("/", 1)[-1]
    return "stdlib:" + path.rsplit("/", 1)[-1]


def by_area(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own (exclusive) time per area, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[_area(filename)] += tottime
    return sorted(totals.items(), key=lambda kv: -kv[1])


def profile(redis_url: str, conversations: int, top: int, wall: bool = False) -> None:
    """Replay `conversations` conversations in-process and print where the time went."""
    import redis

    from bot.web.app import create_app

    redis.Redis.from_url(redis_url).flushdb()
    app = create_app(
        {
            "REDIS_URL": redis_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "BOT_SECRET_KEY": "bench-profile-key-0123456789abcdefghij",
            "PUBLIC_URL": PUBLIC_URL,
            # The global brakes (issue 17) would refuse most of the new conversations: the
            # profile is of the message path, so they are off.
            "BOT_NEW_PER_MINUTE": "0",
            "BOT_SEGMENTS_PER_HOUR": "0",
            "BOT_DAILY_SEGMENTS": "0",
        }
    )
    client = app.test_client()
    signed = conv.signed_conversations(
        conv.make_conversations(conversations, seed=11), TOKEN, PUBLIC_URL, "profile"
    )
    requests = [r for c in signed for r in c]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def replay() -> None:
        for r in requests:
            response = client.post(
                conv.WEBHOOK_PATH,
                data=r.body,
                headers={**headers, "X-Twilio-Signature": r.signature},
            )
            if response.status_code != 200:
                raise SystemExit(f"the service answered {response.status_code}")

    profiler = cProfile.Profile(time.perf_counter if wall else time.thread_time)
    started = time.perf_counter()
    cpu_started = time.thread_time()
    profiler.runcall(replay)
    elapsed = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    stats = pstats.Stats(profiler)
    total = sum(t for _a, t in by_area(stats))
    n = len(requests)
    kind = "wall-clock (waits for Redis included)" if wall else "CPU time of this thread"
    print(
        f"{n} messages: {elapsed / n * 1000:.2f} ms wall and {cpu / n * 1000:.2f} ms CPU per "
        f"message under cProfile (about twice the real cost); times below are {kind}\n"
    )
    print("Own time per area:")
    for area, seconds in by_area(stats)[:top]:
        print(f"  {seconds / total:6.1%}  {seconds / len(requests) * 1000:7.3f} ms/msg  {area}")
    print()
    stats.sort_stats("cumulative").print_stats(top)
    redis.Redis.from_url(redis_url).flushdb()


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bot-profile-") as tmp:
        url, embedded = start_redis(Path(tmp), None)
        try:
            profile(url, args.conversations, args.top, args.wall)
        finally:
            if embedded is not None:
                embedded.stop()


if __name__ == "__main__":
    main()
