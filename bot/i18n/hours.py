"""Opening days and hours written the way each language writes them, with Babel's CLDR data.

Staff give desk hours once, as data (`days: mon-thu`, `hours: "9:00-12:00"`), and each
person reads them in their language: the day names of CLDR ("ორშ-ხუთ", "دوشنبه-پنجشنبه"),
the language's time format (Belgian variants where CLDR has one: fr_BE, nl_BE, en_BE) and
the language's digits (Persian ۹:۰۰). Ranges use a plain hyphen: an en dash is not GSM-7
and would double what a Latin-script SMS costs.
"""

from __future__ import annotations

import datetime as dt

from babel import Locale, UnknownLocaleError
from babel.dates import format_time

from bot.flow.model import Hours, day_runs


def _locale(lang: str) -> Locale:
    for name in (f"{lang}_BE", lang, "en"):
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    raise UnknownLocaleError(lang)  # pragma: no cover - "en" always exists


def _time(minutes: int, locale: Locale) -> str:
    return format_time(dt.time(minutes // 60 % 24, minutes % 60), format="short", locale=locale)


def render(hours: Hours, lang: str) -> str:
    """The days and hours in `lang` (Latin digits; the translator turns them into the
    language's own digits with the rest of the reply)."""
    locale = _locale(lang)
    names = locale.days["format"]["abbreviated"]
    days = ", ".join(
        names[first] if first == last else f"{names[first]}-{names[last]}"
        for first, last in day_runs(hours.days)
    )
    times = ", ".join(f"{_time(a, locale)}-{_time(b, locale)}" for a, b in hours.ranges)
    return f"{days} {times}"
