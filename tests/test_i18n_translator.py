"""CatalogTranslator: catalogs, counted fallbacks, CLDR names and countries, digits, bidi."""

from __future__ import annotations

import os
import threading

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from bot.i18n.bidi import LRI, PDI
from bot.i18n.translator import CatalogTranslator, catalog_path, resolve_numbering, to_digits

SHIPPED = ("en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps")


def _write(locales, lang, entries, *, mo=False, fuzzy=()):
    catalog = Catalog(locale=lang)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    path = catalog_path(locales, lang, "mo" if mo else "po")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        (write_mo if mo else write_po)(fh, catalog)
    return path


@pytest.fixture
def locales(tmp_path):
    _write(
        tmp_path,
        "fa",
        {"Hello": "سلام", "Old": "کهنه", "Hi %(name)s": "سلام %(name)s"},
        fuzzy=("Old",),
    )
    return tmp_path


def test_translates_from_the_po_when_there_is_no_mo(locales):
    tr = CatalogTranslator(locales, ("en", "fa"))
    assert tr.gettext("fa", "Hello") == "سلام"
    assert tr.gettext("fa", "Hi %(name)s") == "سلام %(name)s"
    assert tr.sources["fa"] == "po"


def test_fuzzy_translations_are_not_used(locales):
    tr = CatalogTranslator(locales, ("en", "fa"))
    assert tr.gettext("fa", "Old") == "Old"


def test_an_up_to_date_mo_is_preferred_and_a_stale_one_ignored(locales):
    mo = _write(locales, "fa", {"Hello": "درود"}, mo=True)
    po = catalog_path(locales, "fa")
    os.utime(mo, (po.stat().st_mtime + 10, po.stat().st_mtime + 10))
    assert CatalogTranslator(locales, ("en", "fa")).gettext("fa", "Hello") == "درود"
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert CatalogTranslator(locales, ("en", "fa")).gettext("fa", "Hello") == "سلام"


def test_missing_translation_sends_the_base_text_and_is_counted(locales):
    tr = CatalogTranslator(locales, ("en", "fa", "ka"))
    assert tr.gettext("fa", "Goodbye") == "Goodbye"
    assert tr.gettext("fa", "Goodbye") == "Goodbye"
    assert tr.gettext("ka", "Hello") == "Hello"  # no Georgian catalog at all
    assert tr.fallbacks() == [("fa", "Goodbye", 2), ("ka", "Hello", 1)]
    assert tr.fallback_counts() == {"fa": 2, "ka": 1}
    assert any("no catalog for ka" in p for p in tr.problems)


def test_base_language_is_never_a_fallback(locales):
    tr = CatalogTranslator(locales, ("en", "fa"))
    assert tr.gettext("en", "Anything") == "Anything"
    assert tr.fallbacks() == []


def test_fallback_counter_is_thread_safe(locales):
    tr = CatalogTranslator(locales, ("en", "fa"))

    def hammer():
        for _ in range(2000):
            tr.gettext("fa", "Missing")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tr.fallbacks() == [("fa", "Missing", 16000)]


def test_language_names_come_from_cldr_in_the_language_itself(tmp_path):
    tr = CatalogTranslator(tmp_path, SHIPPED)
    for lang in SHIPPED:
        cldr = Locale.parse(lang).get_display_name(lang)
        assert cldr, f"Babel has no name for {lang}"
        name = tr.language_name(lang)
        assert name.casefold() == cldr.casefold()
        assert name[:1] == cldr[:1].title()
    assert tr.language_name("ka") == "ქართული"  # no Mtavruli capital
    assert tr.language_name("fr") == "Français"
    assert tr.language_name("fa") == "فارسی"


def test_language_aliases_name_a_language_in_every_shipped_language(tmp_path):
    aliases = CatalogTranslator(tmp_path, SHIPPED).language_aliases("fa")
    assert aliases[0] == "فارسی"
    assert "Persian" in aliases
    assert "persan" in aliases


def test_territories_are_cldr_names_in_the_language(tmp_path):
    tr = CatalogTranslator(tmp_path, SHIPPED)
    assert tr.territories("ka")["GE"] == Locale.parse("ka").territories["GE"]
    assert tr.territories("fa")["IR"] == "ایران"
    assert tr.territories("en")["AM"] == "Armenia"


def test_numbers_use_latin_digits_unless_staff_ask(tmp_path):
    tr = CatalogTranslator(tmp_path, SHIPPED)
    assert tr.number("fa", 12) == "12"
    assert tr.number("ar", 3) == "3"


def test_numbers_follow_the_chosen_cldr_numbering_system(tmp_path):
    tr = CatalogTranslator(
        tmp_path, SHIPPED, numbering_system={"fa": "arabext", "ar": "native", "ps": "default"}
    )
    assert tr.number("fa", 12) == "۱۲"
    assert tr.number("fa", 1234) == "۱٬۲۳۴"  # Persian digits and the Persian group separator
    assert tr.number("ar", 7) == "٧"
    assert tr.number("ps", 5) == "۵"
    assert tr.number("ka", 5) == "5"
    assert not [p for p in tr.problems if p.startswith("_config.yaml")]


def test_unknown_numbering_system_is_reported_and_latin_digits_used(tmp_path):
    tr = CatalogTranslator(tmp_path, ("en", "fa"), numbering_system={"fa": "arabx"})
    assert tr.number("fa", 12) == "12"
    problem = next(p for p in tr.problems if p.startswith("_config.yaml"))
    assert problem.startswith("_config.yaml settings.numbering_system.fa:")
    assert "arabext" in problem


def test_resolve_numbering_and_digits():
    assert resolve_numbering("fa", "default") == "arabext"
    assert resolve_numbering("ar", "native") == "arab"
    assert to_digits("1. 2024", "arabext") == "۱. ۲۰۲۴"
    with pytest.raises(ValueError, match="not one of"):
        resolve_numbering("fa", "roman")


def test_finish_isolates_only_right_to_left_languages(tmp_path):
    tr = CatalogTranslator(tmp_path, SHIPPED)
    text = "Fedasil 0800 32 745"
    assert tr.finish("ka", text) == text
    assert tr.finish("fa", "با 0800 32 745 تماس بگیرید") == f"با {LRI}0800 32 745{PDI} تماس بگیرید"
