"""Instructions per message of the service and the floor, counted by valgrind: a steady measure.

    python -m bench.instructions [--messages 600]

On a shared virtual machine the speed of a CPU drifts by 10 % and more within seconds, so
two timings of the same code disagree. Valgrind's callgrind counts the instructions the
interpreter executes instead: the same count on every run of the same code with the same
inputs, whatever else the machine does. Use it to tell whether a change makes a message
cheaper; use `python -m bench` to know how fast a machine runs it.

What it leaves out: the kernel's work in system calls (about the same for both apps: one
HTTP exchange and two Redis round trips per message, which is why the ratio of the counts
is lower than the throughput ratio), and cache misses. gunicorn is not run: each app is
called as gunicorn calls it (a WSGI environ built per request, no test client).

Each app runs in a child process under `valgrind --tool=callgrind --instr-atstart=no`; the
child warms up, then switches counting on (`callgrind_control -i on`) around the measured
messages only. Redis is the embedded server unless REDIS_URL is set (its database must be
empty: it is flushed). Needs valgrind (`apt-get install valgrind`); about a minute.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import conversations as conv
from bench.servers import ROOT, production_flows, start_redis

TOKEN = "bench-instructions-token"  # noqa: S105 - signs requests to a local app
PUBLIC_URL = "https://bench.invalid"
SECRET = "Zx8-kq2LmP0vR7tY3wA9cN5bH1jF6dS4gU_eI0oQzXy"  # noqa: S105 - a throwaway key
WARMUP = 300
"""Messages played before counting starts (flows, caches and connections warm)."""


def _config(redis_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "PUBLIC_URL": PUBLIC_URL,
        "BOT_SECRET_KEY": SECRET,
        "BOT_ENV": "production",
        "BOT_FLOWS_DIR": production_flows(),  # made-up staff values: no placeholders
        # The global brakes (issue 17) would refuse most of the bench's thousands of
        # new conversations: the bench measures the message path, so they are off.
        "BOT_NEW_PER_MINUTE": "0",
        "BOT_SEGMENTS_PER_HOUR": "0",
        "BOT_DAILY_SEGMENTS": "0",
    }


def environs(seed: int, count: int) -> list[tuple[bytes, dict[str, Any]]]:
    """`count` signed messages, conversations interleaved as users' would be, as WSGI
    environs (without their input stream, made per call)."""
    signed = conv.signed_conversations(
        conv.make_conversations(count // 6 + 20, seed=seed), TOKEN, PUBLIC_URL, str(seed)
    )
    ordered: list[conv.SignedRequest] = []
    position = 0
    while len(ordered) < count and any(position < len(c) for c in signed):
        ordered += [c[position] for c in signed if position < len(c)]
        position += 1
    out = []
    for request in ordered[:count]:
        body = request.body.encode()
        out.append(
            (
                body,
                {
                    "REQUEST_METHOD": "POST",
                    "SCRIPT_NAME": "",
                    "PATH_INFO": conv.WEBHOOK_PATH,
                    "QUERY_STRING": "",
                    "SERVER_PROTOCOL": "HTTP/1.1",
                    "SERVER_NAME": "127.0.0.1",
                    "SERVER_PORT": "8000",
                    "REMOTE_ADDR": "127.0.0.1",
                    "HTTP_HOST": "127.0.0.1:8000",
                    "CONTENT_TYPE": "application/x-www-form-urlencoded",
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_X_TWILIO_SIGNATURE": request.signature,
                    "wsgi.url_scheme": "http",
                    "wsgi.multithread": True,
                    "wsgi.multiprocess": False,
                    "wsgi.run_once": False,
                    "wsgi.version": (1, 0),
                    "wsgi.errors": sys.stderr,
                },
            )
        )
    return out


def call_all(app: Callable, requests: list[tuple[bytes, dict[str, Any]]]) -> None:
    """Call the WSGI app for each request and read the whole answer; any non-200 stops."""
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.append(status)

    for body, environ in requests:
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
        b"".join(answer)
        close = getattr(answer, "close", None)
        if close is not None:
            close()
        if not statuses[-1].startswith("200"):
            raise SystemExit(f"the app answered {statuses[-1]}")


def child(which: str, redis_url: str, messages: int) -> None:
    """Inside valgrind: build the app, warm up, count the measured messages only."""
    import logging

    config = _config(redis_url)
    os.environ.update(config)
    if which == "service":
        from bot.web.app import create_app
    else:
        from bench.floor import create_app
    app = create_app(config)
    logging.disable(logging.CRITICAL)  # the service logs a line for some messages
    call_all(app, environs(1, WARMUP))
    measured = environs(2, messages)
    control = ["callgrind_control", "-i"]
    subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)  # noqa: S603
    call_all(app, measured)
    subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)  # noqa: S603


def count(which: str, redis_url: str, messages: int, work: Path) -> int:
    """Instructions the child executed for `messages` messages of `which`."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={work / (which + '.callgrind')}",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        which,
        "--redis-url",
        redis_url,
        "--messages",
        str(messages),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"Collected\s*:\s*([\d,]+)", done.stderr)
    if done.returncode != 0 or not found:
        raise SystemExit(f"callgrind run of the {which} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def rows(counts: dict[str, int], messages: int) -> Iterator[str]:
    """The printed table."""
    yield "| | instructions per message |"
    yield "|---|---:|"
    for which, total in counts.items():
        yield f"| {which} | {total / messages / 1e6:.3f} M |"
    if counts.get("service"):
        ratio = counts["floor"] / counts["service"]
        yield f"| floor/service | {ratio:.3f} |"


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.instructions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--child", choices=("floor", "service"), help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.redis_url, args.messages)
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bot-instructions-") as tmp:
        url, embedded = start_redis(Path(tmp), None)
        try:
            counts = {w: count(w, url, args.messages, Path(tmp)) for w in ("floor", "service")}
        finally:
            if embedded is not None:
                embedded.stop()
    print(f"{args.messages} messages after a warm-up of {WARMUP}, counted by callgrind:\n")
    for line in rows(counts, args.messages):
        print(line)


if __name__ == "__main__":
    main()
