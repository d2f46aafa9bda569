"""The processes the benchmark runs: Redis, gunicorn (service or floor), and their memory.

Both apps run under the same gunicorn settings (GUNICORN_ARGS): one worker process, with the
Procfile's worker class (gevent), connections per worker and timeouts, bound to 127.0.0.1
(tests/test_bench.py checks they are the Procfile's). The Procfile runs 2 workers; the
benchmark measures one, so the service/floor ratio compares the cost per worker, and a
deployment scales it by its number of workers (one per core).

On a machine with two or more CPUs the gunicorn processes are pinned to CPU 0 and Redis and
the load generator to CPU 1 (SERVER_CPU, CLIENT_CPU), so the server being measured never
competes with its own load for a core.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import redis

from bot.store.embedded import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
FAKE_STAFF = Path(__file__).resolve().parent / "staff.yaml"
"""Made-up staff values: production refuses to start with the shipped TODO ones."""
SERVICE_APP = "bot.web.app:create_app()"
FLOOR_APP = "bench.floor:create_app()"


def filled_flows(folder: Path) -> Path:
    """The shipped flows copied into `folder`, with FAKE_STAFF as their staff file: what
    BOT_FLOWS_DIR points a production service at in the benchmark and the fault tests."""
    shutil.copytree(ROOT / "flows", folder, dirs_exist_ok=True)
    shutil.copy(FAKE_STAFF, folder / "_staff.yaml")
    return folder


@functools.cache
def production_flows() -> str:
    """BOT_FLOWS_DIR for a production service here: filled flows in a folder of this
    process, removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix="bench-flows-"))
    atexit.register(shutil.rmtree, folder, True)
    return str(filled_flows(folder / "flows"))


# fmt: off
GUNICORN_ARGS = (
    "--workers", "1",
    "--worker-class", "gevent",
    "--worker-connections", "500",
    "--timeout", "10",
    "--graceful-timeout", "5",
    "--no-control-socket",
)
# fmt: on
"""Same for the service and the floor: the Procfile's settings with one worker. (Until
2026-12 the benchmark ran gthread with 4 threads, the Procfile's class before issue 17 moved
it to gevent; the ratio then was 0.71 where gevent gives 0.82, on the same code.)"""
SERVER_CPU = 0
"""The CPU the gunicorn master and worker run on (when the machine has two or more)."""
CLIENT_CPU = 1
"""The CPU Redis, the load generator and this process run on."""
READY_TIMEOUT = 30.0
"""Seconds to wait for a gunicorn worker to answer its readiness route."""


def can_pin() -> bool:
    """Whether CPU 0 and CPU 1 are both ours to pin processes to."""
    if not hasattr(os, "sched_getaffinity"):
        return False
    return {SERVER_CPU, CLIENT_CPU} <= os.sched_getaffinity(0)


def pin(pid: int, cpu: int | None) -> None:
    """Pin a process to one CPU; no-op when `cpu` is None."""
    if cpu is not None:
        os.sched_setaffinity(pid, {cpu})


def start_redis(work_dir: Path, cpu: int | None) -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL if set (its database must be empty: the benchmark flushes it), else embedded."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        client = redis.Redis.from_url(url)
        try:
            keys = client.dbsize()
        finally:
            client.close()
        if keys:
            raise SystemExit(
                f"REDIS_URL points at a database with {keys} keys; the benchmark flushes its "
                "database, so point it at an empty one (e.g. redis://127.0.0.1:6379/15)"
            )
        return url, None
    server = EmbeddedRedis(work_dir / "redis", persist=False)
    url = server.start()
    if server.process is not None:
        pin(server.process.pid, cpu)
    return url, server


class Gunicorn:
    """One gunicorn master with one worker, serving `app` on 127.0.0.1:`port`."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path, cpu: int | None):
        self.app = app
        self.port = 0  # chosen by `start`, once the other app already listens on its own
        self.env = env
        self.log_path = log_path
        self.cpu = cpu
        self.process: subprocess.Popen | None = None
        self.ready_s = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and wait until /readyz answers; returns seconds from start to ready.

        The port is chosen here, not when the object is made: two ports chosen before either
        app listens can be the same one, and then the second gunicorn cannot bind while the
        first answers for it (a run once measured the floor against itself that way).
        """
        self.port = free_port()
        cmd = [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}"]
        cpu = self.cpu

        def preexec() -> None:  # pragma: no cover - runs in the child
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        started = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [*cmd, *GUNICORN_ARGS],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=preexec,
            )
        self._wait_ready(started)
        self.ready_s = time.perf_counter() - started
        return self.ready_s

    def _wait_ready(self, started: float) -> None:
        while True:
            if self.process is None or self.process.poll() is not None:
                raise SystemExit(f"gunicorn {self.app} exited at startup; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + "/readyz", timeout=1) as resp:  # noqa: S310 - loopback
                    # Ours only once our master has a worker: it forks one after binding.
                    if resp.status == 200 and self.worker_pid() is not None:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.perf_counter() - started > READY_TIMEOUT:
                self.stop()
                raise SystemExit(f"gunicorn {self.app} not ready in {READY_TIMEOUT:.0f} s")
            time.sleep(0.02)

    def worker_pid(self) -> int | None:
        """The pid of the (single) worker process."""
        if self.process is None:
            return None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError, ValueError):
            pids = [int(p) for p in children.read_text().split()]
            return pids[0] if pids else None
        return None

    def stop(self) -> None:
        """SIGTERM the master (it stops the worker), then wait; SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_memory(pid: int | None) -> dict[str, int]:
    """Resident (RSS) and proportional (PSS) memory of a process, in kB, from /proc."""
    result = {"rss_kb": 0, "pss_kb": 0}
    if pid is None:
        return result
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                result["rss_kb"] = int(line.split()[1])
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                result["pss_kb"] = int(line.split()[1])
    return result


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (all its threads) so far, from /proc."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
