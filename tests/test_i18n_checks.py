"""bot/i18n/checks.py against the shipped catalogs (which must pass) and planted defects."""

from __future__ import annotations

import logging

import pytest
from babel.messages.pofile import read_po

from bot.channels.costs import (
    MAIN_PATH,
    STAFF_STANDIN_CHARS,
    first_contact,
    screens,
    with_staff_standins,
)
from bot.core.engine import Engine
from bot.core.runtime import ROOT, Runtime
from bot.flow.nodes import Menu
from bot.i18n.catalogs import header_fields
from bot.i18n.checks import (
    HEDGE_HEADER,
    NATIVE_DIGIT_LANGUAGES,
    command_clashes,
    count_hedges,
    latin_digits,
    missing_commands,
    missing_hedges,
    over_segments,
    parse_words,
)
from bot.i18n.translator import catalog_path

LOCALES = ROOT / "locales"
LANGUAGES = ["en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps"]
RESULT = (
    "You may be eligible. A counsellor will confirm.\n"
    "If people from %(country)s need a visa for Europe, you may get EUR 350 per adult and "
    "EUR 175 per child in cash when you leave, and help after return."
)


def entries(lang: str) -> list[tuple[str, str]]:
    with catalog_path(LOCALES, lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return [(m.id, m.string) for m in catalog if m.id and isinstance(m.id, str)]


def hedges(lang: str) -> tuple[str, ...]:
    text = catalog_path(LOCALES, lang).read_text(encoding="utf-8")
    return parse_words(header_fields(text).get(HEDGE_HEADER, ""))


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    logging.disable(logging.WARNING)
    try:
        return Runtime.load(ROOT / "flows", LOCALES)
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalog_lists_its_hedge_words(lang):
    assert hedges(lang), f"{catalog_path(LOCALES, lang)} has no {HEDGE_HEADER} header"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_shipped_translations_keep_their_hedges(lang):
    problems = missing_hedges(entries(lang), hedges("en"), hedges(lang), lang)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("lang", NATIVE_DIGIT_LANGUAGES)
def test_shipped_sentences_use_native_digits(lang):
    problems = latin_digits(entries(lang), lang)
    assert not problems, "\n".join(map(str, problems))


def test_hedge_words_match_whole_words_and_stems():
    assert count_hedges("You may get EUR 50; you can get more.", hedges("en")) == 2
    assert count_hedges("They cannot get it again.", hedges("en")) == 0
    assert count_hedges("Vous pouvez recevoir, il se peut", ("peu*", "pouv*")) == 2
    assert count_hedges("alabilirsiniz", ("*abilir*",)) == 1
    assert count_hedges("%(may)s", ("may",)) == 0


@pytest.mark.parametrize(
    ("lang", "planted"),
    [
        ("ka", "შეიძლება გეკუთვნოდეთ.\n%(country)s: წასვლისას მიიღებთ 350€ ზრდასრულს."),
        ("ru", "Возможно, вы подходите.\n%(country)s: 350 € взрослому при отъезде."),
        ("fr", "Vous êtes admissible. Vous recevrez 350 EUR par adulte."),
    ],
)
def test_a_planted_hedgeless_translation_is_found(lang, planted):
    problems = missing_hedges([(RESULT, planted)], hedges("en"), hedges(lang), lang)
    assert len(problems) == 1
    assert "2 hedge(s) in English" in problems[0].message


def test_a_catalog_without_hedge_words_is_reported():
    assert missing_hedges([(RESULT, "x")], hedges("en"), (), "xx")


def test_a_planted_latin_digit_in_persian_is_found():
    good = "تلفن رایگان 0800 32 745، روزهای کاری ۹:۰۰-۱۲:۳۰. voluntaryreturn.be %(country)s"
    bad = "شاید بزرگسال 350 یورو بگیرید."
    assert latin_digits([("a", good)], "fa") == []
    problems = latin_digits([("a", good), ("b", bad)], "fa")
    assert [(p.msgid, p.message) for p in problems] == [("b", "Latin digits 350")]


def test_a_planted_four_segment_screen_is_found():
    screen = "ა" * (67 * 3 + 1)  # UCS-2: 67 characters a segment
    assert over_segments({"ok": "ა" * (67 * 3), "long": screen}, 3, "ka")[0].msgid == "long"
    assert len(over_segments([("long", screen)], 3)) == 1


def test_main_path_screens_fit_in_three_segments(runtime):
    engine = Engine(with_staff_standins(runtime.engine.flows), runtime.engine.tr)
    limit = engine.settings.max_segments
    problems = []
    for screen in [*first_contact(engine), *screens(engine, MAIN_PATH)]:
        problems += over_segments([(screen.where, screen.text)], limit, screen.lang)
    assert not problems, "\n".join(map(str, problems))


def test_staff_placeholders_are_measured_as_short_values(runtime):
    engine = Engine(with_staff_standins(runtime.engine.flows), runtime.engine.tr)
    (text,) = [r.text for r in engine.preview("counsellor", "start", "en")]
    assert "TODO" not in text
    assert "x" * STAFF_STANDIN_CHARS in text


def test_main_menu_is_one_screen(runtime):
    main = runtime.engine.flows.flows[runtime.engine.settings.main_flow]
    assert any(isinstance(node, Menu) for node in main.nodes.values())


def test_a_menu_answer_that_is_a_command_word_is_found():
    commands = {"MENU": ["menu", "home"], "START": ["start", "ابدأ"]}
    answers = [("reintegration/topics/2", ["Housing", "house", "Home"]), ("x/y/1", ["أبدا"])]
    found = [(p.msgid, p.message) for p in command_clashes(commands, answers, "en")]
    assert found == [
        ("reintegration/topics/2", 'the answer "Home" is also a MENU command word'),
        ("x/y/1", 'the answer "أبدا" is also a START command word'),
    ]


def test_a_language_without_command_words_is_found():
    english = {"MENU": "menu, main menu", "BACK": "back"}
    problems = missing_commands(english, {"menu, main menu": "меню"}, "ru")
    assert [p.message for p in problems] == ["no BACK command words in this catalog"]
