"""Right-to-left replies: the order a phone shows, checked with python-bidi's implementation
of the Unicode bidirectional algorithm (`get_display` returns the visual order)."""

from __future__ import annotations

import pytest
from bidi import get_display

from bot.i18n.bidi import LRI, OPENERS, PDI, RLM, is_rtl, isolate, split_isolates, strip_marks


def shown(text: str) -> str:
    """What a phone shows, left to right, each line on its own, without the invisible marks."""
    return "\n".join(strip_marks(get_display(line)) for line in text.split("\n"))


@pytest.mark.parametrize(
    ("logical", "kept"),
    [
        ("با 0800 32 745 تماس بگیرید.", "0800 32 745"),
        ("اتصل على 0800 32 745 مجانا", "0800 32 745"),
        ("ساعت 9:00-12:30 و 13:30-16:00", "9:00-12:30"),
        ("ساعت 9:00-12:30 و 13:30-16:00", "13:30-16:00"),
        ("مبلغ EUR 350 برای هر بزرگسال", "EUR 350"),
        ("به voluntaryreturn.be سر بزنید.", "voluntaryreturn.be"),
        ("تماس: +32 2 123 45 67", "+32 2 123 45 67"),
        ("اتصل على ٠٨٠٠ ٣٢ ٧٤٥ مجانا", "٠٨٠٠ ٣٢ ٧٤٥"),
        ("المكتب مفتوح ١٠:٣٠-١٢:٣٠", "١٠:٣٠-١٢:٣٠"),
        ("Fedasil و IOM کمک می‌کنند", "Fedasil"),
    ],
)
def test_left_to_right_runs_keep_their_reading_order(logical, kept):
    assert kept in shown(isolate(logical))


def test_without_isolates_the_phone_number_would_jump():
    """The problem being solved: the plain text shows the digit groups reversed."""
    assert "0800 32 745" not in shown("با 0800 32 745 تماس بگیرید.")
    assert "745 32 0800" in shown("با 0800 32 745 تماس بگیرید.")


def test_a_line_starting_with_a_latin_word_stays_right_to_left():
    line = isolate("Fedasil به شما کمک می‌کند")
    assert line.startswith(RLM)
    # Right-to-left: the Latin word ends up at the right-hand end of the line.
    assert shown(line).endswith("Fedasil")
    assert shown("Fedasil به شما کمک می‌کند").startswith("Fedasil")


def test_menu_numbers_read_like_a_right_to_left_list():
    menu = "چه می‌خواهید بدانید؟\n1. آیا واجد شرایط هستم؟\n2. IOM و Caritas\n10. حریم خصوصی"
    lines = shown(isolate(menu)).split("\n")
    # Visual order, right to left: number, period, label: the number is at the right edge.
    assert lines[1].endswith(" .1")
    assert lines[2].endswith("IOM .2")
    assert lines[3].endswith(" .10")


def test_persian_digits_and_arabic_indic_menu_numbers():
    lines = shown(isolate("۱. بله\n٢. لا")).split("\n")
    assert lines[0].endswith(".۱")
    assert lines[1].endswith(".٢")


@pytest.mark.parametrize(
    ("logical", "isolated"),
    [
        ("شماره 0800 32 745.", f"شماره {LRI}0800 32 745{PDI}."),
        ("مبلغ EUR 350 برای", f"مبلغ {LRI}EUR 350{PDI} برای"),
        ("ساعت 9:00-12:30 و", f"ساعت {LRI}9:00-12:30{PDI} و"),
        ("تماس +32 تماس", f"تماس {LRI}+32{PDI} تماس"),
        ("به voluntaryreturn.be سر بزنید.", "به voluntaryreturn.be سر بزنید."),
        ("ساعت 9:00 و 350 یورو", "ساعت 9:00 و 350 یورو"),
        ("1. بله", "1. بله"),
        ("١. نعم", "١. نعم"),
        ("أرسل LANG الآن", "أرسل LANG الآن"),
    ],
)
def test_only_runs_whose_order_can_break_are_isolated(logical, isolated):
    assert isolate(logical) == isolated


@pytest.mark.parametrize(
    ("logical", "kept"),
    [
        ("به voluntaryreturn.be سر بزنید.", "voluntaryreturn.be"),
        ("ساعت 9:00 و 350 یورو", "9:00"),
        ("أرسل LANG الآن", "LANG"),
    ],
)
def test_single_words_and_numbers_keep_their_order_without_isolates(logical, kept):
    assert kept in shown(logical)
    assert LRI not in isolate(logical)


def test_lines_without_right_to_left_letters_are_left_alone():
    text = "Choose your language:\n1. English\n2. Français\n3. فارسی"
    lines = isolate(text).split("\n")
    assert lines[:3] == text.split("\n")[:3]
    assert lines[3] == "3. فارسی"


def test_isolating_twice_changes_nothing_and_never_nests():
    text = "با 0800 32 745 یا voluntaryreturn.be\nFedasil و IOM\n1. EUR 350 برای هر نفر"
    once = isolate(text)
    assert isolate(once) == once
    for line in once.split("\n"):
        depth = 0
        for c in line:
            if c in OPENERS:
                depth += 1
                assert depth == 1, f"nested isolate in {line!r}"
            elif c == PDI:
                depth -= 1
        assert depth == 0, f"isolate left open in {line!r}"


def test_existing_isolates_written_by_a_translator_are_kept_whole():
    text = f"با {LRI}0800 32 745{PDI} تماس"
    assert isolate(text) == text
    assert split_isolates(f"a {LRI}b {LRI}c{PDI}{PDI} d") == [
        (False, "a "),
        (True, f"{LRI}b {LRI}c{PDI}{PDI}"),
        (False, " d"),
    ]


def test_right_to_left_languages_come_from_cldr():
    assert {
        lang for lang in ("en", "fr", "nl", "ka", "hy", "ru", "uk", "tr") if is_rtl(lang)
    } == set()
    assert all(is_rtl(lang) for lang in ("fa", "ar", "ckb", "ps"))
    assert not is_rtl("xx-unknown")


def test_a_remembered_text_gets_the_same_marks_and_the_cache_holds_no_text():
    from bot.i18n import bidi

    texts = [
        "برای گفتگو با مشاور: 0800 32 745 یا +32 2 123 45 67",
        "1. IOM Belgium\n2. Fedasil\n3. \u2066already isolated 12 34\u2069 پایان",
        "پاسخ شما: Kabul 2024-05 \u200f\u200e",
        "",
    ]
    first = [bidi.isolate(t) for t in texts]
    assert [bidi.isolate(t) for t in texts] == first  # from the cache now
    assert first == ["\n".join(bidi.isolate_line(x) for x in t.split("\n")) for t in texts]
    marks = set(bidi.OPENERS) | {bidi.PDI, bidi.RLM, bidi.LRM}
    for key, inserted in bidi._marks.items():
        assert isinstance(key, bytes) and len(key) == 16
        assert all(isinstance(i, int) and set(s) <= marks for i, s in inserted)
