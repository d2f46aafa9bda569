"""Topic matching (bot/text/topics.py): endings, typos, shared words, out-of-scope texts."""

from __future__ import annotations

from bot.text.matching import split_words
from bot.text.topics import TopicIndex, decide, match, words, worth_matching


def index(lang: str, screens: list[tuple[str, str]], fuzzy: bool = True) -> TopicIndex:
    """An index from (comma-separated topic words, screen) pairs, as the engine builds it."""
    phrases = [(w, screen) for text, screen in screens for w in split_words(text)]
    return TopicIndex(lang, phrases, fuzzy=fuzzy)


EN = index(
    "en",
    [
        ("passport, travel document, lost passport", "document"),
        ("ticket, plane ticket", "travel"),
        ("family, children", "family"),
        ("family, vulnerable", "vulnerable"),
        ("school, school fees", "training"),
        ("cost, pay, money", "cost"),
    ],
)


def test_a_word_of_one_screen_answers_it():
    assert match("i lost my passport", EN).screens == ("document",)
    assert match("i lost my passport", EN).direct


def test_snowball_stems_and_typos():
    assert match("passports?", EN).screens == ("document",)
    assert match("i lost my pasport", EN).screens == ("document",)


def test_a_word_two_screens_share_offers_both():
    found = match("family", EN)
    assert set(found.screens) == {"family", "vulnerable"}
    assert not found.direct
    assert found.outcome == "suggested"


def test_the_screen_with_more_of_the_question_wins():
    assert match("who pays the school fees", EN).screens == ("training",)


def test_out_of_scope_matches_nothing():
    for text in ("what is the weather tomorrow", "do you sell sim cards", "asdkjh qwe", ""):
        assert match(text, EN).outcome == "unmatched"


def test_prefixes_carry_languages_without_a_stemmer():
    ka = index("ka", [("პასპორტი, სკოლის ფული", "document"), ("ფასი", "cost")])
    assert match("პასპორტს ვერ ვპოულობ", ka).screens == ("document",)
    assert match("სკოლის ფულს ვინ იხდის", ka).screens == ("document",)
    tr = index("tr", [("pasaport", "document")])
    assert match("pasaportumu kaybettim", tr).screens == ("document",)


def test_short_stems_do_not_match_other_words():
    hy = index("hy", [("արժե, ինչքան արժե", "cost")])
    assert match("վաղը ինչ եղանակ է", hy).outcome == "unmatched"
    uk = index("uk", [("поговорити", "counsellor")])
    assert match("яка погода завтра", uk).outcome == "unmatched"


def test_the_english_fallback_forgives_no_typos():
    strict = index("en", [("detained", "centre")], fuzzy=False)
    assert match("quel temps demain", strict).outcome == "unmatched"
    assert match("i am detained", strict).screens == ("centre",)


def test_folding_removes_armenian_marks_arabic_variants_and_zwnj():
    assert words("ինչքա՞ն") == ["ինչքան"]
    assert words("مي\u200cخواهم") == words("میخواهم")
    assert words("كيف") == words("کیف")


def test_decide_limits_a_list_to_three():
    scores = {"a": 1.0, "b": 1.0, "c": 0.9, "d": 0.8}
    assert decide(scores).screens == ("a", "b", "c")
    assert decide({}).outcome == "unmatched"


def test_numbers_and_emoji_are_no_questions():
    assert not worth_matching("2")
    assert not worth_matching("۲")
    assert not worth_matching("👍")
    assert worth_matching("passport?")


def test_ties_rank_the_same_in_every_process():
    """Screens with equal scores keep the flows' order, whatever the process's hash seed."""
    import os
    import subprocess
    import sys

    code = (
        "from bot.cli.common import load_runtime\n"
        "from bot.core.engine import Inbound\n"
        "from bot.core.runtime import ROOT\n"
        "e = load_runtime(ROOT / 'flows').engine\n"
        "t = e.step(None, Inbound('hi', lang_hint='hy'), 1)\n"
        "t = e.step(t.state, Inbound('տոմս ու անձնագիր'), 2)\n"
        "print(t.texts[-1])\n"
    )
    seen = set()
    for seed in map(str, range(8)):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        seen.add(done.stdout)
    assert len(seen) == 1, seen
    assert "2/6" in seen.pop().splitlines()[1]  # the travel document first, as in the flows
