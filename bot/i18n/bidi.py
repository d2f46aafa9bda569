"""Right-to-left replies that stay readable on a phone: isolates where the order can break.

In Persian, Arabic, Sorani or Pashto text, a phone number such as `0800 32 745` is shown as
`745 32 0800` by the Unicode bidirectional algorithm (the spaces between the digit groups
take the right-to-left direction); `EUR 350` becomes `350 EUR`, `+32` becomes `32+`, and a
line that starts with a Latin word is laid out left-to-right. Wrapping such a left-to-right
run in U+2066 LEFT-TO-RIGHT ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE keeps it in one piece,
in its own order, and lets the surrounding text decide the direction.

Only runs whose order can break are isolated: several words or number groups joined by
spaces, a leading `+`, Arabic-Indic digits with separators, and digits next to letters, a
dash or other punctuation (`9:00-12:30`: renderers differ on the dash). A single word
(`Fedasil`, `LANG`, `voluntaryreturn.be`) or a single number (`350`, `9:00`, a menu number)
already shows in its own order (`50%` shows as `%50`, as right-to-left readers write it).
Each isolate costs two characters, and on SMS in UCS-2 (67 per segment) isolating every run
pushed the Persian main menu from 3 to 4 segments.

A line whose first strong letter is left-to-right (`2. IOM ...`, `Fedasil ...`) gets U+200F
RIGHT-TO-LEFT MARK in front, so it is laid out right-to-left. Menu numbers are left outside
isolates: `1. text` shows as `text .1`, the way right-to-left readers number lists. Lines
without any right-to-left letter (an untranslated line, a language name in the language
menu) are left alone. Existing isolates are kept as they are, so `isolate` never nests or
splits one, and running it twice changes nothing.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from babel import Locale, UnknownLocaleError

from bot.text.digest_cache import DigestCache

LRI = "\u2066"
RLI = "\u2067"
FSI = "\u2068"
PDI = "\u2069"
RLM = "\u200f"
LRM = "\u200e"
OPENERS = frozenset((LRI, RLI, FSI))

_JOINERS = frozenset(".,:/-+@_%'’&=?#~")
"""Inside a run when the next character is left-to-right too: 9:00-12:30, voluntaryreturn.be."""
_PREFIXES = frozenset("+€$£")
"""Start a run when a left-to-right character follows: +32, €350."""
_SUFFIXES = frozenset("%€")
"""End a run right after a digit: 50%, 350€."""
_SPACES = frozenset(" \u00a0\u202f")


@cache
def is_rtl(lang: str) -> bool:
    """True when CLDR writes `lang` right-to-left (fa, ar, ckb, ps, ...)."""
    try:
        return Locale.parse(lang).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def _ltr(c: str) -> bool:
    return unicodedata.bidirectional(c) in ("L", "EN", "AN") and unicodedata.category(c) != "Cf"


def _rtl(c: str) -> bool:
    return unicodedata.bidirectional(c) in ("R", "AL")


def _starts_run(text: str, i: int) -> bool:
    if _ltr(text[i]):
        return True
    return text[i] in _PREFIXES and i + 1 < len(text) and _ltr(text[i + 1])


def _run_end(text: str, start: int) -> int:
    """Where the left-to-right run starting at `start` ends (exclusive)."""
    n = len(text)
    j = start + 1
    while j < n:
        c = text[j]
        if _ltr(c):
            j += 1
        elif c in _JOINERS and j + 1 < n and _ltr(text[j + 1]):
            j += 1
        elif c in _SUFFIXES and text[j - 1].isdigit():
            j += 1
        elif c in _SPACES:
            k = j
            while k < n and text[k] in _SPACES:
                k += 1
            if k < n and _starts_run(text, k):
                j = k + 1
            else:
                break
        else:
            break
    return j


def _arabic_digits_ltr(run: str) -> str:
    """Keep Arabic-Indic number groups in reading order inside an isolate.

    Arabic-Indic digits (bidi class AN) pull the spaces and dashes between them to the
    right-to-left direction even in an isolate; an LRM after each separator stops that.
    """
    if not any(unicodedata.bidirectional(c) == "AN" for c in run):
        return run
    return "".join(c if _ltr(c) else c + LRM for c in run)


def needs_isolate(run: str) -> bool:
    """True when the bidi algorithm could reorder the pieces of this left-to-right run."""
    if run[0] == "+" or any(c in _SPACES for c in run):
        return True
    classes = {unicodedata.bidirectional(c) for c in run}
    if "AN" in classes:
        return classes != {"AN"}
    if "EN" in classes:
        return "L" in classes or not classes <= {"EN", "CS", "ET"}
    return False


def _wrap_runs(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if _starts_run(text, i):
            j = _run_end(text, i)
            run = text[i:j]
            out.append(f"{LRI}{_arabic_digits_ltr(run)}{PDI}" if needs_isolate(run) else run)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_isolates(line: str) -> list[tuple[bool, str]]:
    """The line as (inside an existing isolate?, chunk) pieces; an open isolate ends the line."""
    pieces: list[tuple[bool, str]] = []
    depth = 0
    start = 0
    for i, c in enumerate(line):
        if c in OPENERS:
            if depth == 0:
                if i > start:
                    pieces.append((False, line[start:i]))
                start = i
            depth += 1
        elif c == PDI and depth:
            depth -= 1
            if depth == 0:
                pieces.append((True, line[start : i + 1]))
                start = i + 1
    if start < len(line):
        pieces.append((depth > 0, line[start:]))
    return pieces


def _first_strong(text: str) -> str:
    """L or R: the first strong character as a renderer unaware of isolates sees it."""
    for c in text:
        if unicodedata.bidirectional(c) == "L":
            return "L"
        if _rtl(c):
            return "R"
    return ""


def isolate_line(line: str) -> str:
    """One line with its left-to-right runs isolated, if it has right-to-left letters."""
    pieces = split_isolates(line)
    if not any(_rtl(c) for inside, chunk in pieces if not inside for c in chunk):
        return line
    out = "".join(chunk if inside else _wrap_runs(chunk) for inside, chunk in pieces)
    if _first_strong(out) == "L":
        out = RLM + out
    return out


def isolate(text: str) -> str:
    """A reply in a right-to-left language, made safe to show: see the module docstring.

    Most replies are screens that many people get, and isolating one costs about 0.1 ms
    (a Unicode lookup per character), so each process remembers where the marks went
    under a digest of the text: never the text itself, which may hold a person's answer.
    """
    key = DigestCache.key(text)
    marks = _marks.get(key)
    if marks is not None:
        return _insert(text, marks)
    done = "\n".join(isolate_line(line) for line in text.split("\n"))
    _marks.put(key, _insertions(text, done))
    return done


MARKS_CACHE = 2048
"""How many texts' mark positions each process remembers."""
_marks = DigestCache(MARKS_CACHE)


def _insertions(text: str, done: str) -> tuple[tuple[int, str], ...]:
    """(position in `text`, characters inserted there) that turn `text` into `done`.

    `isolate` only inserts marks, so `text` is a subsequence of `done` and matching each
    character of `text` at its first chance finds one such set of insertions.
    """
    marks: list[tuple[int, str]] = []
    i = 0
    pending: list[str] = []
    for c in done:
        if i < len(text) and c == text[i]:
            if pending:
                marks.append((i, "".join(pending)))
                pending = []
            i += 1
        else:
            pending.append(c)
    if pending:
        marks.append((i, "".join(pending)))
    return tuple(marks)


def _insert(text: str, marks: tuple[tuple[int, str], ...]) -> str:
    pieces, start = [], 0
    for position, inserted in marks:
        pieces += (text[start:position], inserted)
        start = position
    pieces.append(text[start:])
    return "".join(pieces)


def strip_marks(text: str) -> str:
    """`text` without isolates and directional marks (to compare or to count letters)."""
    return "".join(c for c in text if c not in OPENERS and c not in (PDI, RLM, LRM))
