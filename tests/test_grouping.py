"""bot.text.grouping: short replies of one turn travel as one message when that costs no more."""

from __future__ import annotations

from bot.channels import render
from bot.core.engine import Reply
from bot.text import pricing
from bot.text.grouping import SEPARATOR, WHATSAPP_MAX_CHARS, together
from bot.text.segments import analyse


def count(text: str) -> int:
    return analyse(text).segments


def words(n: int, word: str = "word") -> str:
    """About `n` characters of words (no trailing space)."""
    return " ".join([word] * (n // (len(word) + 1) + 1))[:n].strip()


def test_an_answer_and_the_menu_after_it_become_one_sms_a_segment_cheaper():
    answer, menu = words(224), words(197)
    assert count(answer) + count(menu) == 4
    [joined] = together([answer, menu], "sms", 3, count)
    assert joined == answer + SEPARATOR + menu
    assert count(joined) == 3


def test_texts_that_would_cost_more_together_stay_apart():
    full = "x" * 160  # exactly one GSM-7 segment; two of them joined need three
    assert together([full, full], "sms", 3, count) == [full, full]


def test_a_latin_text_is_not_turned_into_ucs2_by_its_georgian_neighbour():
    latin, georgian = words(150), "გამარჯობა " * 6
    assert count(latin) == count(georgian) == 1
    assert together([latin, georgian], "sms", 3, count) == [latin, georgian]
    short = "LANG"  # a short Latin word costs nothing more inside a UCS-2 message
    assert together([short, georgian], "sms", 3, count) == [short + SEPARATOR + georgian]


def test_a_join_never_exceeds_the_segment_limit():
    a, b = words(300), words(300)  # 2 + 2 apart, 4 together
    assert together([a, b], "sms", 3, count) == [a, b]
    assert together([a, b], "sms", 4, count) == [a + SEPARATOR + b]


def test_greedy_from_the_first_text_and_empty_texts_dropped():
    texts = ["One.", "", "Two.", "x" * 500, "Three.", "Four."]
    assert together(texts, "sms", 3, count) == [
        "One." + SEPARATOR + "Two.",
        "x" * 500,  # too long alone: bot.text.split cuts it later
        "Three." + SEPARATOR + "Four.",
    ]
    assert together(texts, "sms", 3, count) == together(texts, "sms", 3, count)


def test_whatsapp_joins_up_to_twilios_body_limit():
    a = "a" * 1000
    assert together([a, "b" * 590], "whatsapp", 3, count) == [a + SEPARATOR + "b" * 590]
    assert len(a + SEPARATOR + "b" * 599) > WHATSAPP_MAX_CHARS
    assert together([a, "b" * 599], "whatsapp", 3, count) == [a, "b" * 599]


def test_the_budget_counts_what_is_sent():
    answer, menu = words(224), words(197)
    assert pricing.outbound_units("sms", [answer, menu]) == 4  # each text as one message
    assert pricing.outbound_units("sms", [answer, menu], max_segments=3) == 3
    # WhatsApp: one each, as a reply sent as a template stays a message of its own
    assert pricing.outbound_units("whatsapp", [answer, menu], max_segments=3) == 2


def test_a_turn_of_two_short_replies_needs_no_job():
    plan = render.plan(
        [Reply("You said: hello"), Reply("Pick one:\n1. A")], "sms", max_segments=3, max_parts=3
    )
    assert plan.twiml == ["You said: hello\n\nPick one:\n1. A"] and plan.rest == []
    again = render.replan(
        ["You said: hello", "Pick one:\n1. A"], "sms", 1, max_segments=3, max_parts=3
    )
    assert again == plan.twiml


def test_groupings_are_remembered_by_hash_never_by_text():
    from bot.text import grouping

    texts = ["You said: my secret answer", "Pick one:\n1. A"]
    first = together(texts, "sms", 3, count)
    assert together(texts, "sms", 3, count) == first
    for key, sizes in grouping._sizes.items():
        assert all(not isinstance(part, str) or part in ("sms", "whatsapp") for part in key)
        assert all(isinstance(n, int) for n in sizes)
