"""Split a long reply into SMS-sized messages at natural boundaries.

Why: a reply longer than a few segments is expensive and, on some phones and networks, arrives
out of order or cut. Sending it as a few separate messages, each within a segment budget counted
exactly as Twilio counts it (bot.text.segments), keeps costs known and every message readable on its
own. A cut falls, in order of preference, between paragraphs, lines, sentences and finally words;
never inside a word, a number such as "0800 32 745" or "EUR 350", or a bidi isolate
(U+2066/2067/2068 ... U+2069), which would garble right-to-left text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.text.segments import analyse

_PARAGRAPH, _LINE, _SENTENCE, _WORD = range(4)
"""Kinds of boundary, the coarsest (most preferred) first."""

# Whitespace a message may be cut at: any but the no-break spaces (U+00A0, U+2007, U+202F).
_BREAKABLE_SPACE = re.compile(r"[^\S\u00a0\u2007\u202f]+")
_ISOLATE_OPENERS = "\u2066\u2067\u2068"  # LRI, RLI, FSI
_ISOLATE_CLOSER = "\u2069"  # PDI
_PARAGRAPH_END = "\n\r\u2029"  # an isolate left open ends with its paragraph (UAX #9)
_SENTENCE_ENDS = ".!?…؟۔։।。"
_CLOSING_MARKS = "\"')]}»”’›\u2069"
_LIST_NUMBER = re.compile(r"\d+[.)]")  # "1." in a menu ends no sentence

# A run of number-like words joined by spaces ("0800 32 745", "+32 2 213 44 11", "1 500"),
# with a currency word or sign on either side ("EUR 350", "350 €", "1500 ევრომდე").
_CURRENCY = r"(?:EUR|USD|GBP|€|\$|£|euros?|евро|євро|avro|ევრო|եվրո|یورو|یۆرۆ)"
_NUMBER_WORD = r"\S*\d\S*"
_SPACES = r"[ \u00a0\u2007\u202f]+"
_NUMBER_RUN = re.compile(
    rf"(?<!\S)(?:{_CURRENCY}{_SPACES})?{_NUMBER_WORD}(?:{_SPACES}{_NUMBER_WORD})*"
    rf"(?:{_SPACES}{_CURRENCY}\S*)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Cut:
    """Whitespace a message may be cut at: text[start:end], dropped from both parts."""

    start: int
    end: int
    kind: int


def split_reply(
    text: str,
    *,
    max_segments_per_part: int = 1,
    max_parts: int = 3,
    smart_encoding: bool = False,
) -> list[str]:
    """Split text into at most max_parts messages of at most max_segments_per_part segments.

    A text that fits is returned whole. Otherwise each part is cut at the coarsest boundary
    (paragraph, line, sentence, word) that still gives a part at least half as long as the
    longest part that fits; the whitespace at a cut is dropped, nothing else is changed.
    Two cases give a part over budget rather than breaking a unit: a single word, number or
    isolate too long for one part is sent whole as its own part, and when max_parts is reached
    the last part holds all the rest. Segments are counted as bot.text.segments.analyse counts them.
    """
    if max_segments_per_part < 1 or max_parts < 1:
        raise ValueError("max_segments_per_part and max_parts must be at least 1")

    def fits(part: str) -> bool:
        return analyse(part, smart_encoding=smart_encoding).segments <= max_segments_per_part

    cuts = _cuts(text)
    parts: list[str] = []
    start = 0
    while len(parts) < max_parts - 1 and not fits(text[start:]):
        later = [cut for cut in cuts if cut.start > start]
        cut = _choose(text, start, later, fits)
        if cut is None:
            break
        cut = _not_alone(text, cut, later, fits)
        parts.append(text[start : cut.start])
        start = cut.end
    parts.append(text[start:])
    return parts


def _not_alone(text: str, cut: _Cut, cuts: list[_Cut], fits: Callable[[str], bool]) -> _Cut:
    """`cut`, or an earlier one when `cut` would leave a last line alone in the last part.

    The last line of a reply, after a line break, is often its footer ("0 Main menu.") or
    a hint: sent alone it means nothing. The part before then ends a sentence (or a word)
    earlier, and that sentence travels with the last line, when the rest still fits one part.
    """
    rest = text[cut.end :]
    if cut.kind != _LINE or "\n" in rest.strip() or not fits(rest):
        return cut
    earlier = [c for c in cuts if c.start < cut.start]
    for kind in (_SENTENCE, _WORD):
        for candidate in reversed([c for c in earlier if c.kind <= kind]):
            if fits(text[candidate.end :]):
                return candidate
            break
    return cut


def _choose(text: str, start: int, cuts: list[_Cut], fits: Callable[[str], bool]) -> _Cut | None:
    """Pick the cut that ends the part beginning at start (see split_reply for the rule)."""
    if not cuts:
        return None
    # The longest part that fits: fitting is monotonic in the length, so bisect.
    low, high = 0, len(cuts)  # cuts[:low] fit, cuts[high:] do not
    while low < high:
        middle = (low + high) // 2
        if fits(text[start : cuts[middle].start]):
            low = middle + 1
        else:
            high = middle
    if low == 0:
        return cuts[0]  # even the first unit is too long: send it whole
    longest = cuts[low - 1]
    for kind in (_PARAGRAPH, _LINE, _SENTENCE):
        candidates = [cut for cut in cuts[:low] if cut.kind <= kind]
        if candidates and 2 * (candidates[-1].start - start) >= longest.start - start:
            return candidates[-1]
    return longest


def _cuts(text: str) -> list[_Cut]:
    """Every place the text may be cut at, in order, with the kind of boundary it is."""
    protected = _protected(text)
    cuts = []
    for match in _BREAKABLE_SPACE.finditer(text):
        start, end = match.span()
        if start == 0 or end == len(text) or any(protected[start:end]):
            continue
        cuts.append(_Cut(start, end, _kind(text, start, match.group())))
    return cuts


def _kind(text: str, start: int, space: str) -> int:
    """Kind of boundary that the whitespace `space`, found at text[start], is."""
    breaks = sum(space.count(char) for char in "\n\u2028") + 2 * space.count("\u2029")
    if breaks >= 2:
        return _PARAGRAPH
    if breaks or "\r" in space:
        return _LINE
    words = text[:start].rsplit(None, 1)
    word = words[-1] if words else ""
    last = word.rstrip(_CLOSING_MARKS)[-1:]
    if last and last in _SENTENCE_ENDS and not _LIST_NUMBER.fullmatch(word):
        return _SENTENCE
    return _WORD


def _protected(text: str) -> list[bool]:
    """For each character: does it lie inside a number run or a bidi isolate?"""
    protected = [False] * len(text)
    spans = [match.span() for match in _NUMBER_RUN.finditer(text)]
    depth, opened = 0, 0
    for index, char in enumerate(text):
        if char in _ISOLATE_OPENERS:
            if depth == 0:
                opened = index
            depth += 1
        elif char == _ISOLATE_CLOSER and depth:
            depth -= 1
            if depth == 0:
                spans.append((opened, index + 1))
        elif char in _PARAGRAPH_END and depth:
            spans.append((opened, index))
            depth = 0
    if depth:
        spans.append((opened, len(text)))
    for first, last in spans:
        protected[first:last] = [True] * (last - first)
    return protected
