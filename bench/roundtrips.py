"""Counting Redis round trips per inbound message, two ways that check each other.

1. Client side, the number that counts (`count_in_process`): the app runs in this process
   (its own `create_app`, Flask's test client) while every socket write of redis-py is
   counted (`AbstractConnection.send_packed_command`): one write is one round trip, a
   pipeline or a MULTI/EXEC block included, since redis-py sends it in one write and reads
   all the answers back. Each write is labelled by its first command (`EVALSHA`, `MULTI`...).
2. Server side, with the service under gunicorn (`CommandCounter`): Redis 6.2's `INFO
   commandstats` and `total_commands_processed` also count the commands a Lua script runs,
   and its `CLIENT LIST` has no per-connection counter (`tot-cmds` came later), so MONITOR
   is read during a dedicated phase: it shows every command with its origin, a client
   connection or `lua` (run by a script). Commands from clients are what the app sent;
   without pipelines that is the number of round trips, with pipelines it is more (the
   commands of a pipeline share one round trip), which is why (1) is the reference. MONITOR
   slows Redis down, so this phase is not timed.

`commandstats_delta` is a third cross-check: `evalsha` + `eval` calls per message are the
script invocations, which both counts must agree with.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import redis
import redis.connection

MARKER = "bench-roundtrips-end"
"""An ECHO argument that tells the MONITOR reader the phase is over."""
STOP_TIMEOUT = 10.0
"""Seconds to wait for the MONITOR reader to see the end marker."""


class CommandCounter:
    """Counts commands by origin (client or Lua) between `start()` and `stop()`."""

    def __init__(self, url: str):
        self.url = url
        self.client_commands: Counter[str] = Counter()
        self.lua_commands: Counter[str] = Counter()
        self._marker = redis.Redis.from_url(url, single_connection_client=True)
        self._marker_port = ""
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Open the marker connection first (so its handshake is not counted), then MONITOR."""
        address = self._marker.client_info()["addr"]
        self._marker_port = str(address).rsplit(":", 1)[1]
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._ready.wait(STOP_TIMEOUT):
            raise RuntimeError("MONITOR did not start")

    def _read(self) -> None:
        client = redis.Redis.from_url(self.url)
        try:
            with client.monitor() as monitor:
                self._ready.set()
                for event in monitor.listen():
                    command = event.get("command", "")
                    name = command.split(" ", 1)[0].upper()
                    if event.get("client_type") == "lua":
                        self.lua_commands[name] += 1
                    elif name == "ECHO" and MARKER in command:
                        return
                    elif event.get("client_port") != self._marker_port:
                        self.client_commands[name] += 1
        except BaseException as exc:  # reported by stop()
            self._error = exc
            self._ready.set()
        finally:
            client.close()

    def stop(self) -> None:
        """Send the end marker and wait for the reader to reach it."""
        self._marker.echo(MARKER)
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive():
                raise RuntimeError("the MONITOR reader did not see the end marker")
        self._marker.close()
        if self._error is not None:
            raise RuntimeError(f"MONITOR failed: {self._error!r}")

    def per_message(self, messages: int) -> dict:
        """Commands sent by clients, and commands run by Lua, per message."""
        n = max(messages, 1)
        total = sum(self.client_commands.values())
        return {
            "messages": messages,
            "commands_per_message": round(total / n, 3),
            "client_commands": {k: round(v / n, 3) for k, v in self.client_commands.most_common()},
            "lua_commands_per_message": round(sum(self.lua_commands.values()) / n, 3),
            "lua_commands": {k: round(v / n, 3) for k, v in self.lua_commands.most_common()},
        }


def commandstats(client: redis.Redis) -> dict[str, int]:
    """Calls per command name, from INFO commandstats."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def commandstats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Calls made between two commandstats snapshots (commands run by scripts included)."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}


def wait_quiet(seconds: float = 0.2) -> None:
    """Give in-flight commands a moment to land before a snapshot (sends nothing)."""
    time.sleep(seconds)


@contextlib.contextmanager
def counting_writes() -> Iterator[Counter[str]]:
    """Count redis-py socket writes in this process, by first command, while inside."""
    writes: Counter[str] = Counter()
    lock = threading.Lock()
    cls = redis.connection.AbstractConnection
    original = cls.send_packed_command

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        name = _first_command(command)
        with lock:
            writes[name] += 1
        return original(self, command, check_health)

    cls.send_packed_command = send_packed_command  # type: ignore[method-assign]
    try:
        yield writes
    finally:
        cls.send_packed_command = original  # type: ignore[method-assign]


def _first_command(packed) -> str:  # type: ignore[no-untyped-def]
    """The first command's name in a RESP packet (bytes, or a list of chunks)."""
    if isinstance(packed, list | tuple):
        packed = b"".join(bytes(p) for p in packed[:2])
    parts = bytes(packed).split(b"\r\n", 3)
    return parts[2].decode("ascii", "replace").upper() if len(parts) > 2 else "?"


def count_in_process(
    post: Callable[[object], None], requests: Sequence[object], warmup: int = 10
) -> dict:
    """Round trips per message: `post(request)` for each request, the first `warmup` not
    counted (they open the connections and load the scripts).

    Also the CPU time this thread spent per message (`cpu_ms_per_message`): the app's own
    cost without gunicorn, the network or other processes, so it holds on a busy machine.
    """
    for request in requests[:warmup]:
        post(request)
    measured = requests[warmup:]
    spread: Counter[int] = Counter()
    with counting_writes() as writes:
        cpu_started = time.thread_time()
        for request in measured:
            before = sum(writes.values())
            post(request)
            spread[sum(writes.values()) - before] += 1
        cpu = time.thread_time() - cpu_started
    n = max(len(measured), 1)
    return {
        "messages": len(measured),
        "cpu_ms_per_message": round(cpu / n * 1000, 3),
        "round_trips_per_message": round(sum(writes.values()) / n, 3),
        "most_common_round_trips": spread.most_common(1)[0][0] if spread else 0,
        "share_of_messages_by_round_trips": {
            str(k): round(v / n, 3) for k, v in sorted(spread.items())
        },
        "writes_by_first_command": {k: round(v / n, 3) for k, v in writes.most_common()},
    }
