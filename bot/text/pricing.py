"""What replies cost: SMS segments on SMS, one message each on WhatsApp.

The daily budget (bot.store.limits), the TwiML grouping and the split of long replies
(bot.channels.render) all count with `segments`, which remembers counts by the text's hash.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text.grouping import together
from bot.text.segments import analyse

SEGMENT_CACHE = 4096
"""How many texts' segment counts are remembered (a few menus per language, and answers)."""


def outbound_units(channel: str, texts: Sequence[str], max_segments: int = 0) -> int:
    """What replies cost: SMS segments on SMS, one per message on WhatsApp.

    With `max_segments` SMS texts are counted as they are sent: neighbours joined where one
    message costs no more (bot.text.grouping); without it, each text as one message. WhatsApp
    replies are counted one message each: a reply sent as a template stays a message of its
    own, so joining could only under-count.
    """
    if max_segments and channel != "whatsapp":
        texts = together(texts, channel, max_segments, segments)
    if channel == "whatsapp":
        return len(texts)
    return sum(segments(text) for text in texts)


_SEGMENTS: dict[int, int] = {}


def segments(text: str) -> int:
    """SMS segments of a text, remembered by the text's hash.

    Counting costs about 0.3 ms a reply, and most replies are menus everybody gets. The
    cache keeps Python's hash of each text, never the text: replies can repeat answers.
    """
    key = hash(text)
    found = _SEGMENTS.get(key)
    if found is None:
        found = analyse(text).segments
        if len(_SEGMENTS) >= SEGMENT_CACHE:
            _SEGMENTS.clear()
        _SEGMENTS[key] = found
    return found
