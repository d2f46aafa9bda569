"""What a turn's replies become on each channel: TwiML texts now, REST messages after.

- SMS: each reply's text is split (bot.text.split) into parts of at most `max_segments`
  segments, at most `max_parts` parts, at paragraph, line, sentence or word boundaries and
  never inside a number or a bidi isolate. Menus stay numbered text.
- WhatsApp: a reply with options goes as a quick-reply or list-picker template when one
  exists for its menu and language (bot.channels.whatsapp); everything else is text, cut
  only when it exceeds Twilio's 1600 characters.

Short replies of one turn are first joined into one message where that costs no more
(bot.text.grouping). The first text goes in the TwiML answer, the fastest way to reach the
person, and the rest by a job, in order (bot.jobs.tasks.send_reply). A turn with a template goes
entirely through the job, with an empty TwiML answer, so that its messages keep their order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.channels.message import Outgoing
from bot.channels.whatsapp import BODY_CHARS, template_name, variables
from bot.core.engine import Reply
from bot.text.digest_cache import DigestCache
from bot.text.grouping import WHATSAPP_MAX_CHARS, together
from bot.text.pricing import segments
from bot.text.split import split_reply

WHATSAPP_SEGMENTS = 10
"""Segment budget of a WhatsApp part when a text must be cut: at most 1530 characters."""
SPLIT_CACHE = 2048
"""How many splits each process remembers (as cut positions under a digest of the text)."""

_splits = DigestCache(SPLIT_CACHE)


@dataclass(frozen=True)
class Plan:
    """The texts of the TwiML answer, then the messages a job sends, in order."""

    twiml: list[str] = field(default_factory=list)
    rest: list[Outgoing] = field(default_factory=list)

    def units(self, channel: str) -> int:
        """What the plan costs as sent: each SMS message's segments, one per WhatsApp message.

        The budget is charged this, the price of the very messages that go out, so that
        splitting, grouping and counting happen once, here (a template counts one).
        """
        if channel == "whatsapp":
            return len(self.twiml) + len(self.rest)
        return sum(map(segments, self.twiml)) + sum(
            segments(m.body) if m.free_form else 1 for m in self.rest
        )


def sms_parts(text: str, max_segments: int, max_parts: int) -> list[str]:
    """One SMS reply as the messages it is sent in (one when it fits `max_segments`).

    Splitting a long text costs milliseconds (segments are counted grapheme by grapheme,
    many times), and most texts are screens sent to many people, so each process keeps the
    cut positions of recent splits under a digest of the text: never the text itself,
    which may hold a person's answer.
    """
    if segments(text) <= max_segments:
        return [text]  # what split_reply answers for a text that fits, without its cuts
    key = DigestCache.key(text, f"{max_segments}:{max_parts}:".encode())
    spans = _splits.get(key)
    if spans is None:
        parts = split_reply(text, max_segments_per_part=max_segments, max_parts=max_parts)
        spans = _spans(text, parts)
        _splits.put(key, spans)
    return [text[start:end] for start, end in spans]


def _spans(text: str, parts: list[str]) -> tuple[tuple[int, int], ...]:
    """Where each part lies in the text (the splitter only drops whitespace between)."""
    spans, position = [], 0
    for part in parts:
        start = text.index(part, position)
        spans.append((start, start + len(part)))
        position = start + len(part)
    return tuple(spans)


def whatsapp_parts(text: str, max_parts: int) -> list[str]:
    """One WhatsApp text as messages: whole unless longer than Twilio's 1600 characters."""
    if len(text) <= WHATSAPP_MAX_CHARS:
        return [text]
    return split_reply(text, max_segments_per_part=WHATSAPP_SEGMENTS, max_parts=max_parts)


def text_parts(texts: Sequence[str], channel: str, max_segments: int, max_parts: int) -> list[str]:
    """Every message the texts of a turn are sent in, in order: joined, then split."""
    parts: list[str] = []
    for text in together(texts, channel, max_segments, segments):
        if channel == "whatsapp":
            parts += whatsapp_parts(text, max_parts)
        else:
            parts += sms_parts(text, max_segments, max_parts)
    return [p for p in parts if p]


def interactive(
    reply: Reply, templates: Mapping[str, str], finish: Callable[[str, str], str] | None = None
) -> Outgoing | None:
    """The reply as a WhatsApp template message, or None when it has no template."""
    if not reply.options or not templates:
        return None
    name = template_name(reply)
    sid = templates.get(name) if name else None
    if not sid:
        return None
    values = variables(reply, finish)
    if len(values["1"]) > BODY_CHARS:
        return None
    return Outgoing(content_sid=sid, content_variables=values)


def plan(
    replies: Sequence[Reply],
    channel: str,
    *,
    max_segments: int,
    max_parts: int,
    templates: Mapping[str, str] | None = None,
    finish: Callable[[str, str], str] | None = None,
) -> Plan:
    """How a turn's replies go out: the first text in TwiML, the rest by a job."""
    if channel == "whatsapp" and templates:
        messages: list[Outgoing] = []
        run: list[str] = []  # texts since the last template, joined where they fit
        for reply in replies:
            rich = interactive(reply, templates, finish)
            if rich is None:
                run.append(reply.text)
                continue
            messages += [
                Outgoing(body=p) for p in text_parts(run, channel, max_segments, max_parts)
            ]
            messages.append(rich)
            run = []
        messages += [Outgoing(body=p) for p in text_parts(run, channel, max_segments, max_parts)]
        if any(not m.free_form for m in messages):
            return Plan([], messages)
    parts = text_parts([r.text for r in replies], channel, max_segments, max_parts)
    return Plan(parts[:1], [Outgoing(body=p) for p in parts[1:]])


def replan(texts: Sequence[str], channel: str, twiml_count: int, **sizes: int) -> list[str]:
    """The TwiML texts of a turn answered before (a Twilio retry), from its stored texts.

    The split is deterministic, so the first `twiml_count` parts are what was answered.
    """
    parts = text_parts(texts, channel, sizes["max_segments"], sizes["max_parts"])
    return parts[:twiml_count]
