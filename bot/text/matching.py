"""Reading what people actually type: digits in any script, labels with typos, stray emoji.

Real replies look like ` 1.`, `#1`, `۲`, `١)`, `２`, `Eligible??`, `eligable`, `Menü`,
`منو 🙏`. Everything here is pure and works on any script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

# Arabic-script letters that Persian and Arabic keyboards type differently.
_FOLD = str.maketrans(
    {
        "ي": "ی",  # Arabic yeh -> Farsi yeh
        "ى": "ی",  # alef maksura
        "ك": "ک",  # Arabic kaf -> keheh
        "ة": "ه",
        "ۀ": "ه",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ـ": None,  # tatweel
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        "\u2066": None,  # bidi isolates
        "\u2067": None,
        "\u2068": None,
        "\u2069": None,
        "\u061c": None,  # Arabic letter mark
    }
)


class _Table(dict):
    """A `str.translate` table filled on first sight of each character by `rule`.

    Each pass of the folding below was a Python loop over the characters (about 0.2 µs
    each); as a table it runs in C, and a character is looked up in unicodedata once per
    process. Bounded: past TABLE_LIMIT characters, the rule runs without being remembered.
    """

    __slots__ = ("rule",)

    def __init__(self, rule) -> None:
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str:
        value = self.rule(chr(code))
        if len(self) < TABLE_LIMIT:
            self[code] = value
        return value


TABLE_LIMIT = 20_000
"""Characters each folding table remembers (a few hundred in practice)."""


def _digit(c: str) -> str:
    return str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c


def _unmarked(c: str) -> str:
    return "" if unicodedata.category(c) == "Mn" else c


def _word_or_space(c: str) -> str:
    return c if c in "'-" or unicodedata.category(c)[0] in ("L", "N", "M") else " "


def _unsymbolled(c: str) -> str:
    return "" if unicodedata.category(c) in ("So", "Sk", "Cf") else c


_DIGITS = _Table(_digit)
_MARKS = _Table(_unmarked)
_WORDS = _Table(_word_or_space)
_SYMBOLS = _Table(_unsymbolled)


def ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit (Persian, Arabic-Indic, full-width...) by 0-9."""
    return text.translate(_DIGITS)


def normalize(text: str) -> str:
    """Fold a reply for comparison: NFKC, case, diacritics, script variants, edge noise.

    Plain ASCII (most replies: `1`, `menu`, `yes`) skips the Unicode passes, which change
    nothing in it; tests/test_matching.py checks both paths agree.
    """
    text = text or ""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_WORDS).split()).strip("'- ")
    return _normalize_unicode(text)


_ASCII_WORDS = {code: " " for code in range(128) if not (chr(code).isalnum() or chr(code) in "'-")}
"""ASCII characters that separate words: all but letters, digits, ' and -."""


def _normalize_unicode(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_FOLD)
    text = text.translate(_DIGITS).casefold()
    text = unicodedata.normalize("NFD", text).translate(_MARKS)
    # Again after removing marks: ئ loses its hamza and becomes ي, which must fold to ی.
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    # Anything but letters, digits, marks, ' and - (spaces too) separates words.
    return " ".join(text.translate(_WORDS).split()).strip("'- ")


_NUMBER_REPLY = re.compile(r"^\s*[#(\[]?\s*(\d{1,3})\s*[.)\]:\-]?\s*$")


def choice_number(text: str) -> int | None:
    """The number of a reply such as `1`, ` 1.`, `1)`, `#1`, `۱`, `١` or `１`; else None."""
    folded = unicodedata.normalize("NFKC", text or "").translate(_DIGITS).translate(_SYMBOLS)
    m = _NUMBER_REPLY.match(folded)
    return int(m.group(1)) if m else None


def split_words(text: str) -> list[str]:
    """The entries of a comma-separated list of words, as written (`yes, y, ok`)."""
    return [w.strip() for w in re.split(r"[,،;؛\n]", text or "") if w.strip()]


def _max_typos(length: int) -> int:
    if length <= 3:
        return 0
    if length <= 7:
        return 1
    return 2


class MatchTable:
    """Candidates normalized once, for lists matched on every message (countries, options).

    `best_match` takes one wherever it takes (text, value) pairs: building the table is the
    costly part (one `normalize` per candidate), so the engine builds each table once.
    """

    __slots__ = ("keys", "table")

    def __init__(self, candidates: Iterable[tuple[str, object]]):
        table: dict[str, object] = {}
        for text, value in candidates:
            key = normalize(text)
            if key and key not in table:
                table[key] = value
        self.table = table
        self.keys = list(table)


def best_match(
    reply: str, candidates: Iterable[tuple[str, object]] | MatchTable, fuzzy: bool = True
) -> object | None:
    """The value of the candidate whose text matches the reply, allowing small typos.

    `candidates` are (text, value) pairs. An exact match after `normalize` wins; otherwise
    the closest text by rapidfuzz's Levenshtein distance, within 1 typo for short words and 2
    for long ones, and only when no other candidate with a different value is as close.
    A reply that contains a whole multi-word candidate (e.g. "I want to talk to a
    counsellor") matches it too.
    """
    query = normalize(reply)
    if not query:
        return None
    prepared = candidates if isinstance(candidates, MatchTable) else MatchTable(candidates)
    table = prepared.table
    if query in table:
        return table[query]
    if not fuzzy:
        return None
    scored = process.extract(
        query, prepared.keys, scorer=Levenshtein.distance, limit=None, score_cutoff=2
    )
    scored = [(k, d) for k, d, _ in scored if d <= _max_typos(max(len(query), len(k)))]
    if scored:
        scored.sort(key=lambda kd: kd[1])
        best = scored[0][1]
        values = [table[k] for k, d in scored if d == best]
        return values[0] if all(v == values[0] for v in values) else None
    words = f" {query} "
    values = [v for k, v in table.items() if " " in k and f" {k} " in words]
    if values and all(v == values[0] for v in values):
        return values[0]
    ratio = process.extractOne(query, prepared.keys, scorer=fuzz.token_set_ratio, score_cutoff=92)
    if ratio and len(ratio[0]) > 5:
        return table[ratio[0]]
    return None
