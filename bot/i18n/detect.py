"""A language to suggest on first contact, from the script of the message and the sender's country.

The suggestion is only a first guess: the first reply says which language was chosen and
that LANG changes it. Script comes first because it is what the person actually reads:
Georgian and Armenian scripts name their language; Cyrillic is Ukrainian when it has і ї є ґ;
Arabic script is told apart by the letters only one language uses (Pashto ټ ډ ړ ښ ګ ڼ ې ۍ,
Sorani ڕ ڵ ۆ ێ ە, Persian پ چ ژ گ and the Persian forms ی ک, Arabic ي ك ة); Latin text is
Turkish by ğ ş ı İ, and French, Dutch or English by a few very common words. Arabic script is
also told apart by greetings only one of its languages uses (Persian درود چطوری ممنون, Arabic
مرحبا شلونك شكرا, Sorani سڵاو چۆنی, Pashto ستړي مه شې څنګه): most people start with سلام,
which all four share. When the text does not decide, the country of the number does
(phonenumbers' region, then the languages CLDR lists for that territory). A number from the
service's own country says nothing about the person and is ignored. When Arabic script is
still undecided, nothing is suggested and `ask_languages` names the languages to ask about:
guessing Arabic for an Afghan who wrote سلام from a Belgian number is a wrong first answer.
Nothing here logs or keeps the text or the number.

A statistical detector (lingua) was considered and left out: it adds tens of megabytes of
models and is unreliable on one- or two-word SMS, where the letters above already decide.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import phonenumbers
from babel.languages import get_official_languages

HOME_REGION = "BE"
"""The service's own country: a number from here suggests nothing about the language."""

SCRIPT_LANGUAGES = {
    "Georgian": ("ka",),
    "Armenian": ("hy",),
    "Cyrillic": ("ru", "uk"),
    "Arabic": ("ar", "fa", "ckb", "ps"),
    "Latin": ("en", "fr", "nl", "tr"),
}
"""The shipped languages written in each script; the first is the guess when nothing decides."""

MARKERS = {
    "uk": "іїєґІЇЄҐ",
    "ru": "ыэъёЫЭЪЁ",
    "ps": "ټډړږښګڼېۍځڅ",
    "ckb": "ڕڵۆێە",
    "fa": "پچژگیک",
    "ar": "يكةىأإ",
    "tr": "ğşıİĞŞ",
    "fr": "éèêàùûôîçœëï",
}
"""Letters that point to one language of a script; counted, and the most frequent wins."""

WEIGHTS = {"ps": 3, "ckb": 3, "uk": 3, "ru": 2, "tr": 3, "fa": 1, "ar": 1, "fr": 1}
"""Letters unique to a language weigh more than letters it shares with a neighbour."""

WORDS = {
    "fa": {"درود", "چطوری", "چطوره", "ممنون", "مرسی", "خوبی", "خوبین", "میخوام", "هستم", "چیه"},
    "ar": {"مرحبا", "شلونك", "شكرا", "السلام", "عليكم", "اهلا", "أهلا", "كيفك", "ابغى", "اريد"},
    "ckb": {"سڵاو", "چۆنی", "سوپاس", "باشی", "دەمەوێ", "چۆن"},
    "ps": {"ستړي", "څنګه", "مننه", "ښه", "غواړم", "یې"},
    "en": {"hello", "hi", "the", "yes", "no", "help", "please", "i", "am", "my", "what", "is"},
    "fr": {"bonjour", "salut", "oui", "non", "je", "suis", "merci", "aide", "est", "pas", "le"},
    "nl": {"hallo", "hoi", "ja", "nee", "ik", "ben", "het", "een", "niet", "dank", "goedemorgen"},
    "tr": {"merhaba", "selam", "evet", "hayır", "yardım", "bir", "ve", "teşekkürler", "nasılsın"},
}
"""Very common words of a language, for messages without telling letters (Arabic script:
greetings its neighbours do not use)."""

ASK_SCRIPTS = ("Arabic",)
"""Scripts whose languages are asked about when nothing decides, rather than guessed: the
first of Arabic script's languages is as often wrong as right on a first "سلام"."""

ENDONYMS = {"ar": "العربية", "fa": "فارسی", "ckb": "کوردی", "ps": "پښتو"}
"""Short names of a language in itself, as its speakers recognise it in a one-line choice
(CLDR's Sorani name, "کوردیی ناوەندی", is long and unfamiliar)."""

LANGUAGE_WORD = {"ar": "اللغة؟", "fa": "زبان؟", "ckb": "زمان؟", "ps": "ژبه؟"}
""""Language?" in each language asked about: the first line of the one-segment question."""

_SCRIPT_RANGES = (
    ("Georgian", 0x10A0, 0x10FF),
    ("Georgian", 0x1C90, 0x1CBF),
    ("Georgian", 0x2D00, 0x2D2F),
    ("Armenian", 0x0530, 0x058F),
    ("Armenian", 0xFB13, 0xFB17),
    ("Cyrillic", 0x0400, 0x052F),
    ("Arabic", 0x0600, 0x06FF),
    ("Arabic", 0x0750, 0x077F),
    ("Arabic", 0xFB50, 0xFDFF),
    ("Arabic", 0xFE70, 0xFEFF),
    ("Latin", 0x0041, 0x024F),
)


def script_of(char: str) -> str | None:
    """The script of a letter, among those of the shipped languages."""
    if not unicodedata.category(char).startswith("L"):
        return None
    code = ord(char)
    for name, low, high in _SCRIPT_RANGES:
        if low <= code <= high:
            return name
    return None


def main_script(text: str) -> str | None:
    """The script most letters of `text` are written in."""
    counts = Counter(s for s in map(script_of, text) if s)
    return counts.most_common(1)[0][0] if counts else None


def _by_letters(text: str, candidates: Sequence[str]) -> str | None:
    scores = {
        lang: WEIGHTS.get(lang, 1) * sum(text.count(c) for c in MARKERS.get(lang, ""))
        for lang in candidates
    }
    return _winner(scores)


def _winner(scores: dict[str, int]) -> str | None:
    """The language with the highest score, or None when nothing scored or two tie."""
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] == 0:
        return None
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def _by_words(text: str, candidates: Sequence[str]) -> str | None:
    words = set(re.findall(r"\w+", text.replace("\u200c", "").casefold()))
    scores = {lang: len(words & WORDS.get(lang, set())) for lang in candidates}
    return _winner(scores)


def region_of(number: str | None) -> str | None:
    """The ISO country of an E.164 number (`+995...`, `whatsapp:+995...`), or None."""
    if not number:
        return None
    raw = number.rpartition(":")[2].strip()
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


def from_country(number: str | None, candidates: Sequence[str]) -> str | None:
    """The first official (or de facto) language of the number's country among `candidates`."""
    region = region_of(number)
    if not region or region == HOME_REGION:
        return None
    for lang in get_official_languages(region, de_facto=True):
        base = lang.split("_")[0]
        if base in candidates:
            return base
    return None


def suggest_language(text: str, number: str | None, languages: Sequence[str]) -> str | None:
    """A language of `languages` to answer a first message in, or None when nothing hints one."""
    allowed = tuple(languages)
    script = main_script(text or "")
    family = tuple(lang for lang in SCRIPT_LANGUAGES.get(script or "", ()) if lang in allowed)
    if script and not family:
        return from_country(number, allowed)
    if len(family) == 1 and script != "Latin":
        return family[0]
    if family:
        guess = _by_words(text, family) if script == "Arabic" else None
        guess = guess or _by_letters(text, family)
        if guess is None and script == "Latin":
            guess = _by_words(text, family)
        if guess:
            return guess
        by_country = from_country(number, family)
        if by_country:
            return by_country
        if script in ASK_SCRIPTS:
            return None
        return family[0] if script != "Latin" else from_country(number, allowed)
    return from_country(number, allowed)


def ask_languages(text: str, languages: Sequence[str]) -> tuple[str, ...]:
    """The offered languages to ask about when `suggest_language` found none for `text`.

    Empty unless the text is in a script of ASK_SCRIPTS with more than one offered language.
    """
    script = main_script(text or "")
    if script not in ASK_SCRIPTS:
        return ()
    family = tuple(lang for lang in SCRIPT_LANGUAGES[script] if lang in languages)
    return family if len(family) > 1 else ()
