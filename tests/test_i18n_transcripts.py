"""The shipped flows and catalogs together: native-script conversations, first contact,
language change and native digits, replayed against the real engine.

The transcripts in tests/data/i18n_transcripts/ are golden files; after a change to the
flows or catalogs, refresh them with
`bot flows test tests/data/i18n_transcripts --update` and read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bidi import get_display

from bot.core.engine import Engine, Inbound
from bot.core.runtime import ROOT, Runtime
from bot.core.transcripts import find, replay
from bot.flow import load_flows
from bot.i18n.bidi import strip_marks
from bot.i18n.detect import suggest_language
from bot.i18n.translator import CatalogTranslator

TRANSCRIPTS = Path(__file__).parent / "data" / "i18n_transcripts"
T0 = 1_700_000_000


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime.load(ROOT / "flows", ROOT / "locales")


@pytest.mark.parametrize("path", find([], TRANSCRIPTS), ids=lambda p: p.stem)
def test_native_script_transcripts(runtime, path):
    outcome = replay(runtime.engine, path)
    assert outcome.ok, "\n".join(outcome.failures)


def test_transcripts_cover_the_required_languages():
    assert {p.stem for p in find([], TRANSCRIPTS)} >= {"ka", "hy", "fa", "ar"}


def first_contact(engine: Engine, text: str, number: str):
    hint = suggest_language(text, number, engine.settings.languages)
    return engine.step(None, Inbound(text, lang_hint=hint), T0)


@pytest.mark.parametrize(
    ("text", "number", "lang", "words"),
    [
        ("გამარჯობა", "+32470000001", "ka", "ქართულად"),
        ("Բարեւ", "+32470000001", "hy", "հայերեն"),
        ("سلام، خوبی؟", "+32470000001", "fa", "فارسی"),
        ("السلام عليكم", "+32470000001", "ar", "بالعربية"),
        ("1", "+995555123456", "ka", "ქართულად"),
    ],
)
def test_first_reply_is_in_the_suggested_language_and_says_how_to_change(
    runtime, text, number, lang, words
):
    turn = first_contact(runtime.engine, text, number)
    assert turn.state.lang == lang
    assert not turn.state.lang_confirmed
    first_line = turn.texts[0].split("\n")[0]
    assert words in first_line
    assert "LANG" in first_line


@pytest.mark.parametrize("word", ["LANG", "ენა", "լեզու", "زبان", "اللغة", "язык", "dil", "taal"])
def test_localized_words_for_lang_work_at_any_point(runtime, word):
    start = first_contact(runtime.engine, "გამარჯობა", "+32470000001")
    deep = runtime.engine.step(start.state, Inbound("1"), T0 + 10)  # inside eligibility
    turn = runtime.engine.step(deep.state, Inbound(word), T0 + 20)
    assert turn.state.pending == "lang"
    assert "ქართული" in turn.texts[0] and "فارسی" in turn.texts[0]


@pytest.mark.parametrize("word", ["menu", "მენიუ", "մենյու", "منو", "قائمة", "меню", "menü"])
def test_menu_words_of_every_language_lead_to_the_main_menu(runtime, word):
    start = first_contact(runtime.engine, "سلام، خوبی؟", "+32470000001")
    deep = runtime.engine.step(start.state, Inbound("۱"), T0 + 10)
    assert deep.state.flow != "main"
    turn = runtime.engine.step(deep.state, Inbound(word), T0 + 20)
    assert (turn.state.flow, turn.state.node) == ("main", "menu")


def test_replies_in_any_digit_system_are_understood(runtime):
    engine = runtime.engine
    for digit in ("1", "۱", "١", "１"):
        start = first_contact(engine, "مرحبا", "+32470000001")
        turn = engine.step(start.state, Inbound(digit), T0 + 10)
        assert turn.state.flow == "eligibility", digit


def test_staff_can_ask_for_persian_digits_and_the_menu_stays_in_reading_order():
    flowset = load_flows(ROOT / "flows")
    translator = CatalogTranslator(
        ROOT / "locales",
        flowset.settings.languages,
        numbering_system={"fa": "arabext", "ar": "native"},
    )
    engine = Engine(flowset, translator)
    turn = first_contact(engine, "سلام، خوبی؟", "+32470000001")
    menu = turn.texts[-1].split("\n")
    assert menu[1].startswith("۱. ")
    shown = strip_marks(get_display(menu[1]))
    assert shown.endswith(" .۱")  # the number at the right edge, then its period
    arabic = first_contact(engine, "السلام عليكم", "+32470000001").texts[-1].split("\n")
    assert arabic[1].startswith("١. ")
