"""Language suggestion on first contact: script first, then the country of the number."""

from __future__ import annotations

import itertools

import pytest

from bot.i18n.detect import ask_languages, main_script, region_of, suggest_language

SHIPPED = ("en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps")
BELGIAN = "+32470000001"  # made-up Belgian mobile


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("გამარჯობა", "ka"),
        ("მენიუ", "ka"),
        ("Բարեւ ձեզ", "hy"),
        ("Привет, мне нужна помощь", "ru"),
        ("Привіт, мені потрібна допомога", "uk"),
        ("سلام، خوبی؟ می‌خواهم برگردم", "fa"),
        ("چطور می توانم برگردم", "fa"),
        ("السلام عليكم، أريد المساعدة", "ar"),
        ("كيف يمكنني العودة", "ar"),
        ("سڵاو، چۆنی؟", "ckb"),
        ("دەمەوێ بگەڕێمەوە", "ckb"),
        ("سلام، ته څنګه یې؟", "ps"),
        ("زه غواړم بیرته لاړ شم", "ps"),
        ("Merhaba, yardım lazım", "tr"),
        ("Günaydın, eve dönmek istiyorum", "tr"),
        ("Bonjour, je voudrais rentrer", "fr"),
        ("hallo, ik wil terug", "nl"),
        ("hello, I need help", "en"),
    ],
)
def test_script_and_letters_decide(text, lang):
    assert suggest_language(text, BELGIAN, SHIPPED) == lang


@pytest.mark.parametrize(
    ("number", "lang"),
    [
        ("+995555123456", "ka"),
        ("+37491123456", "hy"),
        ("+989121234567", "fa"),
        ("+93701234567", "fa"),  # Afghanistan: Dari (fa) comes before Pashto in CLDR
        ("+9647701234567", "ar"),
        ("+963944123456", "ar"),
        ("+380501234567", "uk"),
        ("+79123456789", "ru"),
        ("+905321234567", "tr"),
        ("whatsapp:+995555123456", "ka"),
    ],
)
def test_country_decides_when_the_text_has_no_letters(number, lang):
    assert suggest_language("1", number, SHIPPED) == lang
    assert suggest_language("👍", number, SHIPPED) == lang


def test_a_number_from_the_service_country_says_nothing():
    assert suggest_language("1", BELGIAN, SHIPPED) is None
    assert suggest_language("ok", BELGIAN, SHIPPED) is None


def test_country_breaks_a_tie_inside_a_script():
    # No letter or word tells Persian from Arabic in سلام; an Iranian number does.
    assert suggest_language("سلام", "+989121234567", SHIPPED) == "fa"
    assert suggest_language("سلام", "+9647701234567", SHIPPED) == "ar"
    assert suggest_language("سلام", "+93701234567", SHIPPED) == "fa"
    # Cyrillic without Ukrainian or Russian-only letters.
    assert suggest_language("Добрий день", "+380501234567", SHIPPED) == "uk"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("درود", "fa"),
        ("سلام چطوری", "fa"),
        ("ممنون", "fa"),
        ("مرحبا", "ar"),
        ("شلونك", "ar"),
        ("شكرا", "ar"),
        ("سڵاو", "ckb"),
        ("چۆنی", "ckb"),
        ("ستړي مه شې", "ps"),
        ("څنګه یې", "ps"),
    ],
)
def test_words_only_one_arabic_script_language_uses_decide(text, lang):
    assert suggest_language(text, BELGIAN, SHIPPED) == lang


def test_undecided_arabic_script_suggests_nothing_and_names_the_languages_to_ask():
    assert suggest_language("سلام", BELGIAN, SHIPPED) is None
    assert suggest_language("سلام", None, SHIPPED) is None
    assert ask_languages("سلام", SHIPPED) == ("ar", "fa", "ckb", "ps")
    assert ask_languages("سلام", ("en", "fa")) == ()  # one offered: nothing to ask
    assert ask_languages("hello", SHIPPED) == ()
    assert ask_languages("Привет", SHIPPED) == ()


def test_script_beats_country():
    """A Georgian number writing Russian reads Russian."""
    assert suggest_language("Здравствуйте", "+995555123456", SHIPPED) == "ru"


def test_latin_text_without_clues_falls_back_to_the_country():
    assert suggest_language("salam", "+989121234567", SHIPPED) == "fa"
    assert suggest_language("xyz", None, SHIPPED) is None


def test_never_suggests_a_language_that_is_not_offered():
    offered = ("en", "fr")
    samples = ["გამარჯობა", "سلام", "Привіт", "Merhaba", "1", "", "hallo", "مرحبا"]
    numbers = [None, BELGIAN, "+995555123456", "+989121234567", "+33612345678", "nonsense"]
    for text, number in itertools.product(samples, numbers):
        assert suggest_language(text, number, offered) in (None, *offered)
    assert suggest_language("გამარჯობა", None, offered) is None
    assert suggest_language("1", "+33612345678", offered) == "fr"


def test_garbage_numbers_are_ignored():
    assert region_of("not a number") is None
    assert region_of(None) is None
    assert region_of("+32 470 00 00 01") == "BE"


def test_main_script():
    assert main_script("ok გამარჯობა") == "Georgian"
    assert main_script("123 !?") is None
