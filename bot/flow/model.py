"""The immutable objects a flow is parsed into, once, at load time.

Nothing here does I/O. A `FlowSet` is what the engine runs; it is replaced as a whole
when flows are reloaded, so a broken edit never half-replaces a working set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.flow.problems import Collector

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(source: str) -> tuple[str, ...]:
    """The `{name}` placeholders of a text, in order of appearance, without repeats."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(source)))


def to_msgid(source: str) -> str:
    """The gettext msgid of a flow text: `{name}` becomes `%(name)s`.

    Catalogs use Python's %-format so that Babel's `python_format` checker and GNU
    `msgfmt --check` both verify translators kept every placeholder. A literal `%` is
    doubled only when the text has placeholders, because only then is the text formatted.
    """
    if not _PLACEHOLDER.search(source):
        return source
    return _PLACEHOLDER.sub(r"%(\1)s", source.replace("%", "%%"))


@dataclass(frozen=True)
class Text:
    """A translatable text: the English source, its msgid and where it was written."""

    source: str
    line: int
    col: int
    where: str  # flow/node/field, the address translators see in the catalog comment

    # Computed once per text (a frozen dataclass without slots keeps them in __dict__):
    # the engine asks for them on every reply.
    @functools.cached_property
    def msgid(self) -> str:
        return to_msgid(self.source)

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return placeholders(self.source)


@dataclass(frozen=True)
class Target:
    """Where to go next: `node`, `flow` or `flow.node`; resolved to (flow, node) at load."""

    raw: str
    line: int
    col: int
    flow: str = ""
    node: str = ""


@dataclass(frozen=True)
class Node:
    """Fields every node has."""

    id: str
    line: int
    col: int
    long: bool = False
    """`long: true`: its author accepts that a reply with this node may cost more than
    `max_segments` SMS segments for one message (bot.channels.costs.turn_problems)."""

    type = ""  # set by each node class
    waits = False  # True for nodes that stop and wait for the person's reply
    falls_through = False  # True when a missing `next:` means the node written below

    def texts(self) -> tuple[Text, ...]:
        """Every translatable text of this node."""
        return ()

    def targets(self) -> tuple[Target, ...]:
        """Every place this node can lead to."""
        return ()

    def resolved(self, fix: Callable[[Target], Target | None]) -> Node:
        """This node with every target resolved by `fix` (one it cannot resolve stays as is).

        Pass two of the validator: `fix` reports the targets that lead nowhere.
        """
        return self

    def saves(self) -> tuple[tuple[str, str], ...]:
        """The variables this node stores, each with its kind (a question's `expect`)."""
        return ()

    def check(self, defined: Collection[str], lists: Collection[str], out: Collector) -> None:
        """Report what this node reads that nothing defines (pass two of the validator)."""

    def option_labels(self) -> tuple[Text, ...]:
        """The labels of the numbered options this node shows (buttons on WhatsApp)."""
        return ()


def resolve(target: Target | None, fix: Callable[[Target], Target | None]) -> Target | None:
    """`fix(target)`, or the target as written when it cannot be resolved (or None)."""
    return (fix(target) or target) if target is not None else None


@dataclass(frozen=True)
class Option:
    """A numbered menu option."""

    number: int
    label: Text
    synonyms: Text | None
    target: Target
    line: int
    col: int


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a `choice` question: the value stored and how it is shown."""

    value: str
    label: Text
    synonyms: Text | None


@dataclass(frozen=True)
class Case:
    """One `when` of a branch."""

    condition: (
        object  # a parsed expression: Compare, InList, IsSet, Not or BoolOp (bot.flow.conditions)
    )
    source: str
    target: Target
    line: int
    col: int


@dataclass(frozen=True)
class Flow:
    """One YAML file: its nodes in file order, its start node and keywords."""

    id: str
    path: str
    nodes: Mapping[str, Node]
    start: str
    keywords: tuple[str, ...] = ()
    keyword_pos: tuple[tuple[int, int], ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Command:
    """A global command (MENU, BACK, ...) with its words in the base language."""

    name: str
    words: Text


@dataclass(frozen=True)
class Settings:
    """Service-wide settings from `_config.yaml`; every duration is in seconds."""

    default_language: str = "en"
    languages: tuple[str, ...] = ("en",)
    main_flow: str = "main"
    help_flow: str = ""
    session_timeout: int = 24 * 3600
    max_messages_per_turn: int = 10
    max_segments: int = 3
    numbering_system: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    required_languages: tuple[str, ...] | None = None
    """Languages whose catalogs must translate every text; None: every language."""

    @property
    def required(self) -> tuple[str, ...]:
        """The languages that must be complete; the others may have texts pending."""
        return self.languages if self.required_languages is None else self.required_languages


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""How `_staff.yaml` names the days of the week, Monday first (Babel's day numbers)."""


@dataclass(frozen=True)
class Hours:
    """Opening days and hours from `_staff.yaml`, written out in each language by Babel."""

    days: tuple[int, ...]
    """Days open, 0 = Monday."""
    ranges: tuple[tuple[int, int], ...]
    """Opening times within a day, as (from, to) in minutes after midnight."""

    def english(self) -> str:
        """A plain form for the default language before catalogs are read: "Mon-Thu 09:00-12:00"."""
        names = [DAYS[d].capitalize() for d in self.days]
        runs = _runs(self.days)
        days = ", ".join(names[i] if i == j else f"{names[i]}-{names[j]}" for i, j in runs)
        times = ", ".join(f"{_hm(a)}-{_hm(b)}" for a, b in self.ranges)
        return f"{days} {times}"


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """Index pairs (first, last) of the runs of consecutive days in `days` (sorted)."""
    runs: list[tuple[int, int]] = []
    for i, day in enumerate(days):
        if runs and days[runs[-1][1]] == day - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def day_runs(days: tuple[int, ...]) -> list[tuple[int, int]]:
    """The runs of consecutive days as (first day, last day): (0, 3) is Monday to Thursday."""
    return [(days[i], days[j]) for i, j in _runs(days)]


@dataclass(frozen=True)
class FlowSet:
    """Everything the engine needs: flows, settings, global commands, system texts, data."""

    flows: Mapping[str, Flow]
    settings: Settings
    commands: Mapping[str, Command]
    system: Mapping[str, Text]
    lists: Mapping[str, tuple[str, ...]]
    staff: Mapping[str, str]
    staff_values: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """Staff values that differ by language: `Hours`, or {language: text} variants."""
    staff_langs: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    """Per language, the staff values as written there (filled by bot.core.runtime)."""

    def staff_in(self, lang: str) -> Mapping[str, str]:
        """The staff values as texts in `lang` (the default forms where none was made)."""
        return self.staff_langs.get(lang, self.staff)

    def node(self, flow: str, node: str) -> Node:
        """The node `node` of flow `flow`."""
        return self.flows[flow].nodes[node]

    def all_texts(self) -> list[Text]:
        """Every translatable text, in file order: what the catalog extractor pulls."""
        texts: list[Text] = list(self.system.values())
        texts += [c.words for c in self.commands.values()]
        for flow in self.flows.values():
            for node in flow.nodes.values():
                texts.extend(node.texts())
        return texts
