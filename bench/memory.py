"""Redis memory per idle conversation, measured on conversations made by the real store.

Each conversation is a bench.conversations script cut after a random number of messages
(people stop anywhere), written through the service's own `ConversationStore.handle` (built
by `create_app`, so with the service's TTLs and limits; the BEGIN and COMMIT scripts, the
lock, the replies kept for Twilio retries, the sender's activity), with an `Arrival` made as
the webhook makes it. The engine's turns are computed once per (script, language hint,
position) and reused: stepping the same script ten thousand times would measure the engine,
which the HTTP phases already do. Only the last few messages of each conversation are
replayed (KEPT_MESSAGES): the store keeps the replies of the last three MessageSids and the
activity of the last four exchanges, and the state of the last turn.

Keys are told apart by their time to live, not by name, so new kinds of keys are counted
without changing this file:

- idle conversation: the keys that outlive SHORT_LIVED (the position, the preferences),
  what stays in Redis for days;
- short-lived records: keys with a TTL of at most SHORT_LIVED (the replies kept for Twilio
  retries, the rate-limit and loop-detection activity), which vanish hours after the last
  message. Reported apart, per key kind.

Each is given as the `used_memory` delta divided by the number of conversations (what Redis
really spends, with its dictionaries and expiry entries) and as the mean `MEMORY USAGE`
(SAMPLES 0) of each kind of key. The short-lived records are measured by deleting them, as
their expiry would, and reading `used_memory` again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from bench.conversations import Conversation, make_conversations, message_sid
from bot.core.engine import Engine, Inbound, Turn
from bot.core.state import State
from bot.store import conversations as store
from bot.store import keys, limits
from bot.store.conversations import ConversationStore
from bot.store.pseudonym import normalize_number, pseudonym
from bot.web.webhook import lang_hint

SHORT_LIVED = 6 * 3600
"""Seconds: a key with at most this TTL is a short-lived record, not part of an idle
conversation."""
KEPT_MESSAGES = max(store.KEEP_REPLIES, getattr(limits, "RECENT_REPLIES", 0))
"""Messages replayed per conversation: as many as the store remembers anything of."""
SECRET = "bench-secret-key"  # noqa: S105 - keys made-up numbers on a throwaway Redis
"""The BOT_SECRET_KEY of the benchmark's pseudonyms."""
PACE_S = 40
"""Seconds between a person's messages: a person reads and answers (not a bot loop)."""


@dataclass(frozen=True)
class _Scripted:
    """A turn computed in advance: what `step` returns to the store."""

    state: State
    texts: list[str]
    events: tuple = ()


class TurnCache:
    """The engine's turns for each (script, first-message hint) walk, computed once."""

    def __init__(self, engine: Engine, now: int):
        self.engine = engine
        self.now = now
        self._walks: dict[tuple[tuple[str, ...], str, str | None], list[Turn]] = {}

    def turns(self, conversation: Conversation) -> list[Turn]:
        """Every turn of the conversation's script, as the webhook's step would make them."""
        number = normalize_number(conversation.sender)
        hint = lang_hint(conversation.script[0], number, self.engine.settings.languages)
        key = (conversation.script, conversation.channel, hint)
        if key not in self._walks:
            state: State | None = None
            walk = []
            for i, text in enumerate(conversation.script):
                inbound = Inbound(text, channel=conversation.channel, lang_hint=hint)
                turn = self.engine.step(state, inbound, self.now + PACE_S * i)
                walk.append(turn)
                state = turn.state
            self._walks[key] = walk
        return self._walks[key]


def conversation_name(conversation: Conversation, secret: str = SECRET) -> str:
    """The pseudonym the service gives this conversation."""
    return pseudonym(secret, conversation.channel, normalize_number(conversation.sender))


def write_conversations(
    conversation_store: ConversationStore,
    engine: Engine,
    conversations: Sequence[Conversation],
    seed: int = 0,
    secret: str = SECRET,
) -> list[str]:
    """Store each conversation as the webhook would after a random number of its messages."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible cut, not a secret
    now = int(time.time())
    cache = TurnCache(engine, now)
    names = []
    for conversation in conversations:
        turns = cache.turns(conversation)
        sent = rng.randint(1, len(turns))
        name = conversation_name(conversation, secret)
        for position in range(max(0, sent - KEPT_MESSAGES), sent):
            turn = turns[position]
            scripted = _Scripted(turn.state, turn.texts, turn.events)
            at_ms = (now + PACE_S * position) * 1000
            text = conversation.script[position]
            arrival = limits.Arrival(limits.text_digest(secret, text), at_ms, conversation.channel)
            conversation_store.handle(
                name,
                message_sid(conversation, position, "memory"),
                lambda _state, s=scripted: s,
                arrival,
            )
        names.append(name)
    return names


def _used_memory(client: redis.Redis) -> int:
    client.ping()
    return int(client.info("memory")["used_memory"])


def key_kind(name: str) -> str:
    """The bot.store.keys function that makes a key (`state_key`...), from its prefix."""
    prefix = name.split("{", 1)[0]
    for attr in dir(keys):
        make = getattr(keys, attr)
        if attr.endswith("_key") and callable(make):
            try:
                if make("x").split("{", 1)[0] == prefix:
                    return attr
            except (TypeError, ValueError):
                continue
    return prefix


def _survey(client: redis.Redis, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per kind of key: how many exist, their MEMORY USAGE, value length and TTL."""
    candidates = [k for n in names for k in keys.conversation_keys(n)]
    pipe = client.pipeline(transaction=False)
    for key in candidates:
        pipe.memory_usage(key, samples=0)
        pipe.ttl(key)
    answers = pipe.execute()
    kinds: dict[str, dict[str, Any]] = {}
    for i, key in enumerate(candidates):
        usage, ttl = answers[2 * i], answers[2 * i + 1]
        if usage is None:
            continue
        kind = kinds.setdefault(key_kind(key), {"keys": 0, "usage": [], "ttl": [], "names": []})
        kind["keys"] += 1
        kind["usage"].append(int(usage))
        kind["ttl"].append(int(ttl))
        kind["names"].append(key)
    return kinds


def _kind_report(kind: dict[str, Any], conversations: int) -> dict[str, Any]:
    usage, ttls = kind["usage"], sorted(kind["ttl"])
    return {
        "keys": kind["keys"],
        "share_of_conversations": round(kind["keys"] / max(conversations, 1), 3),
        "memory_usage_mean_bytes": round(sum(usage) / len(usage), 1),
        "memory_usage_max_bytes": max(usage),
        "ttl_s_median": ttls[len(ttls) // 2],
        "short_lived": ttls[len(ttls) // 2] <= SHORT_LIVED,
    }


def measure(
    client: redis.Redis,
    conversation_store: ConversationStore,
    engine: Engine,
    count: int,
    seed: int = 7,
    secret: str = SECRET,
) -> dict:
    """Write `count` conversations and report bytes per conversation; deletes what it wrote."""
    conversations = make_conversations(count, seed=seed, first_index=500_000)
    # Scripts loaded and the store's connection open before the first reading: neither is
    # part of what a conversation costs.
    conversation_store.load_scripts()
    conversation_store._connection().connect()
    before = _used_memory(client)
    started = time.perf_counter()
    names = write_conversations(conversation_store, engine, conversations, seed, secret)
    elapsed = time.perf_counter() - started
    after_all = _used_memory(client)
    kinds = _survey(client, names)
    short = [
        k
        for kind in kinds.values()
        if _kind_report(kind, count)["short_lived"]
        for k in kind["names"]
    ]
    for i in range(0, len(short), 1000):
        client.delete(*short[i : i + 1000])
    after_idle = _used_memory(client)
    gone = set(short)
    idle = [k for kind in kinds.values() for k in kind["names"] if k not in gone]
    lengths = []
    if "state_key" in kinds:
        pipe = client.pipeline(transaction=False)
        for key in kinds["state_key"]["names"]:
            pipe.strlen(key)
        lengths = [n for n in pipe.execute() if n]
    for i in range(0, len(idle), 1000):
        client.delete(*idle[i : i + 1000])
    n = max(count, 1)
    return {
        "conversations": count,
        "messages_replayed_per_conversation": KEPT_MESSAGES,
        "write_s": round(elapsed, 2),
        "idle_bytes_per_conversation": round((after_idle - before) / n, 1),
        "short_lived_bytes_per_conversation": round((after_all - after_idle) / n, 1),
        "recent_bytes_per_conversation": round((after_all - before) / n, 1),
        "keys": {name: _kind_report(kind, count) for name, kind in sorted(kinds.items())},
        "state_json_bytes": {
            "mean": round(sum(lengths) / len(lengths), 1) if lengths else 0.0,
            "max": max(lengths) if lengths else 0,
        },
        "used_memory": {"before": before, "all": after_all, "idle_only": after_idle},
    }


def run(redis_url: str, count: int, seed: int = 7) -> dict:
    """Build the service's own store and engine (create_app) on `redis_url` and `measure`."""
    from bot.web.app import create_app

    app = create_app(
        {
            "REDIS_URL": redis_url,
            "BOT_SECRET_KEY": SECRET,
            "TWILIO_AUTH_TOKEN": "bench-token",
            "PUBLIC_URL": "https://bench.invalid",
            "BOT_REDIS_TIMEOUT": 5.0,
            # The global brakes (issue 17) would refuse most of the bench's thousands of
            # new conversations: the bench measures the message path, so they are off.
            "BOT_NEW_PER_MINUTE": "0",
            "BOT_SEGMENTS_PER_HOUR": "0",
            "BOT_DAILY_SEGMENTS": "0",
        }
    )
    service = app.extensions["bot"]
    client = service.store.redis
    return measure(client, service.store, service.runtime.engine, count, seed)
