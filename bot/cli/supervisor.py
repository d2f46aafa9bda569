"""The small process supervisor of `bot run`: restart what dies, stop in order, die with us.

honcho's Manager stops every process as soon as one exits, so one crash of the embedded
Redis or of the worker took the whole service down. Here each process is a `Program`:

- one that exits while the service runs is started again after a backoff (BACKOFF), the
  delay growing while it keeps failing and reset once it has run for STABLE seconds; one
  that fails GIVE_UP times in a row without ever running STABLE seconds stops everything;
- SIGINT (Ctrl-C) and SIGTERM stop the programs in the reverse of their start order (web,
  then worker, then Redis), each with SIGTERM, then SIGKILL of its process group when its
  share of STOP_WITHIN has passed;
- every child runs in its own session (Ctrl-C reaches `bot run` only, which stops them in
  order) and asks the kernel for SIGTERM when `bot run` dies, even by `kill -9`
  (PR_SET_PDEATHSIG, bot.store.embedded.die_with_parent).

Children write to `bot run`'s own stdout and stderr.
"""

from __future__ import annotations

import contextlib
import os
import signal

# Runs the Procfile's command lines, as honcho does: bandit B404 does not apply.
import subprocess  # nosec B404
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.store.embedded import EmbeddedRedis, die_with_parent

BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds before the 1st, 2nd... restart of a program that keeps dying."""
STABLE = 30.0
"""Seconds a program must run before its failures are forgotten."""
GIVE_UP = 6
"""Failures in a row, none of them after STABLE seconds, after which `bot run` stops."""
STOP_WITHIN = 9.0
"""Seconds from Ctrl-C or SIGTERM until every process is gone."""
STOP_SHARE = {"web": 5.5, "worker": 2.5}
"""Seconds each program may take to stop before its process group is killed; the last one
(Redis) gets what is left of STOP_WITHIN."""
POLL = 0.1
"""Seconds between two looks at the children."""


class Program:
    """Something `bot run` starts and keeps running: `start()` it, then watch `pid`."""

    name = "program"

    def start(self) -> None:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        raise NotImplementedError

    def exit_code(self) -> int | None:
        """None while it runs (or before it started), else its exit status."""
        raise NotImplementedError


class Command(Program):
    """A Procfile command line, run by `sh -c exec ...` as honcho does (the same pid)."""

    def __init__(self, name: str, command: str, env: dict[str, str], cwd: str):
        self.name = name
        self.command = command
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # The Procfile is ours, not user input: bandit B603 does not apply.
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            ["/bin/sh", "-c", "exec " + self.command],
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None


class Redis(Program):
    """The embedded Redis: restarted on the same port, from the same folder (same data)."""

    name = "redis"

    def __init__(self, embedded: EmbeddedRedis):
        self.embedded = embedded
        self.process: subprocess.Popen | None = embedded.process

    def start(self) -> None:
        self.embedded.process = None  # a dead one: start() makes a new one on its port
        self.embedded.start()
        self.process = self.embedded.process

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None


@dataclass
class _Watch:
    program: Program
    started: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    history: list[float] = field(default_factory=list)


class Supervisor:
    """Runs `programs` (in that order) until a stop signal, restarting the ones that die."""

    def __init__(self, programs: list[Program], say: Callable[[str], None] = print):
        self.watches = [_Watch(p) for p in programs]
        self.say = say
        self.stopping: int | None = None
        self.returncode = 0

    def _signal(self, signum: int, _frame) -> None:
        if self.stopping is None:
            self.stopping = signum

    def run(self, started: tuple[str, ...] = ()) -> int:
        """Start the programs (except those in `started`), watch them, stop them in order."""
        previous = {
            sig: signal.signal(sig, self._signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            now = time.monotonic()
            for watch in self.watches:
                if watch.program.name not in started:
                    watch.program.start()
                watch.started = now
            while self.stopping is None:
                self._look()
                time.sleep(POLL)
        finally:
            self.stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.returncode

    def _look(self) -> None:
        now = time.monotonic()
        for watch in self.watches:
            program = watch.program
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    watch.restart_at = None
                    self.say(f"bot run: starting {program.name} again")
                    try:
                        program.start()
                    except Exception as exc:  # a start that fails counts as a failure
                        self.say(f"bot run: {program.name} did not start: {exc}")
                        self._failed(watch, now)
                        continue
                    watch.started = time.monotonic()
                continue
            code = program.exit_code()
            if code is None:
                continue
            ran = now - watch.started
            self.say(f"bot run: {program.name} exited ({_how(code)}) after {ran:.1f} s")
            if ran >= STABLE:
                watch.failures = 0
            self._failed(watch, now)

    def _failed(self, watch: _Watch, now: float) -> None:
        watch.failures += 1
        if watch.failures >= GIVE_UP:
            self.say(
                f"bot run: {watch.program.name} failed {watch.failures} times in a row; "
                "stopping everything (see its log above)"
            )
            self.returncode = 1
            self.stopping = signal.SIGTERM
            return
        delay = BACKOFF[min(watch.failures - 1, len(BACKOFF) - 1)]
        self.say(f"bot run: restarting {watch.program.name} in {delay:g} s")
        watch.restart_at = now + delay

    def stop_all(self) -> None:
        """Stop in the reverse of the start order, each within its share of STOP_WITHIN."""
        start = time.monotonic()
        spent = 0.0
        for watch in reversed(self.watches):
            program = watch.program
            share = STOP_SHARE.get(program.name, STOP_WITHIN - spent)
            spent += share
            deadline = min(start + spent, start + STOP_WITHIN)
            if program.pid is None or program.exit_code() is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(program.pid, signal.SIGTERM)
            while program.exit_code() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if program.exit_code() is None:
                self.say(f"bot run: {program.name} did not stop in time; killing it")
            # Its helpers (gunicorn workers, RQ's scheduler) share its process group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(program.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                program.exit_code()
            self._reap(program)

    @staticmethod
    def _reap(program: Program) -> None:
        process = getattr(program, "process", None)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)


def _how(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"code {code}"
