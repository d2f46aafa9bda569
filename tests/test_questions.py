"""Questions in free text against the shipped flows and catalogs (bot/core/questions.py)."""

from __future__ import annotations

import pytest

from bot.core.engine import Inbound
from bot.core.questions import PENDING
from bot.core.runtime import ROOT, Runtime
from bot.core.state import State
from bot.text.segments import analyse

T0 = 1_700_000_000
LANGS = ("en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps")


@pytest.fixture(scope="module")
def engine():
    return Runtime.load(ROOT / "flows", ROOT / "locales").engine


def at_main_menu(lang: str) -> State:
    return State(flow="main", node="menu", lang=lang, lang_confirmed=True, seen=T0)


def test_a_question_at_the_main_menu_shows_its_screen(engine):
    turn = engine.step(at_main_menu("ka"), Inbound("პასპორტი დავკარგე"), T0 + 10)
    assert (turn.state.flow, turn.state.node) == ("steps", "document")
    assert "0 მენიუ" in turn.texts[-1]


def test_menu_numbers_and_commands_keep_priority(engine):
    turn = engine.step(at_main_menu("en"), Inbound("2"), T0 + 10)
    assert (turn.state.flow, turn.state.node) == ("steps", "counselling")
    listed = engine.step(at_main_menu("en"), Inbound("passport and ticket"), T0 + 10)
    assert listed.state.pending.startswith(PENDING)
    menu = engine.step(listed.state, Inbound("menu"), T0 + 20)
    assert menu.state.pending is None and menu.state.node == "menu"


def test_a_list_answered_with_a_number_shows_that_screen(engine):
    listed = engine.step(at_main_menu("fa"), Inbound("بلیط و پاسپورت"), T0 + 10)
    offered = listed.state.pending[len(PENDING) :].split("|")
    assert set(offered) == {"steps.travel", "steps.document"}
    picked = engine.step(listed.state, Inbound("۲"), T0 + 20)
    assert f"{picked.state.flow}.{picked.state.node}" == offered[1]
    assert picked.state.pending is None


def test_a_list_answered_with_other_text_is_dropped(engine):
    listed = engine.step(at_main_menu("en"), Inbound("passport and ticket"), T0 + 10)
    turn = engine.step(listed.state, Inbound("i need medicine"), T0 + 20)
    assert (turn.state.flow, turn.state.node) == ("reintegration", "medical")


def test_no_match_says_not_understood_and_offers_a_counsellor(engine):
    turn = engine.step(at_main_menu("en"), Inbound("do you sell sim cards"), T0 + 10)
    assert "did not understand" in turn.texts[0]
    assert "0800 32 745" in turn.texts[0]
    assert turn.state.node == "menu"


def test_the_first_message_is_answered_after_the_welcome(engine):
    turn = engine.step(None, Inbound("i lost my passport", lang_hint="en"), T0)
    assert "Welcome." in turn.texts[0]
    assert (turn.state.flow, turn.state.node) == ("steps", "document")


@pytest.mark.parametrize("lang", LANGS)
def test_a_suggestion_list_is_at_most_two_segments(engine, lang):
    longest = sorted(
        engine.questions.screens, key=lambda k: -len(engine.questions.label(_run(lang), k))
    )[:3]
    run = _run(lang)
    engine.questions.suggest(run, tuple(longest))
    assert analyse(run.replies[-1].text).segments <= 2


def _run(lang):
    from bot.core.turn import Run

    return Run(at_main_menu(lang))


def test_the_arabic_script_question_is_one_segment_in_each_language_own_script(engine):
    turn = engine.step(None, Inbound("سلام"), T0)
    assert len(turn.texts) == 1
    assert analyse(turn.texts[0]).segments == 1
    for name in ("العربية", "فارسی", "کوردی", "پښتو"):
        assert name in turn.texts[0]


def test_only_language_and_outcome_leave_the_engine(engine):
    text = "my passport is lost, 0470 12 34 56"
    for state in (at_main_menu("en"), None):
        turn = engine.step(state, Inbound(text, lang_hint="en"), T0 + 10)
        events = [e for e in turn.events if e.type == "question"]
        assert events and all(set(e.data) == {"lang", "outcome"} for e in events)
        assert "passport" not in turn.state.to_json() and "0470" not in turn.state.to_json()
    unmatched = engine.step(at_main_menu("fr"), Inbound("quel temps demain"), T0 + 10)
    assert [dict(e.data) for e in unmatched.events] == [{"lang": "fr", "outcome": "unmatched"}]


def test_validate_warns_about_topic_clashes_with_file_line_col(engine):
    from bot.core.questions import topic_problems

    found = [str(p) for p in topic_problems(engine)]
    clash = [
        p for p in found if '"call back" (en) is a menu answer leading to counsellor.start' in p
    ]
    assert clash and clash[0].startswith("flows/counsellor.yaml:") and ": warning: " in clash[0]
    assert not [p for p in found if '"passport"' in p]


def test_validate_warns_about_shared_topics_commands_and_missing_languages(tmp_path):
    from bot.core.engine import Engine
    from bot.core.questions import topic_problems
    from bot.flow import load_flows

    (tmp_path / "_config.yaml").write_text(
        (ROOT / "flows" / "_config.yaml")
        .read_text()
        .replace(
            "languages: [en, fr, nl, ka, hy, fa, ar, ru, uk, tr, ckb, ps]", "languages: [en, ka]"
        )
    )
    (tmp_path / "main.yaml").write_text(
        "nodes:\n"
        "  - id: menu\n    type: menu\n    text: Choose\n    topics: 'passport, stop'\n"
        "    options:\n      - {label: Other, goto: other}\n"
        "  - id: other\n    type: message\n    topics: 'passport, ticket'\n    text: Hi\n"
    )
    (tmp_path / "help.yaml").write_text("nodes:\n  - {id: h, type: message, text: Help}\n")
    found = [str(p) for p in topic_problems(Engine(load_flows(tmp_path)))]
    assert any(
        'main.yaml:10:13: warning: topic "passport" (en) is also a topic of main.menu' in p
        for p in found
    ), found
    assert any('topic "stop" (en) is the command word of STOP' in p for p in found)
    assert any('"other" has no topic words in ka' in p for p in found)
