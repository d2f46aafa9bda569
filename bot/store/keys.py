"""Every Redis key of the service, one function per key, the prefix in one place.

Keys never contain a phone number: a conversation is named by its pseudonym (an HMAC of
the number and channel, see bot.store.pseudonym). All keys of one conversation carry the
pseudonym as a Redis Cluster hash tag, `{...}`, so that they live in one slot and one Lua
script may touch them all on a cluster (`REDIS_CLUSTER_NODES`). The service-wide keys
(budget, brakes, statistics, staff, the callbacks' index) carry no tag: on a cluster the
store counts into them in a call of its own (bot.store.cluster). tests/test_keys.py spells
every key out literally: changing a key is a data migration, never a refactor.
"""

from __future__ import annotations

PREFIX = "bot:"
"""The first characters of every key, so the service can share a Redis database."""


_NOT_IN_TAG = frozenset("{}: ")


def _tag(pseudonym: str) -> str:
    if not pseudonym or not _NOT_IN_TAG.isdisjoint(pseudonym):
        raise ValueError("a pseudonym is a short url-safe string without braces or colons")
    return "{" + pseudonym + "}"


def state_key(pseudonym: str) -> str:
    """The conversation state: versioned JSON (bot.core.state), with a TTL."""
    return f"{PREFIX}s:{_tag(pseudonym)}"


def replies_key(pseudonym: str) -> str:
    """The last few (MessageSid, replies) pairs, so a Twilio retry gets the same answer."""
    return f"{PREFIX}r:{_tag(pseudonym)}"


def lock_key(pseudonym: str) -> str:
    """The per-conversation lock: one message of a person is processed at a time."""
    return f"{PREFIX}l:{_tag(pseudonym)}"


def prefs_key(pseudonym: str) -> str:
    """Language and STOP (bot.store.prefs), kept longer than the state; with a TTL."""
    return f"{PREFIX}p:{_tag(pseudonym)}"


def activity_key(pseudonym: str) -> str:
    """Rate-limit window and loop detection (bot.store.limits): digests and times, short TTL."""
    return f"{PREFIX}a:{_tag(pseudonym)}"


def conversation_keys(pseudonym: str) -> tuple[str, ...]:
    """Every key that belongs to one conversation: what FORGET deletes."""
    return (
        state_key(pseudonym),
        replies_key(pseudonym),
        lock_key(pseudonym),
        prefs_key(pseudonym),
        activity_key(pseudonym),
        outbox_key(pseudonym),
        reminders_key(pseudonym),
        callback_key(pseudonym),
        reply_jobs_key(pseudonym),
    )


def outbox_key(pseudonym: str) -> str:
    """Hash: each outbound message's id -> its Twilio SID, so a retried job never sends twice.

    TTL `bot.jobs.outbound.OUTBOX_TTL`, renewed on every write; holds no number and no body.
    """
    return f"{PREFIX}o:{_tag(pseudonym)}"


def reminders_key(pseudonym: str) -> str:
    """Set of the RQ job ids of the person's scheduled reminders, for STOP and FORGET.

    TTL: until the last of them is due, plus `bot.jobs.reminders.KEEP_AFTER_DUE`.
    """
    return f"{PREFIX}rm:{_tag(pseudonym)}"


def callback_key(pseudonym: str) -> str:
    """Hash: the person's open callback request, with their number (they consented).

    TTL `BOT_CALLBACK_TTL` (at most `bot.jobs.callbacks.MAX_TTL`); deleted when staff mark it done.
    """
    return f"{PREFIX}cb:{_tag(pseudonym)}"


def callbacks_index_key() -> str:
    """Sorted set of the pseudonyms with an open callback request, scored by expiry time.

    TTL: renewed to the longest request's on every add; members past their score are dropped.
    """
    return f"{PREFIX}callbacks"


def delivery_stats_key(day: str) -> str:
    """A hash of delivery-status counters for one UTC day (`YYYY-MM-DD`); no numbers."""
    return f"{PREFIX}stats:delivery:{day}"


def limit_stats_key(day: str) -> str:
    """A hash of counters for one UTC day: messages refused by a limit, loops, and free-text
    questions by language and outcome (`questions:fa:matched`); no numbers, no texts."""
    return f"{PREFIX}stats:limits:{day}"


def hour_segments_key(hour: str) -> str:
    """Outbound segments of one UTC hour (`YYYY-MM-DDTHH`), for the hourly brake; TTL 2 h."""
    return f"{PREFIX}brake:seg:{hour}"


def new_conversations_key(minute: str) -> str:
    """New conversations begun in one UTC minute (`YYYY-MM-DDTHH-MM`); TTL 2 minutes."""
    return f"{PREFIX}brake:new:{minute}"


def reply_jobs_key(pseudonym: str) -> str:
    """Set of the RQ job ids of the person's queued reply parts, for FORGET.

    The job ids themselves are random: they name neither the person nor the MessageSid.
    TTL: `bot.jobs.queues.REPLY_TTL` plus the parts delay, renewed on every add.
    """
    return f"{PREFIX}rj:{_tag(pseudonym)}"


def budget_key(day: str) -> str:
    """The service's outbound segments for one UTC day, and whether staff were told."""
    return f"{PREFIX}budget:{day}"


def flows_published_key() -> str:
    """The flows version staff last published (`bot flows reload`): each process reloads when
    it changes. TTL `bot.store.published.PUBLISHED_TTL`, renewed by every publish."""
    return f"{PREFIX}flows:published"


def flows_failed_key() -> str:
    """The errors of the last publish that did not validate (file:line:col lines, no personal
    data), shown by /readyz until a publish succeeds. TTL `bot.store.published.FAILED_TTL`."""
    return f"{PREFIX}flows:failed"


def flows_alert_key(digest: str) -> str:
    """Set once per distinct set of flow errors, so staff are told once, not by every process.

    TTL `bot.store.published.FAILED_TTL`.
    """
    return f"{PREFIX}flows:alert:{digest}"


def flows_serving_key() -> str:
    """Hash: process name (host:pid) -> the flows version it serves, as JSON (no personal
    data); read by `bot flows status`. TTL `bot.store.published.SERVING_TTL`, renewed by
    every write; fields of processes not heard from in that long are dropped when read."""
    return f"{PREFIX}flows:serving"


# --- the staff console (bot/web/console) ----------------------------------------------


def staff_key(name: str) -> str:
    """Hash: one staff account (role, argon2id hash); TTL `bot.store.staff.ACCOUNT_TTL`."""
    return f"{PREFIX}staff:u:{name}"


def staff_index_key() -> str:
    """Set of the staff account names; TTL renewed with every account change."""
    return f"{PREFIX}staff:names"


def staff_failures_key(name: str) -> str:
    """Sorted set: times of the wrong passwords typed for one staff name; TTL the window."""
    return f"{PREFIX}staff:fail:{name}"


def staff_lockout_key(name: str) -> str:
    """Present while logins for one staff name are refused; TTL the lockout."""
    return f"{PREFIX}staff:lock:{name}"


def staff_session_key(session_id: str) -> str:
    """Hash: one console session (staff name, role); TTL the idle timeout, renewed per page."""
    return f"{PREFIX}staff:sess:{session_id}"


def audit_key(day: str) -> str:
    """List: the console's audit entries of one UTC day (staff names, never a number)."""
    return f"{PREFIX}audit:{day}"


def turn_stats_key(day: str) -> str:
    """Hash: anonymous counts of one UTC day per flow, node, language and channel."""
    return f"{PREFIX}stats:turns:{day}"


def draft_flow_key(draft_id: str) -> str:
    """String: a flow file an editor uploaded to try, not published; short TTL."""
    return f"{PREFIX}console:draft:{draft_id}"


def draft_state_key(draft_id: str) -> str:
    """String: the simulator's conversation state while an editor tries a draft; short TTL."""
    return f"{PREFIX}console:draft-state:{draft_id}"
