"""Which replies of a turn travel together: one message instead of several when it costs no more.

A turn often ends in two short replies: an answer and the menu that follows it, or the line
saying which language was guessed and the first menu. Sent apart they are two messages, the
second sent by a job after the TwiML answer (messages of one TwiML answer may arrive in any
order), and each SMS is billed by the segment. Joined with a blank line they are one message
that arrives whole and in order, and on SMS often costs a segment less: two 200-character
replies are 2 + 2 segments apart and 3 together, because only the last segment of a message
is partly empty.

Two neighbouring texts are joined when the joined text
- on SMS: fits `max_segments` and costs no more segments than the two apart (a GSM-7 text
  joined to a Georgian one would turn the whole message into UCS-2 and cost more; it stays
  apart);
- on WhatsApp: fits Twilio's 1600 characters (WhatsApp bills per conversation, not per
  character, so fewer messages are simply better).

Joining is deterministic: a Twilio retry regroups the stored texts the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

SEPARATOR = "\n\n"
"""Between two replies sent as one message: a blank line, as between paragraphs."""
WHATSAPP_MAX_CHARS = 1600
"""Characters Twilio accepts in one message body (WhatsApp's own limit is higher)."""


def together(
    texts: Sequence[str], channel: str, max_segments: int, segments: Callable[[str], int]
) -> list[str]:
    """The turn's texts with neighbours joined where one message costs no more than two.

    `segments(text)` counts a text's SMS segments (bot.text.pricing.segments remembers counts).
    Empty texts are dropped; a text that is already too long on its own stays as it is
    (bot.text.split cuts it later).
    """
    texts = [t for t in texts if t]
    key = (channel, max_segments, segments, *map(hash, texts))
    sizes = _sizes.get(key)
    if sizes is None:
        sizes = _group_sizes(texts, channel, max_segments, segments)
        if len(_sizes) >= SIZES_CACHE:
            _sizes.clear()
        _sizes[key] = sizes
    grouped, start = [], 0
    for size in sizes:
        grouped.append(SEPARATOR.join(texts[start : start + size]))
        start += size
    return grouped


SIZES_CACHE = 1024
"""How many turns' groupings each process remembers: the store counts a turn's cost and the
webhook sends it, so each turn is grouped twice; kept under the texts' hashes, never the
texts."""
_sizes: dict[tuple, tuple[int, ...]] = {}


def _group_sizes(
    texts: Sequence[str], channel: str, max_segments: int, segments: Callable[[str], int]
) -> tuple[int, ...]:
    sizes: list[int] = []
    current = ""
    for text in texts:
        if sizes and _fits(current, text, channel, max_segments, segments):
            current = current + SEPARATOR + text
            sizes[-1] += 1
        else:
            current = text
            sizes.append(1)
    return tuple(sizes)


def _fits(
    first: str, second: str, channel: str, max_segments: int, segments: Callable[[str], int]
) -> bool:
    joined = first + SEPARATOR + second
    if channel == "whatsapp":
        return len(joined) <= WHATSAPP_MAX_CHARS
    cost = segments(joined)
    return cost <= max_segments and cost <= segments(first) + segments(second)
