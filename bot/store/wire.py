"""The one module that talks to Redis below redis-py's public API, and why.

A message costs two script calls on the hot path. Through redis-py's command path (pool
checkout, health check, retry wrappers, per-reply callbacks) they cost about as much CPU
as the round trips themselves (bench/README.md). So the conversation store sends them on
a connection of its own per thread, packed by hiredis, and reads the raw replies; the
webhook's later-parts job goes in one hand-packed MULTI/EXEC. Everything that depends on
redis-py's internals (`connection_kwargs`, `pack_command`, `send_packed_command`,
`Pipeline.command_stack`) is here, so an upgrade of redis-py is checked in one place
(tests/test_store.py runs every path against a real server).

With a master found through Sentinel, a write is acknowledged only once a replica has it.
Replication is asynchronous, and `SENTINEL FAILOVER` promotes the replica without stopping
the old master: it stays a writable master, without replicas, until the Sentinels turn it
into a replica some ten seconds later, and everything written there meanwhile is discarded.
So the store's COMMIT and MULTI/EXEC blocks go out followed by `WAIT <n> <ms>` in the same
write (no round trip more), n being every replica the Sentinels know to be up (`_wanted`).
A WAIT that counts fewer still counts on the master every Sentinel names with no failover
in progress (`_lone`); else, or for a script refused with READONLY or NOREPLICAS, the
connection is closed, the next one asks the Sentinels for the master again, and the call
is sent once more (the store's calls are idempotent). A single Redis (`REDIS_URL`) sends
no WAIT: nothing changes there. (The Sentinels' own timeout bounds each question to them:
SENTINEL_TIMEOUT in bot.store.connections.)
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.sentinel import SentinelConnectionPool

try:  # hiredis packs a command in C; redis-py's wrapper adds a type check per argument
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is a dependency, but optional in redis-py
    _pack = None

_wires: weakref.WeakSet[Wire] = weakref.WeakSet()

REPLICA_WAIT = 1 / 3
"""Share of a command's timeout that WAIT may spend for a replica's acknowledgement. Redis
checks a WAIT's timeout at its `hz` (10 a second by default): it may answer up to 100 ms
late, still within the command's timeout."""
REPLICA_WAIT_MS = 1000
"""WAIT's milliseconds for a client without a timeout (the worker's)."""
REPLICAS_EVERY = 5.0
"""Seconds between two questions to the Sentinels about how many replicas are up."""
NOT_MASTER = ("READONLY", "NOREPLICAS")
"""The refusals of a server that is no master taking writes: a demoted master, or one
without a replica under `min-replicas-to-write`. A script's refusal is wrapped: `Error
running script ...: -READONLY ...`."""


class NotReplicated(redis.ConnectionError):
    """No replica acknowledged a write within WAIT's time, or the server is not a master
    that may take writes: the write may be lost, so it is not acknowledged."""


def _after_fork() -> None:
    """In a forked child (an RQ job, a pre-loading server) the parent's sockets are not
    ours: each wire makes new per-thread connections."""
    for wire in list(_wires):
        wire.forget()


os.register_at_fork(after_in_child=_after_fork)


def decoded(value: Any) -> str:
    """A Redis reply as text: bytes decoded as UTF-8, None as the empty string."""
    if isinstance(value, bytes):
        return value.decode()
    return "" if value is None else str(value)


def _connected(conn: Any) -> None:
    """Connect through the connection's own `connect()` before sending.

    `send_packed_command` on a closed connection connects by itself, but past the
    `connect()` a Sentinel-managed connection overrides to ask the Sentinels for the master:
    it would reach the default localhost:6379 instead (tests/test_connections.py).
    """
    if conn._sock is None:
        conn.connect()


def queued_commands(pipe: redis.client.Pipeline) -> list[tuple[Any, ...]]:
    """The commands written into a redis-py pipeline (RQ writes a job's into one)."""
    return [tuple(args) for args, _options in pipe.command_stack]


class Wire:
    """One connection per thread on a client's settings, and commands packed by hand."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self._local = threading.local()
        self._idle: list[Any] = []  # connections released by finished requests, reused LIFO
        self.wait_ms = replica_wait_ms(client)  # 0: a single Redis, no replica to wait for
        self._replicas_known = (1, 0.0)  # (replicas the Sentinels know up, when asked)
        _wires.add(self)

    def connection(self) -> Any:
        """This thread's own connection, made on first use (and after a fork).

        A web worker runs a few threads for its whole life, each handling one message at a
        time; giving each its own connection spares every message the pool's checkout and
        health check. A connection that failed is closed by redis-py and reconnects on the
        next command.
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._idle.pop()
            except IndexError:
                pool = self.client.connection_pool  # its settings, not its count
                conn = pool.connection_class(**pool.connection_kwargs)
            self._local.conn = conn
        return conn

    def release(self) -> None:
        """Hand this thread's connection to the next request (called when a request ends).

        Under gunicorn's gevent worker every request runs in a greenlet of its own, and
        `threading.local` is per greenlet: without this, each request would open (and
        handshake) a new connection. Under threads it costs a list append and pop.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            self._idle.append(conn)

    def forget(self) -> None:
        """In a forked child: the parent's sockets are not ours to use."""
        self._local = threading.local()
        self._idle = []

    def evalsha(
        self,
        conn: Any,
        sha: Callable[[], str],
        keys: list[str],
        args: list,
        reload: Callable,
        durable: bool = False,
    ) -> Any:
        """EVALSHA on `conn`: what redis-py's `Script(keys, args)` does, leaner.

        `sha()` gives the script's current digest. As a client made by
        bot.store.conversations.connect, it reconnects once after a dropped connection
        (the store's scripts are idempotent) and calls `reload()` once when Redis lost the
        script (a restart or SCRIPT FLUSH). A timeout is not retried; redis-py closes the
        connection then. `durable`: with a master found through Sentinel, the script's
        writes count only once a replica has them (WAIT, sent in the same write); else
        NotReplicated, after one more try on the master the Sentinels name then.
        """
        reconnected = reloaded = False
        while True:
            try:
                command = ("EVALSHA", sha(), len(keys), *keys, *args)
                if self.wait_ms:
                    return self._replicated(conn, command, durable)
                packed = [_pack(command)] if _pack else conn.pack_command(*command)
                _connected(conn)
                conn.send_packed_command(packed)
                return conn.read_response()
            except redis.exceptions.NoScriptError:
                if reloaded:
                    raise
                reloaded = True
                reload()
            except redis.ConnectionError:
                conn.disconnect()
                if reconnected:
                    raise
                reconnected = True

    def _replicated(self, conn: Any, command: tuple, durable: bool) -> Any:
        """`command` on a Sentinel's master, with a WAIT after it in one write if `durable`."""
        pack = _pack or _join(conn)
        wanted = self._wanted()
        wait = ("WAIT", wanted, self.wait_ms)
        _connected(conn)
        conn.send_packed_command([pack(command) + pack(wait) if durable else pack(command)])
        try:
            reply = conn.read_response()
        except redis.ResponseError as exc:
            if durable:
                with contextlib.suppress(redis.ResponseError):
                    conn.read_response()  # WAIT's answer, which says nothing then
            raise _refusal(exc) from None
        if durable:
            self._replicas(conn, wanted)
        return reply

    def _replicas(self, conn: Any, wanted: int) -> None:
        """Read WAIT's answer: NotReplicated when fewer than `wanted` replicas acknowledged
        in time, or when WAIT was refused (a replica refuses it), unless this server is the
        master the Sentinels follow (`_lone`)."""
        try:
            count = conn.read_response()
        except redis.ResponseError as exc:
            raise NotReplicated(str(exc).split("\n", 1)[0][:200]) from None
        if not isinstance(count, int) or count < wanted:
            if not self._lone(conn):
                raise NotReplicated("no replica acknowledged the write in time")

    def _wanted(self) -> int:
        """How many replicas a write waits for: every one the Sentinels know to be up (at
        least 1), asked at most every REPLICAS_EVERY s.

        Not just one: after a `SENTINEL FAILOVER` with two replicas, the one not promoted
        goes on acknowledging the old master's writes for a second or so, until the
        Sentinels move it, and those writes are discarded with the old master. Waiting
        for all of them, the old master counts one short, and `_lone` refuses the write.
        """
        known, asked = self._replicas_known
        now = time.monotonic()
        if now - asked >= REPLICAS_EVERY:
            pool = self.client.connection_pool
            try:
                up = pool.sentinel_manager.discover_slaves(pool.service_name)
                known = max(1, len(up))
            except redis.RedisError:
                pass
            self._replicas_known = (known, now)
        return known

    def _lone(self, conn: Any) -> bool:
        """After a WAIT that counted too few replicas: True when the write counts all the same,
        because this connection's server is the master every Sentinel that answers names,
        and none of them is failing it over.

        The old master of a `SENTINEL FAILOVER` never passes: until the promoted replica
        reports its new role, the leading Sentinel names the old master but flags its
        failover in progress; after the switch they all name the new one. The new master
        passes at once, before the old one has become its replica (about ten seconds in
        which it has no replica to wait for): what it takes is on the master the service
        follows, as on a single Redis. Asked only after a WAIT that counted too few.
        """
        pool = self.client.connection_pool
        here = (str(conn.host), int(conn.port))
        named = 0
        for sentinel in pool.sentinel_manager.sentinels:
            try:
                state = sentinel.sentinel_masters().get(pool.service_name)
            except redis.RedisError:
                continue
            if not state:
                continue
            flags = state.get("flags") or ""
            if "failover_in_progress" in flags or state.get("is_odown") or state.get("is_sdown"):
                return False
            if (str(state.get("ip")), int(state.get("port") or 0)) != here:
                return False
            named += 1
        return named > 0

    def confirm(self, conn: Any) -> None:
        """With a master found through Sentinel: what this connection wrote, and what Redis
        held when it read, is on a replica (WAIT), else NotReplicated. Nothing to do on a
        single Redis."""
        if self.wait_ms:
            try:
                _connected(conn)
                wanted = self._wanted()
                conn.send_packed_command([(_pack or _join(conn))(("WAIT", wanted, self.wait_ms))])
                self._replicas(conn, wanted)
            except redis.ConnectionError:
                conn.disconnect()
                raise

    def transaction(self, commands: Sequence[Sequence[Any]]) -> list:
        """MULTI, `commands`, EXEC on this thread's connection, sent as one write.

        What a redis-py transaction pipeline does, without its per-command reply parsing
        and callbacks, which cost as much as building the RQ job the commands write (the
        webhook queues the later parts of a reply this way). Returns EXEC's replies.
        Raises redis.ResponseError when Redis refuses a command (the first error; a block
        refused when queued is discarded whole) and redis.ConnectionError when the
        connection fails twice; a dropped connection is retried once (the webhook's
        blocks are idempotent: a job written twice under its id is the same job).
        """
        conn = self.connection()
        pack = _pack or _join(conn)
        # One buffer: redis-py sends each item of a list with its own sendall().
        # After a Sentinel's master, WAIT: the block counts once a replica has it.
        wanted = self._wanted() if self.wait_ms else 0
        wait = [pack(("WAIT", wanted, self.wait_ms))] if self.wait_ms else []
        packed = [
            b"".join(
                [pack(("MULTI",)), *(pack(tuple(c)) for c in commands), pack(("EXEC",)), *wait]
            )
        ]
        reconnected = False
        while True:
            try:
                _connected(conn)
                conn.send_packed_command(packed)
                errors = []
                for _ in range(len(commands) + 1):  # +OK for MULTI, +QUEUED for each
                    try:
                        conn.read_response()
                    except redis.ResponseError as exc:
                        errors.append(exc)
                try:
                    replies = conn.read_response()
                except redis.ResponseError as exc:  # EXECABORT
                    if wait:
                        with contextlib.suppress(redis.ResponseError):
                            conn.read_response()
                    raise _refusal(errors[0] if errors else exc) from None
                if wait:
                    self._replicas(conn, wanted)
                break
            except redis.ConnectionError:
                conn.disconnect()
                if reconnected:
                    raise
                reconnected = True
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise reply
        return replies


def _join(conn: Any) -> Callable[[tuple], bytes]:
    """redis-py's packer as one buffer (when hiredis is missing)."""
    return lambda args: b"".join(conn.pack_command(*args))


def _refusal(exc: redis.ResponseError) -> redis.RedisError:
    """A refusal as raised: NotReplicated when the server is no master that takes writes
    (a demoted master, or one with no replica under min-replicas-to-write)."""
    text = str(exc)
    if text.startswith(NOT_MASTER) or any(f"-{mark} " in text for mark in NOT_MASTER):
        return NotReplicated(text.split("\n", 1)[0][:200])
    return exc


def replica_wait_ms(client: redis.Redis) -> int:
    """WAIT's milliseconds for `client`: 0 for a single Redis, which sends no WAIT; for a
    master found through Sentinel, a share of the command timeout (REPLICA_WAIT)."""
    # A Cluster client has no single pool: its own replicas are not followed here.
    if not isinstance(getattr(client, "connection_pool", None), SentinelConnectionPool):
        return 0
    timeout = socket_timeout(client)
    return max(1, int(timeout * 1000 * REPLICA_WAIT)) if timeout else REPLICA_WAIT_MS


def socket_timeout(client: redis.Redis) -> float | None:
    """The seconds a command of `client` waits for Redis's answer (None: for ever)."""
    return client.get_connection_kwargs().get("socket_timeout")
