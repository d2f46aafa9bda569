"""The one module that talks to Redis below redis-py's public API, and why.

A message costs two script calls on the hot path. Through redis-py's command path (pool
checkout, health check, retry wrappers, per-reply callbacks) they cost about as much CPU
as the round trips themselves (bench/README.md). So the conversation store sends them on
a connection of its own per thread, packed by hiredis, and reads the raw replies; the
webhook's later-parts job goes in one hand-packed MULTI/EXEC. Everything that depends on
redis-py's internals (`connection_kwargs`, `pack_command`, `send_packed_command`,
`Pipeline.command_stack`) is here, so an upgrade of redis-py is checked in one place
(tests/test_store.py runs every path against a real server).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import redis

try:  # hiredis packs a command in C; redis-py's wrapper adds a type check per argument
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is a dependency, but optional in redis-py
    _pack = None

_wires: weakref.WeakSet[Wire] = weakref.WeakSet()


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
        self, conn: Any, sha: Callable[[], str], keys: list[str], args: list, reload: Callable
    ) -> Any:
        """EVALSHA on `conn`: what redis-py's `Script(keys, args)` does, leaner.

        `sha()` gives the script's current digest. As a client made by
        bot.store.conversations.connect, it reconnects once after a dropped connection
        (the store's scripts are idempotent) and calls `reload()` once when Redis lost the
        script (a restart or SCRIPT FLUSH). A timeout is not retried; redis-py closes the
        connection then.
        """
        reconnected = reloaded = False
        while True:
            try:
                command = ("EVALSHA", sha(), len(keys), *keys, *args)
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
        pack = _pack or (lambda args: b"".join(conn.pack_command(*args)))
        # One buffer: redis-py sends each item of a list with its own sendall().
        packed = [
            b"".join([pack(("MULTI",)), *(pack(tuple(c)) for c in commands), pack(("EXEC",))])
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
                    raise errors[0] if errors else exc from None
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


def socket_timeout(client: redis.Redis) -> float | None:
    """The seconds a command of `client` waits for Redis's answer (None: for ever)."""
    return client.get_connection_kwargs().get("socket_timeout")
