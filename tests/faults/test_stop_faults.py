"""Issue 16 item 7: Ctrl-C, SIGTERM and kill -9 of `bot run`; two instances; the port check."""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from .harness import alive, describe, wait_for

CONTROL = re.compile(r"Control socket listening at (\S+)")
BOUND = 10.0
"""Everything gone within 10 s of the signal."""


def _roles(run) -> dict[str, list[int]]:
    master = run.gunicorn_master()
    return {
        "web": [master] if master else [],
        "worker": run.worker_pids(),
        "redis": run.redis_pids(),
    }


def _watch_stop(run, send) -> dict:
    """Send the stop, then poll until every process of the tree is gone (or 15 s)."""
    roles, tree = _roles(run), run.tree()
    assert all(roles.values()), roles
    gone: dict[str, float | None] = dict.fromkeys(roles)
    start = time.monotonic()
    send()
    while time.monotonic() - start < BOUND + 5:
        for name, pids in roles.items():
            if gone[name] is None and not any(alive(p) for p in pids):
                gone[name] = round(time.monotonic() - start, 2)
        if all(v is not None for v in gone.values()) and not any(alive(p) for p in tree):
            break
        time.sleep(0.05)
    left = describe([p for p in tree if alive(p)])
    order = [
        n
        for n, _ in sorted(
            ((n, t) for n, t in gone.items() if t is not None), key=lambda item: item[1]
        )
    ]
    return {
        "gone_after_s": gone,
        "all_gone_s": round(time.monotonic() - start, 2) if not left else None,
        "left": left,
        "order": order,
    }


def _assert_clean(result):
    assert not result["left"] and result["all_gone_s"] <= BOUND
    times = result["gone_after_s"]
    assert times["web"] <= times["worker"] <= times["redis"]


@pytest.mark.parametrize("how", ["bot run", "make run"])
def test_ctrl_c_stops_web_worker_redis_within_10s(harness, figures, tmp_path, how):
    """Ctrl-C: SIGINT to the foreground process group (`bot run`, or make and `bot run`)."""
    run = harness.bot_run(tmp_path / "var", make=how == "make run")
    result = _watch_stop(run, lambda: os.killpg(run.proc.pid, signal.SIGINT))
    figures(result)
    _assert_clean(result)


def test_sigterm_stops_web_worker_redis_within_10s(harness, figures, tmp_path):
    run = harness.bot_run(tmp_path / "var")
    result = _watch_stop(run, lambda: run.proc.signal(signal.SIGTERM))
    figures(result)
    _assert_clean(result)


def test_kill9_of_bot_run_leaves_no_child(harness, figures, tmp_path):
    run = harness.bot_run(tmp_path / "var")
    tree = [p for p in run.tree() if p != run.proc.pid]
    run.proc.signal(signal.SIGKILL)
    wait_for(lambda: not any(alive(p) for p in tree), BOUND, 0.1)
    left = describe([p for p in tree if alive(p)])
    figures({"children": len(tree), "left_after_10s": len(left), "left": left})
    assert not left


def _unix_sockets(pid: int) -> set[str]:
    """Paths of the listening Unix sockets a process holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    paths = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes:
            paths.add(fields[7])
    return paths


def test_two_instances_have_their_own_control_socket(harness, figures, tmp_path):
    first = harness.bot_run(tmp_path / "var1")
    second = harness.bot_run(tmp_path / "var2")
    time.sleep(1)
    said = [set(CONTROL.findall(run.proc.output())) for run in (first, second)]
    held = [_unix_sockets(run.gunicorn_master()) for run in (first, second)]
    first_paths, second_paths = said[0] | held[0], said[1] | held[1]
    figures(
        {
            "first": sorted(first_paths),
            "second": sorted(second_paths),
            "shared": sorted(first_paths & second_paths),
        }
    )
    assert not (first_paths & second_paths)


def _time_wait_port() -> int:
    """A port with a TIME_WAIT connection on it and nothing listening.

    The listener sets SO_REUSEADDR, as the gunicorn that served the port before did: Linux
    lets a new SO_REUSEADDR bind pass a TIME_WAIT connection only when that connection's
    listener had it too (without it, gunicorn itself could not bind either).
    """
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = listener.accept()
        conn.close()  # the server side closes first: its end stays in TIME_WAIT
        time.sleep(0.1)
        client.close()
    return port


def test_port_in_time_wait_is_accepted(harness, figures, tmp_path):
    port = _time_wait_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            in_time_wait = False
        except OSError:
            in_time_wait = True
    run = harness.bot_run(tmp_path / "var", port=port, wait_ready=False)
    wait_for(lambda: run.web.ready() or not run.proc.alive(), 30, 0.2)
    started = run.web.ready()
    figures(
        {
            "port_in_time_wait": in_time_wait,
            "started": started,
            "said": [line for line in run.proc.output().splitlines() if "PORT" in line][:2],
        }
    )
    assert in_time_wait, "could not put the port in TIME_WAIT"
    assert started
