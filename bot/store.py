"""The conversation store: state in Redis, one message of a person at a time, retries once.

A message costs two round trips in the common case, each one Lua script:

1. `BEGIN` looks for a reply already sent for this MessageSid (a Twilio retry), else takes
   the per-conversation lock (SET PX with a random token) and returns the state JSON.
2. `COMMIT` writes the new state with its TTL, remembers the replies under the MessageSid
   and releases the lock, but only while the token still owns it: a turn that outlived
   its lock writes nothing and is run again on fresh state, so no update is ever lost.

When the lock is held (two messages from one person at once) the second waits with a
short backoff; after `lock_wait_ms` it gives up with `Busy` rather than write on top of
the other turn. Every key has a TTL, and all of them are named in bot.keys.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot import keys
from bot.state import State

KEEP_REPLIES = 3
"""How many recent (MessageSid, replies) pairs a conversation keeps for Twilio retries."""
MAX_ATTEMPTS = 2
"""How many times a turn is run when its lock expired before it could commit."""

BEGIN = """
local seen = redis.call('LRANGE', KEYS[3], 0, -1)
for i = 1, #seen, 2 do
  if seen[i] == ARGV[3] then return {2, seen[i + 1]} end
end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, ''} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('GET', KEYS[2]) or ''}
"""
"""KEYS: lock, state, replies. ARGV: token, lock ms, MessageSid.
Returns {2, replies} for a known MessageSid, {0, ''} when locked, {1, state} when ours."""

COMMIT = """
local seen = redis.call('LRANGE', KEYS[3], 0, -1)
for i = 1, #seen, 2 do
  if seen[i] == ARGV[4] then return 1 end
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[4], ARGV[5])
redis.call('LTRIM', KEYS[3], -2 * tonumber(ARGV[7]), -1)
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('DEL', KEYS[1])
return 1
"""
"""KEYS: lock, state, replies. ARGV: token, state JSON, state TTL s, MessageSid, replies
JSON, replies TTL s, pairs kept. Returns 1 when written (or already written by a retried
call), 0 when the lock was lost."""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
"""KEYS: lock. ARGV: token. Frees the lock after a failed turn, only if still ours."""


class Busy(Exception):
    """The conversation stayed locked longer than we may wait; ask the person to resend."""


@dataclass(frozen=True)
class Handled:
    """What one inbound message produced; `turn` is None for a Twilio retry (a duplicate)."""

    texts: list[str]
    turn: Any | None

    @property
    def duplicate(self) -> bool:
        return self.turn is None


def connect(url: str, timeout: float = 0.3) -> redis.Redis:
    """A client that fails fast: short timeouts, one reconnect on a dropped connection.

    redis-py retries ten times with backoff by default, which would keep Twilio waiting
    for seconds when Redis is down; the webhook must answer within a second instead. A
    timeout is not retried (it would only double the wait); a connection closed under us
    (Redis restarted) is retried once, which the scripts tolerate (they are idempotent).
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


class ConversationStore:
    """Reads, locks and writes conversation state; one instance per process, thread-safe."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        state_ttl: int,
        replies_ttl: int,
        lock_ttl_ms: int = 5000,
        lock_wait_ms: int = 3000,
    ):
        self.redis = client
        self.state_ttl = int(state_ttl)
        self.replies_ttl = int(replies_ttl)
        self.lock_ttl_ms = int(lock_ttl_ms)
        self.lock_wait_ms = int(lock_wait_ms)
        self._begin = client.register_script(BEGIN)
        self._commit = client.register_script(COMMIT)
        self._release = client.register_script(RELEASE)

    def load_scripts(self) -> None:
        """Send the scripts to Redis once, so the first message does not pay for it."""
        for script in (self._begin, self._commit, self._release):
            script.sha = self.redis.script_load(script.script)

    def handle(self, pseudonym: str, message_sid: str, step: Callable[[State | None], Any]):
        """Run `step(state)` under the conversation lock and store what it returns.

        `step` gets the stored State (None for a new conversation) and returns an object
        with `.state` (the new State) and `.texts` (the replies), such as an engine Turn.
        A MessageSid seen before returns its stored replies without running `step`.
        Raises Busy, or redis.RedisError when Redis cannot be reached.
        """
        names = (keys.lock_key(pseudonym), keys.state_key(pseudonym))
        names += (keys.replies_key(pseudonym),)
        for _attempt in range(MAX_ATTEMPTS):
            token = secrets.token_urlsafe(12)
            code, raw = self._acquire(names, token, message_sid)
            if code == 2:
                return Handled(json.loads(raw), None)
            try:
                turn = step(State.from_json(raw) if raw else None)
                texts = list(turn.texts)
                state_json = turn.state.to_json()
            except BaseException:
                self._unlock(names[0], token)
                raise
            replies = json.dumps(texts, ensure_ascii=False, separators=(",", ":"))
            args = [token, state_json, self.state_ttl, message_sid, replies, self.replies_ttl]
            if self._commit(keys=names, args=[*args, KEEP_REPLIES]) == 1:
                return Handled(texts, turn)
        raise Busy("the conversation lock expired before the turn could be saved")

    def _acquire(self, names: tuple[str, ...], token: str, sid: str) -> tuple[int, bytes]:
        """BEGIN until it answers something other than 'locked', for at most lock_wait_ms."""
        deadline = time.monotonic() + self.lock_wait_ms / 1000
        delay = 0.005
        while True:
            code, raw = self._begin(keys=names, args=[token, self.lock_ttl_ms, sid])
            if code != 0:
                return int(code), raw
            if time.monotonic() + delay > deadline:
                raise Busy("another message of this conversation is still being processed")
            # Jitter spreads out retries of concurrent messages; it protects nothing secret.
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311  # nosec B311
            delay = min(delay * 2, 0.1)

    def _unlock(self, lock: str, token: str) -> None:
        """Best effort: a lock we cannot free expires after lock_ttl_ms anyway."""
        try:
            self._release(keys=[lock], args=[token])
        except redis.RedisError:
            pass

    def get_state(self, pseudonym: str) -> State | None:
        """The stored state, or None (for tools and tests; the webhook uses `handle`)."""
        raw = self.redis.get(keys.state_key(pseudonym))
        return State.from_json(raw) if raw else None

    def forget(self, pseudonym: str) -> int:
        """Delete every key of the conversation; returns how many existed."""
        return int(self.redis.delete(*keys.conversation_keys(pseudonym)))
