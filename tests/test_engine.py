"""The engine's rules, on a small flow set that uses every node type (tests/data/allnodes)."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from bot.core.engine import Engine, Inbound
from bot.core.state import State
from bot.core.transcripts import find, replay
from bot.flow import load_flows
from bot.flow.nodes import ACTIONS, REGISTRY

ALLNODES = Path(__file__).parent / "data" / "allnodes"
T0 = 1_700_000_000


NO_CATALOGS = ALLNODES / "no-catalogs"  # English texts, CLDR names: what staff see untranslated


@pytest.fixture(scope="module")
def engine() -> Engine:
    from bot.core.runtime import Runtime

    return Runtime.load(ALLNODES, NO_CATALOGS).engine


def talk(engine: Engine, *messages: str, state: State | None = None, now: int = T0):
    """Send messages one after the other; return the last turn."""
    turn = None
    for i, text in enumerate(messages):
        turn = engine.step(state, Inbound(text), now + i)
        state = turn.state
    return turn


@pytest.mark.parametrize("path", find([], ALLNODES / "transcripts"), ids=lambda p: p.name)
def test_transcripts(engine, path):
    outcome = replay(engine, path)
    assert outcome.ok, "\n".join(outcome.failures)


def test_every_node_type_and_action_is_exercised():
    flowset = load_flows(ALLNODES)
    types = {n.type for f in flowset.flows.values() for n in f.nodes.values()}
    actions = {n.do for f in flowset.flows.values() for n in f.nodes.values() if n.type == "action"}
    assert set(REGISTRY) <= types, f"no test flow uses: {set(REGISTRY) - types}"
    assert set(ACTIONS) <= actions, f"no test flow uses: {set(ACTIONS) - actions}"


def test_engine_imports_no_service_library():
    """The engine and everything it imports from bot/ stay free of Flask, Twilio, Redis, RQ."""
    root = Path(__file__).parent.parent / "bot"
    todo, seen = ["bot.core.engine"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = root.joinpath(*name.split(".")[1:])
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                top = module.split(".")[0]
                assert top not in {"flask", "twilio", "redis", "rq", "werkzeug"}, (name, module)
                if top == "bot":
                    todo.append(module)


@pytest.mark.parametrize("reply", ["1", " 1.", "1)", "#1", "۱", "١", "１", "(1)", "1 🙏"])
def test_menu_accepts_every_way_of_writing_one(engine, reply):
    turn = talk(engine, "hi", reply)
    assert turn.texts[0].startswith("Quiz menu")


@pytest.mark.parametrize("reply", ["questions", "QUESTIONS!", "Questoins", "qüestions", "quiz"])
def test_menu_accepts_labels_synonyms_and_typos(engine, reply):
    turn = talk(engine, "hi", reply)
    assert turn.texts[0].startswith("Quiz menu")


def test_unknown_reply_at_a_menu_lists_the_options_again(engine):
    turn = talk(engine, "hi", "banana")
    # The options under the apology, in place of the menu's text: no dearer than the menu.
    assert turn.texts == ["Sorry?\n1. Questions\n2. Long story\n3. Languages\n4. Call me back"]
    assert turn.state.node == "menu"


def test_number_out_of_range_reprompts(engine):
    turn = talk(engine, "hi", "9")
    assert turn.texts[0].splitlines()[:2] == ["Sorry?", "1. Questions"]


def test_idle_conversation_restarts_with_welcome_back(engine):
    state = talk(engine, "hi", "1", "1").state
    assert state.node == "age"
    turn = engine.step(state, Inbound("30"), T0 + 3601 + 10)
    assert turn.texts[0] == "Welcome back."
    assert turn.state.node == "menu"
    assert "age" not in turn.state.vars


def test_short_pause_keeps_the_position(engine):
    state = talk(engine, "hi", "1", "1").state
    turn = engine.step(state, Inbound("30"), T0 + 1800)
    assert turn.texts == ["Are you an EU citizen? (yes/no)\n0 Main menu"]


def test_back_walks_the_menu_history(engine):
    turn = talk(engine, "hi", "1", "back")
    assert turn.texts[0].startswith("Main menu")


def test_loop_guard_stops_a_long_chain(engine):
    turn = talk(engine, "hi", "2")
    assert [e.type for e in turn.events] == ["loop_guard"]
    assert len(turn.texts) == 5 and turn.texts[-1] == "Loop."


def test_stop_silences_until_start(engine):
    state = talk(engine, "hi", "STOP").state
    assert state.opted_out
    assert engine.step(state, Inbound("hello"), T0 + 10).replies == ()
    turn = engine.step(state, Inbound("start"), T0 + 11)
    assert not turn.state.opted_out
    assert turn.texts[0] == "Started."


def test_forget_needs_confirmation(engine):
    turn = talk(engine, "hi", "forget", "yes")
    assert [e.type for e in turn.events] == ["forget"]
    assert turn.state == State()


def test_callback_event_carries_the_answers_and_language(engine):
    turn = talk(engine, "hi", "4", "yes")
    callback = next(e for e in turn.events if e.type == "callback")
    assert callback.data["topic"] == "counsellor"
    assert callback.data["lang"] == "en"
    assert callback.data["vars"] == {"consent": "yes"}
    remind = next(e for e in turn.events if e.type == "remind")
    assert remind.data["after_seconds"] == 3 * 86400
    assert remind.data["text"] == "Reminder: a counsellor will call you."


def test_lang_hint_sets_the_first_language(engine):
    turn = engine.step(None, Inbound("bonjour", lang_hint="fr"), T0)
    assert turn.state.lang == "fr"
    turn = engine.step(None, Inbound("hi", lang_hint="xx"), T0)
    assert turn.state.lang == "en"


def test_language_menu_by_name_and_number(engine):
    assert talk(engine, "hi", "lang", "français").state.lang == "fr"
    assert talk(engine, "hi", "lang", "2").state.lang == "fr"
    assert talk(engine, "hi", "lang", "zulu").texts[0] == "Sorry?"


def test_long_inbound_text_is_cut(engine):
    turn = talk(engine, "hi", "1", "1", "1", "1", "1", "1", "x" * 5000)
    assert len(turn.state.vars.get("name", "")) <= 200


def test_state_survives_json(engine):
    state = talk(engine, "hi", "1", "1", "34").state
    assert State.from_json(state.to_json()) == state


def test_state_is_small(engine):
    state = talk(engine, "hi").state
    assert len(state.to_json().encode()) < 120


def test_broken_state_gives_a_fresh_start(engine):
    for raw in (b"not json", b'{"v": 99}', b"[]", None):
        assert State.from_json(raw) == State()


def test_unknown_node_in_state_goes_to_main(engine, tmp_path):
    state = State(flow="gone", node="nowhere", seen=T0, lang="en")
    turn = engine.step(state, Inbound("1"), T0 + 5)
    assert turn.texts[0].startswith("Main menu")


def test_reload_keeps_working_flows_when_new_ones_are_broken(tmp_path):
    from bot.core.runtime import Runtime

    shutil.copytree(ALLNODES, tmp_path / "flows")
    runtime = Runtime.load(tmp_path / "flows", tmp_path / "locales")
    before = runtime.engine
    (tmp_path / "flows" / "story.yaml").write_text("nodes:\n  - id: x\n    type: nope\n")
    problems = runtime.reload()
    assert any("unknown node type" in p.message for p in problems)
    assert runtime.engine is before


def test_language_chosen_by_its_name_in_another_language():
    from bot.core.runtime import Runtime

    engine = Runtime.load().engine
    for name in ("Persian", "persan", "فارسی", "Georgian", "грузинский"):
        state = talk(engine, "hi", "lang", name).state
        assert state.lang in ("fa", "ka"), name


def test_empty_message_is_not_a_command_but_a_question_mark_is_help():
    from bot.core.runtime import Runtime

    engine = Runtime.load().engine
    state = talk(engine, "hi").state
    empty = engine.step(state, Inbound(""), T0 + 5)
    help_ = engine.step(state, Inbound("?"), T0 + 5)
    assert empty.texts != help_.texts
    help_flow = engine.flows.flows["help"]
    first = engine.preview("help", help_flow.start, "en")[0].text
    assert help_.texts[0] == first


def test_a_menu_shown_again_reads_as_a_freshly_built_one():
    """Menus are made once per (flow, menu, language) and kept: the kept reply is the same
    text, options, footer and language as one built by an engine that never showed it,
    with the shipped catalogs, in several languages one after the other (right-to-left
    ones with their bidi marks included)."""
    from bot.core.runtime import Runtime

    shared = Runtime.load().engine
    for lang in ("fa", "ka", "en", "ar", "fa", "hy"):
        for messages in (["menu"], ["menu", "2"], ["menu", "1"]):
            state = State(lang=lang, lang_confirmed=True, seen=T0)
            kept = talk(shared, *messages, state=state)
            fresh = talk(Runtime.load().engine, *messages, state=state)
            assert kept.replies == fresh.replies, (lang, messages)
            assert {r.lang for r in kept.replies} == {lang}


def test_a_kept_menu_still_counts_its_untranslated_texts(engine):
    """Staff see which texts were sent untranslated, and how often, to translate the most
    sent first: a menu shown from what was kept counts as often as one built afresh."""
    state = State(flow="main", node="menu", lang="fr", seen=T0)
    before = dict(((lang, msgid), n) for lang, msgid, n in engine.tr.fallbacks())
    for i in range(3):
        engine.step(state, Inbound("menu"), T0 + 1 + i)
    after = dict(((lang, msgid), n) for lang, msgid, n in engine.tr.fallbacks())
    for msgid in ("Main menu", "Questions", "Call me back"):
        assert after[("fr", msgid)] - before.get(("fr", msgid), 0) == 3, msgid


def test_a_menu_naming_a_variable_shows_its_current_value(tmp_path):
    """Such a menu is built each time it is shown, never kept with someone else's answer."""
    from bot.core.runtime import Runtime

    shutil.copytree(ALLNODES, tmp_path / "flows")
    main = tmp_path / "flows" / "main.yaml"
    text = main.read_text().replace('text: "Main menu"', 'text: "Main menu for {name}"')
    main.write_text(text)
    engine = Runtime.load(tmp_path / "flows", NO_CATALOGS).engine
    for name in ("Ana", "Levan"):
        state = State(flow="main", node="menu", lang="en", seen=T0, vars={"name": name})
        turn = engine.step(state, Inbound("menu"), T0 + 1)
        assert turn.texts[-1].startswith(f"Main menu for {name}"), turn.texts
