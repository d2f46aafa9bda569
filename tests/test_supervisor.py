"""`bot run`'s supervisor (bot.cli.supervisor) with real child processes (`sh`, `sleep`).

The fault suite (tests/faults) kills the real web, worker and Redis under `bot run`; these
tests pin the supervisor's own rules quickly: restart with backoff, give up after failures
in a row, stop in the reverse of the start order, kill what does not stop in its share of
time, and take a program's whole process group with it. Each test bounds its run with a
watchdog thread that asks the supervisor to stop, and leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from bot.cli import supervisor
from bot.cli.supervisor import Command, Supervisor


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _command(name: str, script: str, tmp_path: Path) -> Command:
    return Command(name, f"sh -c {script!r}", dict(os.environ), str(tmp_path))


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _run(sup: Supervisor, stop_when, seconds: float = 10.0) -> int:
    """Run `sup` in this thread until `stop_when()` holds (or `seconds`), then stop it."""

    def watchdog() -> None:
        _until(lambda: sup.stopping is not None or stop_when(), seconds)
        if sup.stopping is None:  # not stopped by the supervisor itself (giving up)
            sup.stopping = signal.SIGTERM

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    code = sup.run()
    thread.join(timeout=seconds)
    return code


@pytest.fixture
def quick(monkeypatch):
    """Short backoffs and shares of the stop time, so the rules show in a second."""
    monkeypatch.setattr(supervisor, "BACKOFF", (0.05, 0.1))
    monkeypatch.setattr(supervisor, "GIVE_UP", 3)
    monkeypatch.setattr(supervisor, "STOP_SHARE", {"web": 0.6, "worker": 0.6})
    monkeypatch.setattr(supervisor, "STOP_WITHIN", 2.0)


def test_a_program_that_dies_is_started_again(quick, tmp_path):
    worker = _command("worker", "sleep 30", tmp_path)
    said: list[str] = []
    sup = Supervisor([worker], say=said.append)
    pids: list[int] = []

    def killed_and_back() -> bool:
        pid = worker.pid
        if pid is None:
            return False
        if not pids:
            pids.append(pid)
            os.kill(pid, signal.SIGKILL)
            return False
        return pid != pids[0] and worker.exit_code() is None

    assert _run(sup, killed_and_back) == 0
    assert any("worker exited (signal SIGKILL)" in line for line in said)
    assert any("starting worker again" in line for line in said)
    assert not _alive(pids[0]) and not _alive(worker.pid)


def test_a_program_that_keeps_failing_stops_everything(quick, tmp_path):
    redis = _command("redis", "sleep 30", tmp_path)
    broken = _command("worker", "exit 3", tmp_path)
    said: list[str] = []
    sup = Supervisor([redis, broken], say=said.append)
    started = time.monotonic()
    assert _run(sup, lambda: False, seconds=10) == 1
    assert time.monotonic() - started < 5
    assert sum("worker exited (code 3)" in line for line in said) == supervisor.GIVE_UP
    assert any("failed 3 times in a row" in line for line in said)
    assert not _alive(redis.pid)


def test_stop_goes_web_then_worker_then_redis(quick, tmp_path):
    order = tmp_path / "order"
    loop = "while :; do sleep 0.05; done"
    programs = [
        _command(name, f"trap 'echo {name} >> {order}; exit 0' TERM; {loop}", tmp_path)
        for name in ("redis", "worker", "web")
    ]
    sup = Supervisor(programs, say=lambda _line: None)
    assert _run(sup, lambda: all(p.pid for p in programs) and time.sleep(0.3) is None) == 0
    assert order.read_text().split() == ["web", "worker", "redis"]
    assert not any(_alive(p.pid) for p in programs)


def test_what_ignores_sigterm_is_killed_within_its_share(quick, tmp_path):
    stubborn = _command("web", "trap '' TERM; while :; do sleep 0.05; done", tmp_path)
    said: list[str] = []
    sup = Supervisor([stubborn], say=said.append)
    _run(sup, lambda: stubborn.pid is not None and time.sleep(0.2) is None)
    pid = stubborn.pid
    assert pid is not None and not _alive(pid)
    assert any("web did not stop in time; killing it" in line for line in said)


def test_a_programs_helpers_go_with_it(quick, tmp_path):
    """gunicorn's workers and RQ's scheduler share their parent's process group."""
    child_pid = tmp_path / "child.pid"
    parent = _command("web", f"sleep 30 & echo $! > {child_pid}; wait", tmp_path)
    sup = Supervisor([parent], say=lambda _line: None)
    _run(sup, lambda: child_pid.exists() and child_pid.read_text().strip() != "")
    helper = int(child_pid.read_text())
    assert _until(lambda: not _alive(helper), 2.0)
