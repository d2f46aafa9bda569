"""`CatalogTranslator`: what the engine calls to translate, name languages and write numbers.

Translations come from the compiled catalogs `locales/<lang>/LC_MESSAGES/messages.mo`. When a
`.mo` is missing or older than its `.po` (someone edited a catalog and did not run `make`),
the `.po` is read instead, so a stale build never hides a translation. A text with no
translation is sent in the base language, and the miss is counted per (language, msgid):
`fallbacks()` tells staff which texts to translate first. Only staff-written texts are
counted, never anything a person sent.

Names of languages and countries come from Babel's CLDR data, never typed by hand. Numbers
follow a language's CLDR numbering system when `_config.yaml` asks for it
(`settings.numbering_system: {fa: arabext}`); Babel gives the separators of that system and
this module swaps in its digits.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.numbers import UnsupportedNumberingSystemError, format_decimal

from bot.i18n import bidi

log = logging.getLogger(__name__)

DOMAIN = "messages"
"""The gettext domain: every catalog is `locales/<lang>/LC_MESSAGES/messages.po`."""
SMALL_NUMBERS = 100
"""Numbers below this (menu numbers, counts) are formatted once per language and kept."""

DIGIT_ZERO = {
    "latn": "DIGIT ZERO",
    "arab": "ARABIC-INDIC DIGIT ZERO",
    "arabext": "EXTENDED ARABIC-INDIC DIGIT ZERO",
    "beng": "BENGALI DIGIT ZERO",
    "deva": "DEVANAGARI DIGIT ZERO",
    "fullwide": "FULLWIDTH DIGIT ZERO",
    "mymr": "MYANMAR DIGIT ZERO",
    "thai": "THAI DIGIT ZERO",
    "tibt": "TIBETAN DIGIT ZERO",
    "khmr": "KHMER DIGIT ZERO",
}
"""CLDR decimal numbering systems (numberingSystems.xml) by the Unicode name of their zero.

Babel knows each system's separators but not its digits; the ten digits of a decimal system
are consecutive in Unicode, so the zero is all we need.
"""

ALIASES = ("default", "native")
"""Besides a system id, `numbering_system` may say `default` or `native`: CLDR's choice."""


def catalog_path(locales_dir: Path, lang: str, ext: str = "po") -> Path:
    """Where the catalog of `lang` lives."""
    return Path(locales_dir) / lang / "LC_MESSAGES" / f"{DOMAIN}.{ext}"


def read_catalog(locales_dir: Path, lang: str) -> tuple[dict[str, str], str]:
    """The translations of `lang` (msgid -> msgstr, fuzzy and empty left out) and their source.

    The source is "mo", "po" (no up-to-date .mo) or "" (no catalog at all).
    """
    po = catalog_path(locales_dir, lang, "po")
    mo = catalog_path(locales_dir, lang, "mo")
    catalog: Catalog | None = None
    source = ""
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            catalog, source = read_mo(fh), "mo"
    elif po.exists():
        with po.open("rb") as fh:
            catalog, source = read_po(fh, locale=lang, domain=DOMAIN), "po"
        log.info("catalog %s: no up-to-date .mo, read the .po (run `bot i18n compile`)", lang)
    table: dict[str, str] = {}
    if catalog is not None:
        for message in catalog:
            if message.id and isinstance(message.id, str) and not message.fuzzy:
                if isinstance(message.string, str) and message.string:
                    table[message.id] = message.string
    return table, source


@cache
def _locale(lang: str) -> Locale | None:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return None


def menu_name(name: str) -> str:
    """A CLDR name as it starts a menu line: first letter in title case (CLDR's uiListOrMenu).

    Title case, not upper case: Georgian letters have upper-case forms (Mtavruli) that are
    only used for all-caps text, and their title case is the letter itself.
    """
    return name[:1].title() + name[1:]


@cache
def language_name(lang: str) -> str:
    """The language's name in itself, from CLDR ("ქართული", "فارسی"), as a menu shows it.

    Remembered: the language menu names every language on each showing.
    """
    locale = _locale(lang)
    if locale is None:
        return lang
    return menu_name(locale.get_display_name(lang) or lang)


def resolve_numbering(lang: str, system: str) -> str:
    """The CLDR numbering system id for `system` ("default", "native" or an id) in `lang`.

    Raises ValueError, naming the systems this module can write, for anything else.
    """
    locale = _locale(lang)
    if system == "default" and locale is not None:
        system = locale.default_numbering_system
    elif system == "native" and locale is not None:
        system = locale.other_numbering_systems.get("native", locale.default_numbering_system)
    if system not in DIGIT_ZERO:
        known = ", ".join([*ALIASES, *DIGIT_ZERO])
        raise ValueError(f'numbering system "{system}" for {lang} is not one of: {known}')
    return system


def to_digits(text: str, system: str) -> str:
    """`text` with its ASCII digits written in `system` (e.g. arabext: 12 -> ۱۲)."""
    zero = ord(unicodedata.lookup(DIGIT_ZERO[system]))
    if zero == ord("0"):
        return text
    return "".join(chr(zero + ord(c) - 48) if "0" <= c <= "9" else c for c in text)


class CatalogTranslator:
    """Translations and CLDR formatting for the shipped languages; thread-safe.

    `languages` are those of `_config.yaml`; `numbering_system` maps a language to a CLDR
    numbering system (or "default"/"native"); languages not in it use Latin digits.
    `numbers` are placeholder values that are numbers the same in every language (the
    service's `{conversation_hours}`...): a language with its own numbering system gets them
    written in its digits, through CLDR, in its translations, so the privacy notice in
    Persian says ۲۴ where the menus say ۱.
    """

    def __init__(
        self,
        locales_dir: str | Path,
        languages,
        default_language: str = "en",
        numbering_system: Mapping[str, str] | None = None,
        numbers: Mapping[str, str] | None = None,
    ):
        self.locales_dir = Path(locales_dir)
        self.default_language = default_language
        self.languages = tuple(languages)
        self.catalogs: dict[str, dict[str, str]] = {}
        self.sources: dict[str, str] = {}
        self.problems: list[str] = []
        for lang in self.languages:
            if lang == default_language:
                continue
            self.catalogs[lang], self.sources[lang] = read_catalog(self.locales_dir, lang)
            if not self.sources[lang]:
                self.problems.append(
                    f"no catalog for {lang} in {self.locales_dir}: texts are sent in "
                    f"{default_language} (run `bot i18n update` and translate)"
                )
        self.numbering: dict[str, str] = {}
        for lang, system in (numbering_system or {}).items():
            try:
                self.numbering[lang] = resolve_numbering(lang, system)
            except ValueError as exc:
                self.problems.append(f"_config.yaml settings.numbering_system.{lang}: {exc}")
        for problem in self.problems:
            log.warning("%s", problem)
        self._lock = threading.Lock()
        self._fallbacks: Counter[tuple[str, str]] = Counter()
        self._territories: dict[str, Mapping[str, str]] = {}
        self._numbers: dict[tuple[str, int], str] = {}
        self._fill_numbers(numbers or {})

    def _fill_numbers(self, numbers: Mapping[str, str]) -> None:
        """Write the fixed number placeholders into translations, in each language's digits."""
        values = {name: int(v) for name, v in numbers.items() if str(v).isdigit()}
        for lang, system in self.numbering.items():
            table = self.catalogs.get(lang)
            if not table or system == "latn":
                continue
            said = {f"%({name})s": self._format_number(lang, v) for name, v in values.items()}
            for msgid, text in table.items():
                for placeholder, digits in said.items():
                    text = text.replace(placeholder, digits)
                table[msgid] = text

    # --- the interface the engine calls ---------------------------------------------

    def gettext(self, lang: str, msgid: str) -> str:
        """The translation of `msgid`, or `msgid` itself (counted) when there is none."""
        if lang == self.default_language or not msgid:
            return msgid
        translated = self.catalogs.get(lang, {}).get(msgid)
        if translated is not None:
            return translated
        with self._lock:
            self._fallbacks[lang, msgid] += 1
        return msgid

    def language_name(self, lang: str) -> str:
        """The language's name in itself, from CLDR ("ქართული", "فارسی")."""
        return language_name(lang)

    def language_aliases(self, lang: str) -> list[str]:
        """Every name of `lang` in the shipped languages (Persian, persan, فارسی...)."""
        names = [language_name(lang)]
        for other in self.languages:
            locale = _locale(other)
            if locale is not None and lang in locale.languages:
                names.append(locale.languages[lang])
        return list(dict.fromkeys(names))

    def territories(self, lang: str) -> Mapping[str, str]:
        """Country names in `lang` by ISO code, from CLDR."""
        cached = self._territories.get(lang)
        if cached is None:
            locale = _locale(lang) or _locale(self.default_language)
            cached = MappingProxyType(dict(locale.territories) if locale else {})
            self._territories[lang] = cached
        return cached

    def number(self, lang: str, value: int) -> str:
        """`value` with the separators and digits of the language's chosen numbering system.

        Menu numbers are formatted on every menu line; the small ones are remembered.
        """
        if 0 <= value < SMALL_NUMBERS:
            found = self._numbers.get((lang, value))
            if found is None:
                found = self._numbers[(lang, value)] = self._format_number(lang, value)
            return found
        return self._format_number(lang, value)

    def _format_number(self, lang: str, value: int) -> str:
        system = self.numbering.get(lang, "latn")
        locale = _locale(lang) or _locale(self.default_language)
        try:
            text = format_decimal(value, locale=locale, numbering_system=system)
        except UnsupportedNumberingSystemError:
            text = format_decimal(value, locale=locale)
        return to_digits(text, system)

    def finish(self, lang: str, text: str) -> str:
        """Last touch on a whole reply: left-to-right runs isolated in right-to-left text."""
        return bidi.isolate(text) if bidi.is_rtl(lang) else text

    # --- for staff ------------------------------------------------------------------

    def fallbacks(self) -> list[tuple[str, str, int]]:
        """(language, msgid, times sent untranslated), most frequent first."""
        with self._lock:
            items = list(self._fallbacks.items())
        return sorted(((lang, msgid, n) for (lang, msgid), n in items), key=lambda t: -t[2])

    def fallback_counts(self) -> dict[str, int]:
        """Untranslated sends per language: a short summary for a health page."""
        summary: Counter[str] = Counter()
        for lang, _msgid, n in self.fallbacks():
            summary[lang] += n
        return dict(summary)
