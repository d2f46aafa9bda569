"""Running an `action` node (bot/flow/nodes/action.py): an event for the service.

The engine does no I/O: a callback, a reminder or an erasure becomes an `Event` that the
service acts on after the turn. `choose_language` is the one action that waits: it shows
the language menu and takes the reply.
"""

from __future__ import annotations

from types import MappingProxyType

from bot.core.nodes.base import Runner, runs
from bot.core.state import State
from bot.core.turn import Event, Run
from bot.flow.model import Target
from bot.flow.nodes import Action
from bot.text.durations import parse_duration


@runs(Action)
class ActionRunner(Runner):
    """Change the state the action names, emit its event, go on."""

    def enter(self, run: Run, node: Action) -> Target | None:
        engine = self.engine
        st = run.state
        params = dict(node.params)
        if node.do == "choose_language":
            st.node = node.id
            engine.show_languages(run)
            return None
        if node.do == "set_language":
            st.lang = params["language"]
            st.lang_confirmed = True
        elif node.do == "set":
            st.vars[params["variable"]] = params["value"]
        elif node.do == "remind":
            params["after_seconds"] = parse_duration(params["after"])
            params["text"] = engine.text(run, node.text)
        elif node.do == "callback":
            params["vars"] = dict(st.vars)
        params["lang"] = st.lang
        run.events.append(Event(node.do, MappingProxyType(params)))
        if node.do == "forget":
            run.state = State(lang=st.lang)
            return None
        if node.next is None:
            engine.clear_position(st)
        return node.next

    def answer(self, run: Run, node: Action, text: str, payload: str | None) -> None:
        if node.do == "choose_language":
            self.engine.choose_language(run, text, payload, node)
        else:
            self.engine.goto_main(run)
