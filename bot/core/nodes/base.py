"""How the engine runs a node type: the `Runner` base, its registry, and what it may use.

A runner is the conversation behaviour of one flow node type (bot/flow/nodes/<type>.py
holds its fields, parsing and validation). The engine builds one instance of each runner
when it is built, so a runner may keep caches that live as long as the flows do; it
dispatches on the node's `type` with one dict lookup, not a chain of isinstance checks
(the engine is on every message's path).

Runners see the engine only through `Steps`, the part of it they may call, so nothing here
imports bot.core.engine (which imports this package): imports keep pointing down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from bot.core.state import State
from bot.core.turn import Run
from bot.flow.model import FlowSet, Node, Settings, Target, Text
from bot.text.matching import MatchTable


class Steps(Protocol):
    """What a runner may use of the engine (bot.core.engine.Engine provides it)."""

    flows: FlowSet
    settings: Settings
    tr: Any  # PlainTranslator or bot.i18n's catalog translator
    yes_no_table: MatchTable
    country_table: MatchTable

    def text(self, run: Run, text: Text | None, **extra: object) -> str: ...
    def system(self, run: Run, key: str) -> str: ...
    def say(self, run: Run, text: str, **kw: Any) -> None: ...
    def number(self, run: Run, value: int) -> str: ...
    def footer(self, run: Run) -> str: ...
    def follow(self, run: Run, target: Target | None) -> None: ...
    def go(self, run: Run, flow_id: str, node_id: str) -> None: ...
    def goto_main(self, run: Run, welcome: bool = False) -> None: ...
    def start_keyword(self, run: Run, text: str) -> bool: ...
    def answer_question(self, run: Run, text: str, welcome: bool = False) -> bool: ...
    def count_question(self, run: Run, outcome: str) -> None: ...
    def show_languages(self, run: Run) -> None: ...
    def choose_language(
        self, run: Run, text: str, payload: str | None, node: Node | None
    ) -> None: ...
    def match_option(
        self, run: Run, node: Node, text: str, payload: str | None, fuzzy: bool = True
    ) -> Any: ...
    def parse_answer(self, run: Run, node: Node, text: str, payload: str | None) -> Any: ...
    def word_table(
        self, run: Run, node_id: str, entries: Iterable[tuple], extra: Iterable = ()
    ) -> MatchTable: ...
    @staticmethod
    def clear_position(st: State) -> None: ...


class Runner:
    """The behaviour of one node type; subclasses override `enter`, and `answer` if it waits."""

    def __init__(self, engine: Steps) -> None:
        self.engine = engine

    def enter(self, run: Run, node: Any) -> Target | None:
        """Run the node; return where to go next, or None to stop (it waits, or it ended)."""
        raise NotImplementedError

    def answer(self, run: Run, node: Any, text: str, payload: str | None) -> None:
        """Handle a reply to the node; a node that never waits sends to the main menu."""
        self.engine.goto_main(run)


RUNNERS: dict[str, type[Runner]] = {}
"""Runner class by node type (`type:`), filled by the `@runs` decorator of each module."""


def runs(node_class: type[Node]) -> Callable[[type[Runner]], type[Runner]]:
    """Class decorator: register a runner for the flow node class `node_class`."""

    def wrap(cls: type[Runner]) -> type[Runner]:
        if node_class.type in RUNNERS:
            raise TypeError(f'two runners for the node type "{node_class.type}"')
        RUNNERS[node_class.type] = cls
        return cls

    return wrap
