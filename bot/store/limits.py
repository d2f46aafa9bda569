"""Abuse and cost protection: a per-sender rate limit, auto-responder detection, a daily budget.

The decisions are pure functions of small records, so they can be tested without a clock or
a server. The counting happens inside the store's two Lua scripts (bot.store.conversations), so
that a
message still costs two Redis round trips: BEGIN counts the arrival and refuses a sender
over the rate limit or muted before taking the conversation lock; COMMIT writes the sender's
`Activity` and adds the turn's outbound segments to the day's budget.

- Rate limit: at most `rate_limit` messages per `rate_window` seconds per sender (a fixed
  window from the first message). The first message over the limit gets one polite notice
  (`rate_limited`), the next ones get no reply until the window has passed.
- Loops with another bot: an exchange is bot-like when our reply is one we sent in the last
  few replies (the conversation goes round in circles) and it either came faster than a
  person reads and answers, or repeats the previous message word for word. After
  `loop_streak` bot-like exchanges in a row the sender is muted for `mute` seconds: no reply
  at all, since any reply would feed the loop.
- Budget: every outbound SMS segment (a WhatsApp message counts one) is added to a counter
  per UTC day and one per UTC hour. Replies to people in a conversation always go out;
  proactive messages (reminders, notices) go out only while the day's total stays within
  `daily_segments`, and staff are told once a day at 80 % and at 100 % of it.
- Brakes: a new conversation (no state yet) is refused while the day's budget is spent,
  the hour's segments reached `segments_per_hour`, or `new_per_minute` conversations began
  this minute. It gets one short fixed notice of one segment (`BRAKE`), nothing else, and
  changes no state: a flood of made-up senders costs one segment each, not a whole menu.

Nothing here holds a number or a message body: messages are known by a keyed digest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.settings import Settings
from bot.store.pseudonym import keyed_sha256

RATE_NOTICE = "rate_notice"
"""Verdict: the first message over the rate limit; it gets the `rate_limited` notice."""
RATE_SILENT = "rate_silent"
"""Verdict: a later message over the rate limit; it gets no reply."""
MUTED = "muted"
"""Verdict: the sender is muted after a loop; no reply until the mute ends."""
LOOP = "loop"
"""Verdict: this message completed a loop; its turn is dropped and the sender muted."""
BRAKE = "brake"
"""Verdict: a new conversation while a global brake holds; it gets a 1-segment notice."""
ALERT_SHARES = (80, 100)
"""Percentages of the daily budget at which staff are told, once each per day."""

RECENT_REPLIES = 4
"""How many of our last replies (as digests) an exchange is compared with."""
REPEAT_GAP_MS = 120_000
"""A word-for-word repeat counts as bot-like only within this many milliseconds."""
DIGEST_CHARS = 12
"""Hex characters kept of a digest: enough to tell messages apart, too few to matter."""
BUDGET_KEEP = 2 * 24 * 3600
"""Seconds a day's budget counter is kept (the day, and the next for staff to look at)."""


@dataclass(frozen=True)
class Limits:
    """The service's limits; durations in seconds, 0 switches a limit off."""

    rate_limit: int = 20
    """Inbound messages accepted per sender and window."""
    rate_window: int = 60
    """Seconds of the rate-limit window."""
    loop_streak: int = 5
    """Bot-like exchanges in a row that mute a sender (0: no loop detection)."""
    loop_fast: float = 5.0
    """Seconds: a message that comes sooner after the previous one is faster than a person."""
    mute: int = 3600
    """Seconds a sender caught in a loop gets no reply."""
    daily_segments: int = 2000
    """Outbound SMS segments per UTC day before proactive messages stop (0: no budget)."""
    segments_per_hour: int = 400
    """Outbound segments per UTC hour past which new conversations are braked (0: none)."""
    new_per_minute: int = 20
    """New conversations per minute past which new ones are braked (0: no limit)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the service's settings ask for."""
        return cls(
            rate_limit=settings.rate_limit,
            rate_window=settings.rate_window,
            loop_streak=settings.loop_streak,
            loop_fast=settings.loop_fast,
            mute=settings.loop_mute,
            daily_segments=settings.daily_segments,
            segments_per_hour=settings.segments_per_hour,
            new_per_minute=settings.new_per_minute,
        )

    @property
    def rate_window_ms(self) -> int:
        return int(self.rate_window * 1000)


@dataclass(frozen=True)
class Arrival:
    """One inbound message as the limits see it: a keyed digest, a time and a channel."""

    digest: str
    at_ms: int
    channel: str = "sms"


@dataclass(frozen=True)
class Activity:
    """What the service remembers of a sender's last exchanges: digests and times only.

    Stored as a Redis hash next to the rate-limit counter (fields `w`, `n`, written by the
    BEGIN script); these fields are written by COMMIT.
    """

    last_ms: int = 0
    last_digest: str = ""
    replies: tuple[str, ...] = ()
    streak: int = 0
    muted_until_ms: int = 0

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Activity:
        """Read the hash fields; anything unreadable counts as no history."""
        try:
            return cls(
                last_ms=int(fields.get("t") or 0),
                last_digest=fields.get("i") or "",
                replies=tuple(x for x in (fields.get("o") or "").split(",") if x),
                streak=int(fields.get("k") or 0),
                muted_until_ms=int(fields.get("m") or 0),
            )
        except ValueError:
            return cls()

    def to_fields(self) -> dict[str, str]:
        """The hash fields COMMIT writes."""
        return {
            "t": str(self.last_ms),
            "i": self.last_digest,
            "o": ",".join(self.replies),
            "k": str(self.streak),
            "m": str(self.muted_until_ms),
        }


def text_digest(secret: str | bytes, text: str) -> str:
    """A keyed digest of a message, case and spacing ignored; never reversible to the text."""
    mac = keyed_sha256(secret)
    mac.update(" ".join(text.casefold().split()).encode())
    return mac.hexdigest()[:DIGEST_CHARS]


def replies_digest(texts: Sequence[str]) -> str:
    """A digest of one turn's replies (our own texts, so no key is needed)."""
    joined = "\x1e".join(texts).encode()
    return hashlib.sha256(joined).hexdigest()[:DIGEST_CHARS]


def observe(before: Activity, arrival: Arrival, texts: Sequence[str], limits: Limits) -> Activity:
    """The sender's activity after this exchange; `muted_until_ms` is set when it is a loop.

    An exchange is bot-like when our reply is one of our last few replies AND the message
    came within `loop_fast` seconds of the previous one, or repeats it word for word within
    two minutes. A person going back to a menu, or answering fast to new questions, does not
    look like a bot; a responder that keeps the conversation in a circle does.
    """
    ours = replies_digest(texts)
    gap = arrival.at_ms - before.last_ms if before.last_ms else None
    circling = ours in before.replies
    fast = gap is not None and 0 <= gap < limits.loop_fast * 1000
    repeated = gap is not None and gap < REPEAT_GAP_MS and arrival.digest == before.last_digest
    streak = before.streak + 1 if circling and (fast or repeated) else 0
    muted = 0
    if limits.loop_streak and streak >= limits.loop_streak:
        muted, streak = arrival.at_ms + limits.mute * 1000, 0
    return Activity(
        last_ms=arrival.at_ms,
        last_digest=arrival.digest,
        replies=(*before.replies, ours)[-RECENT_REPLIES:],
        streak=streak,
        muted_until_ms=muted,
    )


def is_loop(activity: Activity, arrival: Arrival) -> bool:
    """True when `observe` has just muted the sender because of this message."""
    return activity.muted_until_ms > arrival.at_ms


def activity_ttl_ms(activity: Activity, limits: Limits) -> int:
    """How long the activity record must live: the longest of its windows, or the mute."""
    longest = max(limits.rate_window_ms, REPEAT_GAP_MS, int(limits.loop_fast * 1000))
    return max(longest, activity.muted_until_ms - activity.last_ms)


def rate_verdict(count: int, limits: Limits) -> str:
    """Over the limit: the first message over it gets a notice, later ones nothing."""
    return RATE_NOTICE if count == limits.rate_limit + 1 else RATE_SILENT


def day(at_ms: int) -> str:
    """The UTC day (`YYYY-MM-DD`) budgets and counters are kept by."""
    return _day(at_ms // 86_400_000)


@functools.lru_cache(maxsize=8)
def _day(number: int) -> str:
    """Day `number` since the epoch (UTC days have 86,400 s: no leap seconds in Unix time)."""
    return dt.datetime.fromtimestamp(number * 86_400, dt.UTC).strftime("%Y-%m-%d")


def hour(at_ms: int) -> str:
    """The UTC hour (`YYYY-MM-DDTHH`) the hourly segment brake counts by."""
    return f"{day(at_ms)}T{at_ms // 3_600_000 % 24:02d}"


def minute(at_ms: int) -> str:
    """The UTC minute (`YYYY-MM-DDTHH-MM`) the brake on new conversations counts by."""
    return f"{hour(at_ms)}-{at_ms // 60_000 % 60:02d}"


def budget_crossed(total: int, units: int, limits: Limits) -> tuple[int, ...]:
    """The ALERT_SHARES of the daily budget that the last `units` of `total` crossed."""
    if not limits.daily_segments or units <= 0:
        return ()
    return tuple(
        share
        for share in ALERT_SHARES
        if total - units < limits.daily_segments * share / 100 <= total
    )


def budget_reached(total: int, limits: Limits) -> bool:
    """True when the day's outbound total has reached the budget (never without a budget)."""
    return bool(limits.daily_segments) and total >= limits.daily_segments


def budget_allows(total: int, units: int, limits: Limits) -> bool:
    """True when a proactive message of `units` keeps the day within the budget."""
    return not limits.daily_segments or total + units <= limits.daily_segments


def budget_message(total: int, limits: Limits, share: int = 100) -> str:
    """What staff are told, once a day per share (80 %, 100 %) of the budget."""
    if share < 100:
        return (
            f"daily outbound budget {share} % spent: {total} of {limits.daily_segments} "
            "segments today (UTC). At 100 %, new conversations get only a short notice and "
            "reminders wait until tomorrow; people already in a conversation are still "
            "answered. Raise BOT_DAILY_SEGMENTS if this is expected, or look for a flood."
        )
    return (
        f"daily outbound budget reached: {total} of {limits.daily_segments} segments today "
        "(UTC); people already in a conversation are still answered, new conversations get "
        "only a short notice, reminders and other proactive messages wait until tomorrow. "
        "Raise BOT_DAILY_SEGMENTS if this is expected, or look for a loop or a flood."
    )
