"""Checks on translations: hedges kept, the language's own digits, screens within budget.

Pure functions over (msgid, msgstr) pairs, so they run on a Babel catalog, a review sheet
or a test's planted entries alike. The hedge words of each language live in its catalog
header, `X-Hedge-Words: may, can, might`, so translators own them:

- a word matches whole words, case-insensitively ("can" does not match "cannot");
- `*` stands for any letters, so stems and suffixes work: `peu*` (peut, peuvent),
  `*ebilir*` (Turkish -ebilir), `შე*ძლ*` (Georgian შეიძლება, შეგიძლიათ).

A translation must have at least as many hedges as its English: "You may be eligible ...
you may get EUR 350" has two, and a translation that keeps the first and drops the second
promises money. The check counts; it cannot tell which sentence lost its hedge, so the
problem names both counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from bot.text.matching import normalize
from bot.text.segments import analyse

HEDGE_HEADER = "X-Hedge-Words"
"""The catalog header field listing a language's hedge words, comma-separated."""
NATIVE_DIGIT_LANGUAGES = ("fa", "ps", "ckb")
"""Languages whose sentences must use their own digits, as their menus do."""

_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|\{[A-Za-z_][A-Za-z0-9_]*\}")
_URL = re.compile(r"\b[\w.-]+\.(?:be|org|int|com|eu)\b\S*", re.ASCII)
_PHONE = re.compile(r"\b0800 ?32 ?745\b")
"""The free phone number stays in Latin digits so that it stays dialable (see locales/README)."""
_LATIN_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Problem:
    """One finding about one message of one language."""

    lang: str
    msgid: str
    message: str

    def __str__(self) -> str:
        flat = " ".join(self.msgid.split())
        short = flat if len(flat) <= 50 else flat[:24] + "..." + flat[-23:]
        return f'{self.lang}: "{short}": {self.message}'


def parse_words(value: str) -> tuple[str, ...]:
    """The words of a comma-separated header value ("may, can, might")."""
    return tuple(word.strip() for word in value.split(",") if word.strip())


@cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = []
    for word in words:
        parts = [re.escape(part) for part in word.split("*")]
        body = r"\w*".join(parts)
        left = "" if word.startswith("*") else r"(?<!\w)"
        right = "" if word.endswith("*") else r"(?!\w)"
        alternatives.append(f"{left}{body}{right}")
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile("|".join(alternatives), re.IGNORECASE)


def count_hedges(text: str, words: Iterable[str]) -> int:
    """How many hedges of `words` (header syntax, `*` wildcards) `text` holds."""
    text = _PLACEHOLDER.sub(" ", text)
    return len(_pattern(tuple(words)).findall(text))


def missing_hedges(
    entries: Iterable[tuple[str, str]],
    source_words: Iterable[str],
    words: Iterable[str],
    lang: str = "",
) -> list[Problem]:
    """A problem for each translation with fewer hedges than its English (untranslated skipped)."""
    source_words, words = tuple(source_words), tuple(words)
    if not words:
        return [Problem(lang, "", f"the catalog header has no {HEDGE_HEADER}")]
    problems = []
    for msgid, msgstr in entries:
        if not msgid or not msgstr:
            continue
        wanted = count_hedges(msgid, source_words)
        found = count_hedges(msgstr, words)
        if found < wanted:
            problems.append(
                Problem(
                    lang,
                    msgid,
                    f"{wanted} hedge(s) in English, {found} in the translation "
                    f"({HEDGE_HEADER}: {', '.join(words)})",
                )
            )
    return problems


def latin_digits(entries: Iterable[tuple[str, str]], lang: str = "") -> list[Problem]:
    """A problem for each translation writing Latin digits in a sentence.

    Placeholders, web addresses and the free phone number (kept dialable) are not sentences'
    digits. Menu numbers are not in the catalogs: the service writes them itself.
    """
    problems = []
    for msgid, msgstr in entries:
        if not msgid or not msgstr:
            continue
        text = _PHONE.sub(" ", _URL.sub(" ", _PLACEHOLDER.sub(" ", msgstr)))
        found = _LATIN_DIGITS.findall(text)
        if found:
            problems.append(Problem(lang, msgid, f"Latin digits {', '.join(found)}"))
    return problems


def over_segments(
    screens: Mapping[str, str] | Iterable[tuple[str, str]], limit: int = 3, lang: str = ""
) -> list[Problem]:
    """A problem for each screen (name -> text as sent) above `limit` SMS segments.

    Counted with the service's Twilio-exact counter (`bot.text.segments.analyse`).
    """
    items = screens.items() if isinstance(screens, Mapping) else screens
    problems = []
    for name, text in items:
        segments = analyse(text).segments
        if segments > limit:
            problems.append(Problem(lang, name, f"{segments} SMS segments (limit {limit})"))
    return problems


def command_clashes(
    commands: Mapping[str, Iterable[str]],
    answers: Iterable[tuple[str, Iterable[str]]],
    lang: str = "",
) -> list[Problem]:
    """A problem for each menu answer that is also a command word.

    `commands` maps a command to its words (every language's: they all work everywhere);
    `answers` gives, per menu option or choice (`flow/node/option`), the words that pick it
    in `lang` (its label and synonyms). Commands are read first, so such an answer could
    never be chosen by that word. Words are compared as the engine reads them (folded).
    """
    owner = {normalize(w): name for name, words in commands.items() for w in words}
    owner.pop("", None)
    problems = []
    for where, words in answers:
        for word in words:
            name = owner.get(normalize(word))
            if name:
                problems.append(
                    Problem(lang, where, f'the answer "{word}" is also a {name} command word')
                )
    return problems


def missing_commands(commands: Mapping[str, str], translated: Mapping[str, str], lang: str):
    """A problem for each command (name -> English words) with no translated words in `lang`."""
    return [
        Problem(lang, words, f"no {name} command words in this catalog")
        for name, words in commands.items()
        if not translated.get(words)
    ]
