"""The conversation store: state in Redis, one message of a person at a time, retries once.

A message costs two round trips in the common case, each one Lua script:

1. `BEGIN` looks for a reply already sent for this MessageSid (a Twilio retry); else counts
   the arrival in the sender's rate-limit window and refuses a sender over the limit or
   muted (bot.store.limits) without waiting for the lock; else takes the per-conversation lock
   (SET PX with a random token) and returns the position, the preferences (bot.store.prefs) and
   the sender's recent activity.
2. `COMMIT` writes the position and the preferences, each with its TTL, the activity, the
   replies under the MessageSid, adds the replies' segments to the day's budget and
   releases the lock, but only while the token still owns it: a turn that outlived its
   lock writes nothing and is run again on fresh state, so no update is ever lost.

When the lock is held (two messages from one person at once) the second waits with a
short backoff; after `lock_wait_ms` it gives up with `Busy` rather than write on top of
the other turn. Every key has a TTL, and all of them are named in bot.store.keys.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from string import Template
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

from bot.core.state import State, compact_json
from bot.settings import Settings
from bot.store import keys, limits, prefs, stats
from bot.store.limits import BUDGET_KEEP, Activity, Arrival, Limits
from bot.store.wire import Wire, decoded, queued_commands, socket_timeout
from bot.text import pricing

KEEP_REPLIES = 3
"""How many recent (MessageSid, replies) pairs a conversation keeps for Twilio retries."""
MAX_ATTEMPTS = 2
"""How many times a turn is run when its lock expired before it could commit."""
STATS_TTL = 90 * 24 * 3600
"""Seconds the daily counters of refused messages are kept."""
TOKEN_CHARS = 24
"""Hex characters of a lock token's random part; the MessageSid follows after a colon."""
HOUR_TTL = 2 * 3600
"""Seconds an hour's segment counter is kept (its hour, and the next)."""
MINUTE_TTL = 120
"""Seconds a minute's counter of new conversations is kept."""

ACTIVITY_FIELDS = ("t", "i", "o", "k", "m")
"""The activity hash fields COMMIT writes and BEGIN reads (bot.store.limits.Activity); BEGIN also
keeps the rate-limit window in `w` and `n` there."""

SEEN_AND_RATE = """
local seen = redis.call('LPOS', KEYS[3], ARGV[2])
if seen then return {2, redis.call('LINDEX', KEYS[3], seen + 1)} end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and string.sub(holder, $token_chars + 2) == ARGV[2] then
  return {5}
end
local now = tonumber(ARGV[4])
local window = $rate_window_ms
local rate = redis.call('HMGET', KEYS[5], 'w', 'n', 'm')
local count = tonumber(rate[2] or '0')
if ARGV[3] == '1' then
  local start = tonumber(rate[1] or '0')
  if now - start >= window or now < start then
    redis.call('HSET', KEYS[5], 'w', ARGV[4], 'n', 1)
    count = 1
  else
    count = redis.call('HINCRBY', KEYS[5], 'n', 1)
  end
  if redis.call('PTTL', KEYS[5]) < window then redis.call('PEXPIRE', KEYS[5], window) end
end
"""
"""The start of BEGIN, shared with bot.store.cluster's: a MessageSid answered before returns
its replies ({2}); one being answered by another delivery says so ({5}); else, on the first
call for a message, the rate window counts it (`count`, `rate` are read after). KEYS: lock
(1), replies (3), activity (5); ARGV: token (1), MessageSid (2), count (3), now ms (4)."""

WRITE_TURN = """
if redis.call('LPOS', KEYS[3], ARGV[3]) then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', $state_ttl) end
if ARGV[5] == '-' then
  redis.call('DEL', KEYS[4])
elseif ARGV[5] ~= '' then
  redis.call('SET', KEYS[4], ARGV[5], 'EX', $prefs_ttl)
end
redis.call('RPUSH', KEYS[3], ARGV[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -2 * $keep_replies, -1)
redis.call('EXPIRE', KEYS[3], $replies_ttl)
"""
"""The start of COMMIT, shared with bot.store.cluster's: a MessageSid written before returns
1, a lost lock 0; else the position, the preferences and the replies are written. KEYS:
lock (1), state (2), replies (3), prefs (4); ARGV: token, state JSON, MessageSid, replies
JSON, prefs JSON (1 to 5)."""

BEGIN = Template(
    """
if ARGV[6] then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[6]) then
    return {7}
  end
end
"""
    + SEEN_AND_RATE
    + """local refused, why = 0, ''
if tonumber(rate[3] or '0') > now then
  refused, why = 4, 'muted'
elseif $rate_limit > 0 and count > $rate_limit then
  refused, why = 3, 'rate_limited'
end
if refused > 0 then
  if ARGV[3] == '1' then
    redis.call('HINCRBY', KEYS[6], why, 1)
    redis.call('EXPIRE', KEYS[6], $stats_ttl)
  end
  return {refused, tostring(count), redis.call('GET', KEYS[4]) or '',
    redis.call('GET', KEYS[2]) or ''}
end
local state = redis.call('GET', KEYS[2])
if not state then
  local brake = ''
  local spent = tonumber(redis.call('HGET', KEYS[7], 'segments') or '0')
  local hour = tonumber(redis.call('GET', KEYS[8]) or '0')
  local new = tonumber(redis.call('GET', KEYS[9]) or '0')
  if $daily_segments > 0 and spent >= $daily_segments then
    brake = 'brake_day'
  elseif $segments_per_hour > 0 and hour >= $segments_per_hour then
    brake = 'brake_hour'
  elseif $new_per_minute > 0 and new >= $new_per_minute then
    brake = 'brake_new'
  end
  if brake ~= '' then
    redis.call('HINCRBY', KEYS[6], brake, 1)
    redis.call('EXPIRE', KEYS[6], $stats_ttl)
    local units = tonumber(ARGV[5] or '0')
    if units > 0 then
      spent = redis.call('HINCRBY', KEYS[7], 'segments', units)
      redis.call('EXPIRE', KEYS[7], $budget_ttl)
      redis.call('INCRBY', KEYS[8], units)
      redis.call('EXPIRE', KEYS[8], $hour_ttl)
    end
    return {6, brake, redis.call('GET', KEYS[4]) or '', tostring(spent)}
  end
end
if holder and holder ~= ARGV[1] then return {0, ''} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', $lock_ttl_ms)
if not state and $new_per_minute > 0 then
  if redis.call('INCR', KEYS[9]) == 1 then redis.call('EXPIRE', KEYS[9], $minute_ttl) end
end
return {1, state or '', redis.call('GET', KEYS[4]) or '',
  redis.call('HMGET', KEYS[5], 't', 'i', 'o', 'k', 'm')}
"""
)
"""KEYS: lock, state, replies, prefs, activity, limit stats, the day's budget, the hour's
segments, the minute's new conversations. ARGV: token (TOKEN_CHARS hex, ':', the
MessageSid), MessageSid, count (1 on the first call for a message, else 0), now ms, the
units of the brake notice (0: none). The store's settings (lock ms, rate window ms, rate
limit, brakes, 0 for none, TTLs) are written into the script: fewer arguments to send with
every message. Returns {2, replies} for a known MessageSid; {5} while another delivery of
the same MessageSid holds the lock (nothing counted: a Twilio retry never counts against a
limit); {3, count, prefs, state} over the rate limit, {4, count, prefs, state} when muted;
{6, why, prefs, units spent today} when a global brake refuses a new conversation (its
notice counted); {0, ''} when locked; {1, state, prefs, activity values in ACTIVITY_FIELDS
order} when ours. With a sixth argument, the deadline (Redis's clock, ms) after which the
caller has given up waiting: {7} past it (a call Redis ran only after a stall: nothing is
counted nor locked, so no lock outlives a caller that answered "unavailable" long ago)."""

COMMIT = Template(
    WRITE_TURN
    + """if #ARGV > 9 then
  redis.call('HSET', KEYS[5], 't', ARGV[10], 'i', ARGV[11], 'o', ARGV[12], 'k', ARGV[13],
    'm', ARGV[14])
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
end
local total
if tonumber(ARGV[7]) > 0 then
  total = redis.call('HINCRBY', KEYS[6], 'segments', ARGV[7])
  if total == tonumber(ARGV[7]) then redis.call('EXPIRE', KEYS[6], $budget_ttl) end
  if redis.call('INCRBY', KEYS[8], ARGV[7]) == tonumber(ARGV[7]) then
    redis.call('EXPIRE', KEYS[8], $hour_ttl)
  end
else
  total = tonumber(redis.call('HGET', KEYS[6], 'segments') or '0')
end
if ARGV[8] ~= '' then
  redis.call('HINCRBY', KEYS[7], ARGV[8], 1)
  redis.call('EXPIRE', KEYS[7], $stats_ttl)
end
if ARGV[9] ~= '' then
  for field in string.gmatch(ARGV[9], '[^\\n]+') do redis.call('HINCRBY', KEYS[9], field, 1) end
  redis.call('EXPIRE', KEYS[9], $turn_stats_ttl)
end
redis.call('DEL', KEYS[1])
return {1, total}
"""
)
"""KEYS: lock, state, replies, prefs, activity, budget, limit stats, the hour's segments,
the day's turn counters (bot.store.stats). ARGV: token, state JSON ('' leaves it),
MessageSid, replies JSON, prefs JSON ('' leaves it, '-' deletes it), activity TTL ms,
outbound units, limit stats counter ('' none), the turn counters' fields one per line
('' none), then the activity's values in ACTIVITY_FIELDS order (none: the activity is left
as it is). The console's anonymous counts ride on this commit instead of a round trip of
their own (a third of the message path's round trips before). The TTLs and the number of
(MessageSid, replies) pairs kept are the store's settings, written into the script.
Returns {1, units spent today} when written, 1 when a retried call had already written it,
0 when the lock was lost."""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
"""KEYS: lock. ARGV: token. Frees the lock after a failed turn, only if still ours."""

SPEND = """
local total = tonumber(redis.call('HGET', KEYS[1], 'segments') or '0')
local budget = tonumber(ARGV[2])
if budget > 0 and total + tonumber(ARGV[1]) > budget then return {0, total} end
total = redis.call('HINCRBY', KEYS[1], 'segments', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, total}
"""
"""KEYS: budget. ARGV: units, daily budget (0: none), budget TTL s. Spends the units only
if the day stays within the budget; returns {1 spent / 0 refused, total}."""


MIN_REDIS = (6, 0, 6)
"""The oldest Redis the scripts run on: they find a MessageSid with LPOS (Redis 6.0.6)."""


class RedisTooOld(RuntimeError):
    """The state Redis is older than MIN_REDIS: every message would fail."""


def check_version(version: str) -> None:
    """Raise RedisTooOld, naming both versions, when `version` is older than MIN_REDIS."""
    parts = tuple(int(p) if p.isdigit() else 0 for p in (version or "0").split(".")[:3])
    if parts < MIN_REDIS:
        need = ".".join(map(str, MIN_REDIS))
        raise RedisTooOld(
            f"the state Redis (REDIS_URL, the Sentinels' master or the Cluster) is Redis "
            f"{version or 'of unknown version'}; the conversation "
            f"store needs Redis {need} or newer (it uses LPOS). Upgrade Redis, or unset "
            "REDIS_URL in development to use the embedded one."
        )


class Busy(Exception):
    """The conversation stayed locked longer than we may wait; ask the person to resend."""


@dataclass(frozen=True)
class Handled:
    """What one inbound message produced.

    `turn` is None when no turn was run: a Twilio retry (a duplicate, `texts` are the
    replies sent the first time) or a message refused by a limit (`refused` says which,
    one of the verdicts in bot.store.limits; `lang` is the person's language if known).
    `spent` is the day's outbound units after this message (-1 when unknown). `twiml` is
    how many of the texts' messages went in the TwiML answer when the rest went by a job
    (None: all of them), stored with the replies so that every delivery of one MessageSid
    gets the same answer.
    """

    texts: list[str]
    turn: Any | None
    refused: str | None = None
    lang: str | None = None
    spent: int = -1
    units: int = 0
    twiml: int | None = None

    @property
    def duplicate(self) -> bool:
        return self.turn is None and self.refused is None


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


def _budget_key(at: float | None) -> str:
    """Today's budget key, or the key of the day of `at` (seconds since the epoch)."""
    return keys.budget_key(limits.day(int((time.time() if at is None else at) * 1000)))


@dataclass(frozen=True)
class _Call:
    """One message as `handle` was asked to answer it."""

    message_sid: str
    step: Callable[[State | None], Any]
    arrival: Arrival | None
    max_segments: int
    at_ms: int
    parts: Callable[[Any], tuple[int | None, int]] | None
    notice_units: int


@dataclass(slots=True)
class _Played:
    """A turn run under the lock and priced: what COMMIT writes, and what `handle` returns."""

    turn: Any
    texts: list[str]
    twiml: int | None
    units: int
    limit_field: str  # the limit stats field ("" none): a dropped loop, a free-text question
    refused: str | None  # limits.LOOP when the turn was dropped
    fresh: bool  # no position stored before: BEGIN counts it in the minute's new ones
    head: list  # COMMIT's first arguments: token, state, MessageSid, replies, prefs, TTL
    activity: list  # the activity's values in ACTIVITY_FIELDS order, [] to leave it
    turn_fields: list[str]  # the console's counter fields (bot.store.stats)

    def handled(self, spent: int) -> Handled:
        """The answer, once written, with the units spent today."""
        return Handled(
            self.texts, self.turn, refused=self.refused, spent=spent, units=self.units,
            twiml=self.twiml,
        )  # fmt: skip


def wait_for_lock(deadline: float, delay: float) -> float:
    """Sleep `delay` (jittered) before asking BEGIN again; the next delay, doubled up to
    0.1 s. Busy when the sleep would end past `deadline` (time.monotonic)."""
    if time.monotonic() + delay > deadline:
        raise Busy("another message of this conversation is still being processed")
    # Jitter spreads out retries of concurrent messages; it protects nothing secret.
    time.sleep(delay * (0.5 + random.random()))  # noqa: S311  # nosec B311
    return min(delay * 2, 0.1)


def _stored(raw: Any) -> Handled:
    """The answer stored for a MessageSid: its texts, and how many went in TwiML."""
    value = json.loads(raw)
    if isinstance(value, dict):  # {"t": texts, "n": TwiML count}
        return Handled(list(value.get("t") or []), None, twiml=value.get("n"))
    return Handled(value, None)


class ConversationStore:
    """Reads, locks and writes conversation state; one instance per process, thread-safe."""

    begin_script = BEGIN
    """The BEGIN and COMMIT templates, filled in with the store's settings (`_settings`);
    bot.store.cluster's store has its own."""
    commit_script = COMMIT

    def __init__(
        self,
        client: redis.Redis,
        *,
        state_ttl: int,
        replies_ttl: int,
        lock_ttl_ms: int = 5000,
        lock_wait_ms: int = 3000,
        prefs_ttl: int | None = None,
        limits: Limits | None = None,
    ):
        self.redis = client
        self.state_ttl = int(state_ttl)
        self.replies_ttl = int(replies_ttl)
        self.lock_ttl_ms = int(lock_ttl_ms)
        self.lock_wait_ms = int(lock_wait_ms)
        self.prefs_ttl = max(int(prefs_ttl or 0), self.state_ttl)
        self.limits = limits or Limits()
        self._wire = Wire(client)
        timeout = socket_timeout(client)
        self._patience_ms = int(timeout * 1000) if timeout else 0
        self._clock_ms = 0.0
        settings = self._settings()
        self._begin = client.register_script(self.begin_script.substitute(settings))
        self._commit = client.register_script(self.commit_script.substitute(settings))
        self._release = client.register_script(RELEASE)
        self._spend = client.register_script(SPEND)

    def _settings(self) -> dict[str, Any]:
        """What the scripts' templates name: written into them, not sent with each call."""
        return {
            "lock_ttl_ms": self.lock_ttl_ms,
            "rate_window_ms": int(self.limits.rate_window_ms),
            "rate_limit": int(self.limits.rate_limit),
            "stats_ttl": STATS_TTL,
            "turn_stats_ttl": stats.STATS_TTL,
            "state_ttl": self.state_ttl,
            "prefs_ttl": self.prefs_ttl,
            "replies_ttl": self.replies_ttl,
            "keep_replies": KEEP_REPLIES,
            "budget_ttl": BUDGET_KEEP,
            "hour_ttl": HOUR_TTL,
            "minute_ttl": MINUTE_TTL,
            "token_chars": TOKEN_CHARS,
            "daily_segments": int(self.limits.daily_segments),
            "segments_per_hour": int(self.limits.segments_per_hour),
            "new_per_minute": int(self.limits.new_per_minute),
        }

    @classmethod
    def from_settings(cls, client: redis.Redis, settings: Settings) -> ConversationStore:
        """A store with the TTLs, lock times and limits the settings ask for."""
        return cls(
            client,
            state_ttl=settings.state_ttl,
            replies_ttl=settings.replies_ttl,
            lock_ttl_ms=settings.lock_ttl_ms,
            lock_wait_ms=settings.lock_wait_ms,
            prefs_ttl=settings.prefs_ttl,
            limits=Limits.from_settings(settings),
        )

    def load_scripts(self) -> None:
        """Send the scripts to Redis once, so the first message does not pay for it.

        Raises RedisTooOld when the server cannot run them.
        """
        check_version(str(self.redis.info("server").get("redis_version", "")))
        before = time.time()
        seconds, micros = self.redis.time()
        # Redis's clock minus ours, so a deadline is read on Redis's clock.
        self._clock_ms = seconds * 1000 + micros / 1000 - (before + time.time()) * 500
        for script in (self._begin, self._commit, self._release, self._spend):
            script.sha = self.redis.script_load(script.script)

    def handle(
        self,
        pseudonym: str,
        message_sid: str,
        step: Callable[[State | None], Any],
        arrival: Arrival | None = None,
        max_segments: int = 0,
        parts: Callable[[Any], tuple[int | None, int]] | None = None,
        notice_units: int = 0,
    ) -> Handled:
        """Run `step(state)` under the conversation lock and store what it returns.

        `step` gets the stored State (None for a new conversation) and returns an object
        with `.state` (the new State) and `.texts` (the replies), such as an engine Turn.
        A MessageSid seen before returns its stored replies without running `step`; while
        another delivery of it is being answered, this one waits for that answer. With an
        `arrival` the message is counted against the sender's limits: a refused message or
        one that completes a loop returns `Handled.refused` and changes no state; so does a
        new conversation refused by a global brake (`limits.BRAKE`, its `notice_units`
        counted against the budget). `max_segments` is the flows' segment limit: the
        replies are counted against the day's budget as bot.channels.render sends them.
        `parts(turn)` plans the turn: how many messages go in the TwiML answer (None: all),
        stored with the replies for the retries, and what the plan costs, charged to the
        budget (without it, the replies are priced as grouped texts). Raises Busy, or
        redis.RedisError.
        """
        at_ms = arrival.at_ms if arrival else int(time.time() * 1000)
        names = (
            keys.lock_key(pseudonym),
            keys.state_key(pseudonym),
            keys.replies_key(pseudonym),
            keys.prefs_key(pseudonym),
            keys.activity_key(pseudonym),
        )
        call = _Call(message_sid, step, arrival, max_segments, at_ms, parts, notice_units)
        return self._handle(self._connection(), names, call)

    def _connection(self) -> Any:
        """This thread's own connection for the scripts (bot.store.wire)."""
        return self._wire.connection()

    def release_connection(self) -> None:
        """Give this thread's connection back for the next request (bot.store.wire)."""
        self._wire.release()

    def _handle(self, conn: Any, names: tuple[str, ...], call: _Call) -> Handled:
        arrival, at_ms, message_sid = call.arrival, call.at_ms, call.message_sid
        today = limits.day(at_ms)
        stats_key = keys.limit_stats_key(today)
        brake_keys = [
            keys.budget_key(today),
            keys.hour_segments_key(limits.hour(at_ms)),
            keys.new_conversations_key(limits.minute(at_ms)),
        ]
        count = arrival is not None
        for _attempt in range(MAX_ATTEMPTS):
            # Tells this turn's lock from another's; not a secret, only unique. The
            # MessageSid in it lets a Twilio retry wait for the answer instead of counting.
            token = f"{random.getrandbits(96):0{TOKEN_CHARS}x}:{message_sid}"  # nosec B311
            begin_keys = [*names, stats_key, *brake_keys]
            units = call.notice_units if count else 0
            reply = self._acquire(conn, begin_keys, token, message_sid, at_ms, count, units)
            count = False
            code = int(reply[0])
            if code == 2:
                self._wire.confirm(conn)  # Sentinel: the stored answer is on a replica
                return _stored(reply[1])
            if code in (3, 4):
                verdict = limits.MUTED if code == 4 else None
                verdict = verdict or limits.rate_verdict(int(reply[1]), self.limits)
                known = prefs.merge(reply[3], reply[2])  # the language, chosen or guessed
                return Handled([], None, refused=verdict, lang=known.lang if known else None)
            if code == 6:
                known = prefs.merge(None, reply[2])
                lang = known.lang if known else None
                spent = int(reply[3])
                return Handled([], None, refused=limits.BRAKE, lang=lang, spent=spent, units=units)
            played = self._play(call, names[0], token, reply)
            args = [*played.head, played.units, played.limit_field, "\n".join(played.turn_fields)]
            args += played.activity
            more = (brake_keys[0], stats_key, brake_keys[1], keys.turn_stats_key(today))
            result = self._run(conn, self._commit, [*names, *more], args, durable=True)
            written, spent = result if isinstance(result, list) else (result, -1)
            if written == 1:
                return played.handled(int(spent))
        raise Busy("the conversation lock expired before the turn could be saved")

    def _play(self, call: _Call, lock: str, token: str, reply: list) -> _Played:
        """Run the turn on the state BEGIN read, and price what it says: what COMMIT writes.

        Shared by both stores (and bot.store.cluster); each adds its own arguments. A turn
        that fails frees the lock at once.
        """
        arrival = call.arrival
        state_raw, prefs_raw, fields = reply[1], reply[2], reply[3]
        try:
            before = prefs.merge(state_raw, prefs_raw)
            new = before is None or before.flow is None  # read before the step moves it
            turn = call.step(before)
            texts = list(turn.texts)
            twiml, priced = call.parts(turn) if call.parts is not None and texts else (None, None)
            position, kept = prefs.split(turn.state)
            preferences = kept or ("-" if prefs_raw else "")  # "-": a START after a STOP
        except BaseException:
            self._unlock(lock, token)
            raise
        activity, counter, refused = None, "", None
        if arrival is not None:
            values = [decoded(x) if x is not None else "" for x in fields]
            seen = Activity.from_fields(dict(zip(ACTIVITY_FIELDS, values, strict=True)))
            activity = limits.observe(seen, arrival, texts, self.limits)
            if limits.is_loop(activity, arrival):
                # Drop the turn: a bot's message must not move the conversation or
                # trigger a callback, and any reply would feed the loop.
                texts, position, preferences = [], "", ""
                counter, refused, turn, twiml = "loop_detected", limits.LOOP, None, None
        counter = counter or question_counter(turn)
        channel = arrival.channel if arrival else "sms"
        if priced is None or not texts:  # no plan (tools, tests), or a dropped loop turn
            priced = pricing.outbound_units(channel, texts, call.max_segments)
        replies = compact_json(texts if twiml is None else {"t": texts, "n": twiml})
        head = [token, position, call.message_sid, replies, preferences]
        head.append(limits.activity_ttl_ms(activity, self.limits) if activity else 0)
        written = activity.to_fields() if activity is not None else None
        return _Played(
            turn=turn,
            texts=texts,
            twiml=twiml,
            units=priced,
            limit_field=counter,
            refused=refused,
            fresh=not state_raw,
            head=head,
            activity=[written[name] for name in ACTIVITY_FIELDS] if written else [],
            # The console's counts (bot.store.stats): messages from people only, not tools.
            turn_fields=stats.fields_for(new, turn.state, channel) if arrival and turn else [],
        )

    def _run(
        self, conn: Any, script: Script, keys: list[str], args: list, durable: bool = False
    ) -> Any:
        """Run a store script on this message's connection (bot.store.wire.Wire.evalsha)."""
        return self._wire.evalsha(conn, lambda: script.sha, keys, args, self.load_scripts, durable)

    def transaction(self, commands: Sequence[Sequence[Any]]) -> list:
        """MULTI, `commands`, EXEC in one write on this thread's connection (bot.store.wire)."""
        return self._wire.transaction(commands)

    def transaction_of(self, pipe: redis.client.Pipeline) -> list:
        """Run what was written into a redis-py pipeline as one transaction, one write."""
        return self._wire.transaction(queued_commands(pipe))

    def _acquire(
        self,
        conn: Any,
        begin_keys: list[str],
        token: str,
        sid: str,
        at_ms: int,
        count: bool,
        units: int = 0,
    ) -> list:
        """BEGIN until it answers something other than 'locked', for at most lock_wait_ms.

        The message is counted against the rate limit on the first call that counts: not
        while another delivery of the same MessageSid is being answered (code 5).
        """
        deadline = time.monotonic() + self.lock_wait_ms / 1000
        delay = 0.005
        while True:
            args = [token, sid, int(count), at_ms, units if count else 0]
            if self._patience_ms:
                args.append(int(time.time() * 1000 + self._clock_ms) + self._patience_ms)
            reply = self._run(conn, self._begin, begin_keys, args)
            code = int(reply[0])
            if code == 7:  # only seen when our clocks disagree by more than the timeout
                raise redis.TimeoutError("Redis ran the call after its deadline")
            if code not in (0, 5):
                return reply
            if code == 0:
                count = False
            delay = wait_for_lock(deadline, delay)

    def _unlock(self, lock: str, token: str) -> None:
        """Best effort: a lock we cannot free expires after lock_ttl_ms anyway."""
        try:
            self._release(keys=[lock], args=[token])
        except redis.RedisError:
            pass

    def get_state(self, pseudonym: str) -> State | None:
        """The stored state, or None (for tools and tests; the webhook uses `handle`)."""
        position, preferences = self.redis.mget(
            keys.state_key(pseudonym), keys.prefs_key(pseudonym)
        )
        return prefs.merge(position, preferences)

    def opted_out(self, pseudonym: str) -> bool:
        """True when the person sent STOP: jobs and reminders must send them nothing."""
        return prefs.opted_out(self.redis.get(keys.prefs_key(pseudonym)))

    def forget(self, pseudonym: str) -> int:
        """Delete every key of the conversation; returns how many existed."""
        return int(self.redis.delete(*keys.conversation_keys(pseudonym)))

    # --- the daily outbound budget ----------------------------------------------------

    def spend(self, units: int, at: float | None = None) -> bool:
        """Count a proactive message (reminder, notice) against today's budget.

        Returns False, spending nothing, when it would take the day over the budget: the
        caller must not send it. Replies to inbound messages are counted by `handle` and
        `count_outbound`, never refused.
        """
        args = [int(units), self.limits.daily_segments, limits.BUDGET_KEEP]
        allowed, _total = self._spend(keys=[_budget_key(at)], args=args)
        return allowed == 1

    def count_outbound(self, units: int, at: float | None = None) -> int:
        """Count replies sent outside `handle` (a rate-limit notice); returns today's total."""
        name = _budget_key(at)
        pipe = self.redis.pipeline()  # MULTI: the counter never exists without its expiry
        pipe.hincrby(name, "segments", int(units))
        pipe.expire(name, limits.BUDGET_KEEP)
        return int(pipe.execute()[0])

    def spent(self, at: float | None = None) -> int:
        """Outbound units counted today (UTC)."""
        name = _budget_key(at)
        return int(self.redis.hget(name, "segments") or 0)

    def alert_once(self, at: float | None = None, share: int = 100) -> bool:
        """Mark today's budget share (80, 100 %) as reported to staff; True only the first time."""
        name = _budget_key(at)
        pipe = self.redis.pipeline()  # MULTI: the counter never exists without its expiry
        pipe.hsetnx(name, "alerted" if share >= 100 else f"alerted{share}", 1)
        pipe.expire(name, limits.BUDGET_KEEP)
        return bool(pipe.execute()[0])


def question_counter(turn: Any) -> str:
    """The daily stats field a free-text question of the turn counts in ("questions:fa:matched"):
    its language and outcome only, counted by the commit the turn already makes."""
    for event in getattr(turn, "events", ()) or ():
        if event.type == "question":
            return f"questions:{event.data.get('lang')}:{event.data.get('outcome')}"
    return ""
