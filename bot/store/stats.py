"""Anonymous counts for the console: per day, flow, node, language and channel, nothing else.

What staff want to know (how many people reached which step, in which language) needs no
person: each message adds one to a counter named by the day, the flow and node the
conversation now waits at, the language and the channel, and a conversation that starts adds
one to the day's count for its language and channel. No pseudonym, number or text is kept,
and each day's hash expires after `STATS_TTL`. On the message path the counts cost no round
trip of their own: the store's COMMIT script adds them (bot.store.conversations), for
messages from people only (the webhook's), never a dropped loop turn or a Twilio retry.

Small counts can single a person out, so the console shows every count below
`BOT_STATS_MIN_COUNT` as "<N" (`shown`), on its pages and in its CSV.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import redis

from bot.core.state import State
from bot.store import keys

log = logging.getLogger(__name__)

STATS_TTL = 90 * 24 * 3600
"""Seconds a day's counters are kept."""
SEP = "|"
"""Between the parts of a counter's field; flow and node ids, language codes and channel
names never contain it."""
STARTED = "c"
"""Field kind: conversations started (`c|lang|channel`)."""
REACHED = "m"
"""Field kind: messages that left the conversation waiting at a node
(`m|flow|node|lang|channel`)."""


@dataclass(frozen=True)
class Row:
    """One counter of one day."""

    day: str
    kind: str  # "conversations" or "node"
    flow: str
    node: str
    lang: str
    channel: str
    count: int


def day_of(at: float) -> str:
    """The UTC day (`YYYY-MM-DD`) of `at`, seconds since the epoch."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d")


def _clean(value: str | None) -> str:
    return (value or "-").replace(SEP, "_")[:64]


def fields_for(new: bool, after: State, channel: str) -> list[str]:
    """The counters one turn adds to: its node (if any), and a start when the conversation
    was `new` (no state, or no flow yet, before the turn)."""
    lang = _clean(after.lang)
    found = []
    if new:
        found.append(SEP.join((STARTED, lang, _clean(channel))))
    if after.flow and after.node:
        found.append(
            SEP.join((REACHED, _clean(after.flow), _clean(after.node), lang, _clean(channel)))
        )
    return found


def read(client: redis.Redis, days: int, now: float) -> list[Row]:
    """Every counter of the last `days` UTC days, oldest day first."""
    names = [day_of(now - back * 86400) for back in range(days - 1, -1, -1)]
    pipe = client.pipeline(transaction=False)
    for day in names:
        pipe.hgetall(keys.turn_stats_key(day))
    rows = []
    for day, fields in zip(names, pipe.execute(), strict=True):
        for raw, value in sorted(fields.items()):
            parts = (raw.decode() if isinstance(raw, bytes) else raw).split(SEP)
            count = int(value)
            if parts[0] == STARTED and len(parts) == 3:
                rows.append(Row(day, "conversations", "", "", parts[1], parts[2], count))
            elif parts[0] == REACHED and len(parts) == 5:
                rows.append(Row(day, "node", parts[1], parts[2], parts[3], parts[4], count))
    return rows


def shown(count: int, minimum: int) -> str:
    """A count as staff may see it: "<minimum" for 1 to minimum-1, so no small group shows."""
    if 0 < count < minimum:
        return f"<{minimum}"
    return str(count)


def suppressed(count: int, minimum: int) -> int | None:
    """The count for a chart, or None where it must not be shown."""
    return None if 0 < count < minimum else count
