"""The console's own interface texts in English, French and Dutch (gettext domain `console`).

The catalogs are `locales/<lang>/LC_MESSAGES/console.po`, apart from the flows' `messages.po`
so that translating the console never touches a flow catalog. They are read with Babel when
the app starts (no compiled file needed); fuzzy entries are left out. A staff member picks
a language with the switch on every page (kept in the session); otherwise the browser's
Accept-Language decides.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po
from flask import current_app, g, request, session

LANGUAGES = ("en", "fr", "nl")
"""The console's languages; English is the source."""
DOMAIN = "console"


def N_(message: str) -> str:
    """Marks a text for extraction that is translated later, where it is shown."""
    return message


SHOWN_LATER = (
    N_("counsellor"),
    N_("editor"),
    N_("admin"),
    N_("conversations"),
    N_("node"),
    N_("draft"),
    N_("reviewed"),
    N_("source"),
    N_("unknown"),
    N_("loaded"),
    N_("loaded with warnings"),
)
"""Roles, kinds of count, review states and load results, translated in the templates."""


def load(locales_dir: Path) -> dict[str, dict[str, str]]:
    """msgid -> translation, per language, from the console catalogs that exist."""
    catalogs: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        catalogs[lang] = {
            str(m.id): str(m.string)
            for m in catalog
            if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
        }
    return catalogs


def language() -> str:
    """This request's console language."""
    if "console_lang" not in g:
        chosen = session.get("lang")
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(LANGUAGES) or "en"
        g.console_lang = chosen
    return g.console_lang


def gettext(message: str, **values: object) -> str:
    """The message in this request's language, with %(name)s values filled in."""
    table = current_app.extensions["bot.console_catalogs"].get(language(), {})
    text = table.get(message, message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    """Singular or plural (the console's three languages share English's two forms)."""
    values.setdefault("num", n)
    return gettext(singular if n == 1 else plural, **values)
