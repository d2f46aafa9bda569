"""The conversation store on a Redis Cluster (`REDIS_CLUSTER_NODES`): each script touches one slot.

On one Redis (or a Sentinel master) a message costs two round trips, BEGIN and COMMIT
(bot.store.conversations), and each script also counts into the service-wide keys: the
day's budget, the hour's segments, the minute's new conversations, the day's limit and turn
counters. On a Cluster those keys live in other slots than the person's, often on other
nodes, and a script may only touch keys of one slot. So on a Cluster:

1. `CLUSTER_BEGIN` touches only the person's keys (all tagged `{pseudonym}`, bot.store.keys):
   a known MessageSid, the rate limit, the mute and the lock, as BEGIN does. For a new
   conversation while brakes are on it answers "ask the brakes" before taking the lock;
   the store then reads the day's budget, the hour's segments and the minute's new
   conversations (`_brake`, one pipelined read) and calls it again with the verdict.
2. `CLUSTER_COMMIT` writes the person's keys only, as COMMIT does, under the same lock.
3. After it, one pipelined write adds the replies' units to the day's budget and the
   hour's segments, the refusal or question counter and the console's turn counters, and
   counts a new conversation in its minute (`_count`). A refused message costs BEGIN and
   this write only.

What it costs: 3 round trips a message in a conversation (BEGIN, COMMIT, the counters)
instead of 2, and 5 for the first message of a conversation while a brake is set (BEGIN
twice and the brakes' read); redis-py's cluster pipeline sends the counters' commands to
each node holding one and reads them back, so the third costs about one round trip of
latency, more in CPU. It also bypasses bot.store.wire's packed per-thread connections
(redis-py's own command path instead: a RedisCluster has no single connection to pack on).

What it weakens:

- The brakes are no longer atomic with the lock: between the brakes' read and the
  counting after COMMIT, other new conversations pass too, so `BOT_NEW_PER_MINUTE` and
  the hourly and daily brakes may be overshot by the number of new conversations begun
  at the same moment (each still answered; a flood is still braked a moment later).
- The counters are written after COMMIT, not with it: a web process that dies between
  the two leaves a turn answered and saved but not counted (budget, statistics). Each
  counter and its expiry go in one pipeline, not one transaction.
- No deadline on BEGIN (the single-Redis store's sixth argument): the nodes' clocks may
  disagree by more than a timeout, which would refuse every message. A BEGIN that Redis
  ran only after a stall may still take a lock, which expires after `BOT_LOCK_TTL_MS`.
"""

from __future__ import annotations

import random
import time
from string import Template
from typing import Any

from redis.cluster import RedisCluster

from bot.store import keys, limits, prefs, stats
from bot.store.conversations import (
    HOUR_TTL,
    MAX_ATTEMPTS,
    MINUTE_TTL,
    SEEN_AND_RATE,
    STATS_TTL,
    TOKEN_CHARS,
    WRITE_TURN,
    Busy,
    ConversationStore,
    Handled,
    _Call,
    _stored,
    check_version,
    wait_for_lock,
)
from bot.store.limits import BUDGET_KEEP
from bot.store.wire import decoded

ASK_BRAKES = "?"
"""CLUSTER_BEGIN's verdict argument when the brakes were not read yet."""

CLUSTER_BEGIN = Template(
    SEEN_AND_RATE
    + """if tonumber(rate[3] or '0') > now then
  return {4, tostring(count), redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[2]) or ''}
elseif $rate_limit > 0 and count > $rate_limit then
  return {3, tostring(count), redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[2]) or ''}
end
local state = redis.call('GET', KEYS[2])
if not state and ARGV[5] ~= '' then
  if ARGV[5] == '$ask' then return {8} end
  return {6, ARGV[5], redis.call('GET', KEYS[4]) or ''}
end
if holder and holder ~= ARGV[1] then return {0, ''} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', $lock_ttl_ms)
return {1, state or '', redis.call('GET', KEYS[4]) or '',
  redis.call('HMGET', KEYS[5], 't', 'i', 'o', 'k', 'm')}
"""
)
"""KEYS: lock, state, replies, prefs, activity (one slot). ARGV: token, MessageSid, count
(1 on the first call for a message), now ms, the brakes' verdict ('' none, ASK_BRAKES not
read yet, else the brake that holds). Answers as BEGIN (bot.store.conversations), without
counting into any service-wide key; and {8} for a new conversation whose brakes must be
read first (nothing locked), {6, brake, prefs} when a brake holds (nothing counted)."""

CLUSTER_COMMIT = Template(
    WRITE_TURN
    + """if #ARGV > 6 then
  redis.call('HSET', KEYS[5], 't', ARGV[7], 'i', ARGV[8], 'o', ARGV[9], 'k', ARGV[10],
    'm', ARGV[11])
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
end
redis.call('DEL', KEYS[1])
return 2
"""
)
"""KEYS: lock, state, replies, prefs, activity (one slot). ARGV: token, state JSON ('' leaves
it), MessageSid, replies JSON, prefs JSON ('' leaves it, '-' deletes it), activity TTL ms,
then the activity's values in ACTIVITY_FIELDS order (none: left as it is). Returns 2 when
written, 1 when a retried call had written it already, 0 when the lock was lost."""


def clustered(client: Any) -> bool:
    """True for a Redis Cluster client: a transaction there may touch one slot only."""
    return isinstance(client, RedisCluster)


class ClusterConversationStore(ConversationStore):
    """ConversationStore on a RedisCluster: per-person scripts, service-wide counters apart."""

    begin_script = CLUSTER_BEGIN
    commit_script = CLUSTER_COMMIT

    def __init__(self, client: Any, **kwargs: Any):
        super().__init__(client, **kwargs)
        self._patience_ms = 0  # no deadline: see the module docstring
        self._braked = any(
            (self.limits.daily_segments, self.limits.segments_per_hour, self.limits.new_per_minute)
        )

    def _settings(self) -> dict[str, Any]:
        return {**super()._settings(), "ask": ASK_BRAKES}

    def load_scripts(self) -> None:
        """Load the scripts on every primary (redis-py sends SCRIPT LOAD to all of them)."""
        check_version(str(self.redis.info("server").get("redis_version", "")))
        for script in (self._begin, self._commit, self._release, self._spend):
            script.sha = self.redis.script_load(script.script)

    def _connection(self) -> Any:
        return None  # redis-py routes each call to the node of its slot

    def release_connection(self) -> None:
        """Nothing to give back: redis-py's cluster client keeps its connections."""

    def transaction(self, commands: Any) -> list:
        raise RuntimeError("the queues never live on a Redis Cluster: use REDIS_QUEUE_URL")

    transaction_of = transaction

    def _run(self, conn: Any, script: Any, keys: list[str], args: list) -> Any:
        """A script on the node of its keys' slot; NOSCRIPT reloads it on every primary."""
        return script(keys=keys, args=args)

    # --- the message path ---------------------------------------------------------------

    def _brake(self, at_ms: int) -> str:
        """The brake that holds for a new conversation now, or '' (one pipelined read)."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(keys.budget_key(limits.day(at_ms)), "segments")
        pipe.get(keys.hour_segments_key(limits.hour(at_ms)))
        pipe.get(keys.new_conversations_key(limits.minute(at_ms)))
        spent, hour, new = (int(x or 0) for x in pipe.execute())
        lim = self.limits
        if lim.daily_segments > 0 and spent >= lim.daily_segments:
            return "brake_day"
        if lim.segments_per_hour > 0 and hour >= lim.segments_per_hour:
            return "brake_hour"
        if lim.new_per_minute > 0 and new >= lim.new_per_minute:
            return "brake_new"
        return ""

    def _count(self, at_ms: int, units: int, counter: str, fields: list[str], new: bool) -> int:
        """Count a message into the service-wide keys (one pipelined write over their nodes);
        returns the day's units spent."""
        day = limits.day(at_ms)
        budget = keys.budget_key(day)
        pipe = self.redis.pipeline(transaction=False)
        if units > 0:
            hour = keys.hour_segments_key(limits.hour(at_ms))
            pipe.hincrby(budget, "segments", units)
            pipe.expire(budget, BUDGET_KEEP)
            pipe.incrby(hour, units)
            pipe.expire(hour, HOUR_TTL)
        else:
            pipe.hget(budget, "segments")
        if counter:
            name = keys.limit_stats_key(day)
            pipe.hincrby(name, counter, 1)
            pipe.expire(name, STATS_TTL)
        if fields:
            name = keys.turn_stats_key(day)
            for field in fields:
                pipe.hincrby(name, field, 1)
            pipe.expire(name, stats.STATS_TTL)
        if new and self.limits.new_per_minute > 0:
            name = keys.new_conversations_key(limits.minute(at_ms))
            pipe.incr(name)
            pipe.expire(name, MINUTE_TTL)
        return int(pipe.execute()[0] or 0)

    def _handle(self, conn: Any, names: tuple[str, ...], call: _Call) -> Handled:
        arrival, at_ms, message_sid = call.arrival, call.at_ms, call.message_sid
        count = arrival is not None
        for _attempt in range(MAX_ATTEMPTS):
            token = f"{random.getrandbits(96):0{TOKEN_CHARS}x}:{message_sid}"  # nosec B311
            counted = count
            reply = self._acquire_cluster(list(names), token, message_sid, at_ms, count)
            count = False
            code = int(reply[0])
            if code == 2:
                return _stored(reply[1])
            if code in (3, 4):
                verdict = limits.MUTED if code == 4 else None
                verdict = verdict or limits.rate_verdict(int(reply[1]), self.limits)
                if counted:
                    self._count(at_ms, 0, "muted" if code == 4 else "rate_limited", [], False)
                known = prefs.merge(reply[3], reply[2])
                return Handled([], None, refused=verdict, lang=known.lang if known else None)
            if code == 6:
                known = prefs.merge(None, reply[2])
                units = call.notice_units if counted else 0
                spent = self._count(at_ms, units, decoded(reply[1]), [], False)
                lang = known.lang if known else None
                return Handled([], None, refused=limits.BRAKE, lang=lang, spent=spent, units=units)
            played = self._play(call, names[0], token, reply)
            args = [*played.head, *played.activity]
            if int(self._run(None, self._commit, list(names), args)) >= 1:
                fresh = played.fresh and arrival is not None  # as BEGIN's new-minute count
                counts = (played.limit_field, played.turn_fields)
                spent = self._count(at_ms, played.units, *counts, fresh)
                return played.handled(spent)
        raise Busy("the conversation lock expired before the turn could be saved")

    def _acquire_cluster(
        self, names: list[str], token: str, sid: str, at_ms: int, count: bool
    ) -> list:
        """CLUSTER_BEGIN until it answers something other than 'locked' (as `_acquire`),
        reading the brakes when it asks for them."""
        deadline = time.monotonic() + self.lock_wait_ms / 1000
        delay = 0.005
        verdict = ASK_BRAKES if self._braked else ""
        while True:
            args = [token, sid, int(count), at_ms, verdict]
            reply = self._run(None, self._begin, names, args)
            code = int(reply[0])
            if code == 8:
                count = False
                verdict = self._brake(at_ms)
                continue
            if code not in (0, 5):
                return reply
            if code == 0:
                count = False
            delay = wait_for_lock(deadline, delay)
