"""What one message costs: every reply within `max_segments` SMS segments unless a node
says `long: true` (bot.channels.costs.turn_problems), and a menu asked again."""

import shutil
from pathlib import Path

from bot.channels.costs import turn_problems
from bot.core.engine import Engine, Inbound, PlainTranslator
from bot.core.runtime import Runtime
from bot.core.state import State
from bot.flow import load_flows

BASE = Path(__file__).parent / "broken" / "_base"
LONG = "This is a long answer. " * 12  # 276 GSM-7 characters: 2 segments


def _flows(tmp_path: Path, info: str) -> Engine:
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    main = tmp_path / "main.yaml"
    main.write_text(main.read_text().replace('    text: "Some information."', info))
    return Engine(load_flows(tmp_path), PlainTranslator())


def test_a_reply_over_the_limit_is_reported_at_the_node_it_starts_at(tmp_path):
    # The answer (3 segments) and the menu after it (1) do not fit one message: 4 in all.
    engine = _flows(tmp_path, f'    text: "{LONG}{LONG[:170]}"')
    problems = turn_problems(engine)
    assert [(Path(p.path).name, p.line, p.col) for p in problems] == [("main.yaml", 9, 5)]
    assert problems[0].message.startswith(
        'node "info": the reply it starts costs more than 3 SMS segments in en (4), fr (4); '
    )
    assert "long: true" in problems[0].message


def test_a_node_marked_long_may_cost_more(tmp_path):
    engine = _flows(tmp_path, f'    long: true\n    text: "{LONG}{LONG[:170]}"')
    assert engine.flows.node("main", "info").long
    assert turn_problems(engine) == []


def test_the_first_contact_and_a_wrong_answer_are_measured(tmp_path):
    shutil.copytree(BASE, tmp_path, dirs_exist_ok=True)
    config = tmp_path / "_config.yaml"
    guess = 'language_guess: "' + "Language: English. " * 30 + '"'
    config.write_text(
        config.read_text()
        .replace('language_guess: "Language: English. LANG to change."', guess)
        .replace('not_understood: "Sorry?"', 'not_understood: "' + "Sorry? " * 90 + '"')
    )
    messages = [p.message for p in turn_problems(Engine(load_flows(tmp_path)))]
    assert any(m.startswith('node "menu": the first contact\'s reply costs') for m in messages)
    assert any(m.startswith('node "menu": asked again after a wrong answer') for m in messages)


def test_the_shipped_flows_keep_every_reply_within_the_limit_in_every_language():
    """Every screen, first contact and wrong answer, in every language of _config.yaml."""
    engine = Runtime.load().engine
    assert len(engine.settings.languages) >= 12
    assert [str(p) for p in turn_problems(engine)] == []


def test_a_menu_asked_again_shows_its_options_under_the_apology():
    engine = Runtime.load().engine
    state = State(flow="main", node="menu", lang="en", seen=1)
    turn = engine.step(state, Inbound("banana"), 2)
    assert len(turn.texts) == 1
    lines = turn.texts[0].splitlines()
    assert lines[0] == "Sorry, I did not understand. Please reply with one of the numbers below."
    assert lines[-7:][0] == "1. Am I eligible?" and lines[-1] == "7. Privacy"
    assert turn.state.node == "menu"
