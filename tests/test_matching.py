"""Reading what people type."""

import pytest

from bot.text.matching import ascii_digits, best_match, choice_number, normalize, split_words


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        (" 1.", 1),
        ("1)", 1),
        ("#1", 1),
        ("۱", 1),
        ("١", 1),
        ("１", 1),
        ("(2)", 2),
        ("12", 12),
        ("٣ ", 3),
        ("1-", 1),
        ("👍 2", 2),
    ],
)
def test_choice_number(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["", "one", "1 2", "1.5", "abc1", "12345"])
def test_not_a_choice_number(text):
    assert choice_number(text) is None


def test_ascii_digits_in_every_script():
    assert ascii_digits("۰۱۲۳۴۵۶۷۸۹ ٠١٢٣٤٥٦٧٨٩ ０１２") == "0123456789 0123456789 012"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  MENU!! ", "menu"),
        ("Menü", "menu"),
        ("🙏 منو 🙏", "منو"),
        ("كيف", "کیف"),
        ("ＭＥＮＵ", "menu"),
        ("მენიუ.", "მენიუ"),
        ("Ս Ե Ր", "ս ե ր"),
        ("\u2067منو\u2069", "منو"),
    ],
)
def test_normalize(text, folded):
    assert normalize(text) == folded


def test_best_match_exact_typo_and_ambiguity():
    pairs = [("eligible", "E"), ("counsellor", "C"), ("counselor", "C"), ("yes", "Y")]
    assert best_match("Eligible?", pairs) == "E"
    assert best_match("eligable", pairs) == "E"
    assert best_match("councelor", pairs) == "C"
    assert best_match("yse", pairs) is None  # too short for typos
    assert best_match("eligable", pairs, fuzzy=False) is None
    assert best_match("bat", [("bad", 1), ("cat", 2)]) is None


def test_best_match_ambiguous_typo_is_refused():
    assert best_match("housx", [("house", 1), ("housy", 2)]) is None


def test_best_match_sentence_containing_a_label():
    pairs = [("talk to a counsellor", "C"), ("am i eligible", "E")]
    assert best_match("I want to talk to a counsellor please", pairs) == "C"


def test_split_words_accepts_arabic_commas():
    assert split_words("بله، آره, اوکی") == ["بله", "آره", "اوکی"]


def test_normalize_is_idempotent_for_arabic_script_variants():
    for word in ("ودروئ", "ودروي", "ودروی", "كتاب", "ۀ"):
        once = normalize(word)
        assert normalize(once) == once
    assert normalize("ودروئ") == normalize("ودروی")


def test_the_ascii_shortcut_folds_exactly_as_the_unicode_path():
    import random
    import string

    from bot.text.matching import _normalize_unicode

    rng = random.Random(7)
    alphabet = string.printable + "'-"
    samples = ["", " 1. ", "#1", "Eligible??", "it's-ok", "--x--", "A\tB\nC", "''", "1)", "MENU!"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)
    ]
    for text in samples:
        assert normalize(text) == _normalize_unicode(text), repr(text)


def _reference_normalize(text: str) -> str:
    """The folding as first written, one Python pass per step (the tables must agree)."""
    import re
    import unicodedata

    from bot.text.matching import _FOLD

    text = unicodedata.normalize("NFKC", text or "").translate(_FOLD)
    text = _reference_digits(text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    words = re.split(r"\s+", text)
    word = [
        "".join(c if unicodedata.category(c)[0] in ("L", "N", "M") or c in "'-" else " " for c in w)
        for w in words
    ]
    return " ".join(" ".join(word).split()).strip("'- ")


def _reference_digits(text: str) -> str:
    import unicodedata

    return "".join(
        str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in text
    )


def _reference_choice_number(text: str) -> int | None:
    import re
    import unicodedata

    folded = _reference_digits(unicodedata.normalize("NFKC", text or ""))
    folded = "".join(c for c in folded if unicodedata.category(c) not in ("So", "Sk", "Cf"))
    m = re.match(r"^\s*[#(\[]?\s*(\d{1,3})\s*[.)\]:\-]?\s*$", folded)
    return int(m.group(1)) if m else None


def test_folding_tables_agree_with_the_folding_as_first_written():
    """normalize, ascii_digits and choice_number use lazily filled translate tables; on
    random texts of every script, digit, mark, symbol and space they answer as before."""
    import random

    from bot.text.matching import _normalize_unicode

    alphabet = (
        "abcXYZ019 '-.,!?#()\t\n"
        "აბგ ԱԲԳ աբ سلامیيكةۀأإآٱـ ئ ЖжЁё ÄÖÜßéè ﬁ Ⅻ ²③"
        "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０１２３"
        "\u0301\u0308\u064b\u0670\u200c\u200d\u200e\u200f\u2066\u2069\u061c\u00a0\u2003"
        "🙏👍🏽❤️©®™^`´¨"
    )
    rng = random.Random(11)
    samples = ["", "۲", "١)", "#３", "  ٢ . ", "👍 1", "1️⃣", "ئ", "Menü", "ИРАН!!"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(4000)
    ]
    for text in samples:
        assert _normalize_unicode(text) == _reference_normalize(text), repr(text)
        assert choice_number(text) == _reference_choice_number(text), repr(text)
        assert ascii_digits(text) == _reference_digits(text), repr(text)
