"""What every node type module shares: the registry, the parse context, `parse_node`.

A type registers itself with `@register(name, fields)` on its class; `parse_node` dispatches
on `type:` and rejects an unknown type with the list of known ones. Each class docstring is
a YAML example; docs/flows.md is generated from them (bot/flow/guide.py) and checked by
tests/test_flow_guide.py, so the authoring guide cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.flow.model import Node, Target, Text
from bot.flow.problems import Collector, did_you_mean
from bot.flow.yamlpos import YDict, YList

REGISTRY: dict[str, tuple[type[Node], Callable]] = {}
COMMON_FIELDS = ("id", "type", "note", "source", "long")
SOURCES = ("staff",)
"""Values of a node's `source:`; `staff` marks what staff wrote, not taken from the facts brief."""


def register(name: str, fields: tuple[str, ...]) -> Callable[[type[Node]], type[Node]]:
    """Class decorator: add a node type and the fields its YAML may have."""

    def wrap(cls):
        cls.type = name
        cls.fields = COMMON_FIELDS + fields
        REGISTRY[name] = (cls, cls.parse)
        return cls

    return wrap


class Ctx:
    """What a node parser needs: the flow id, the node's YAML and a problem collector."""

    def __init__(self, flow_id: str, data: YDict, out: Collector):
        self.flow_id = flow_id
        self.data = data
        self.out = out
        self.node_id = str(data.get("id") or "")

    def where(self, field: str) -> str:
        return f"{self.flow_id}/{self.node_id}/{field}"

    def require(self, key: str, what: str) -> bool:
        if self.data.get(key) in (None, "", [], {}):
            self.out.error(self.data.pos, f'{self.kind()} "{self.node_id}" needs "{key}:" ({what})')
            return False
        return True

    def kind(self) -> str:
        return f"{self.data.get('type')} node"

    def text(self, key: str, data: YDict | None = None, field: str | None = None) -> Text | None:
        data = self.data if data is None else data
        value = data.get(key)
        if value is None:
            return None
        line, col = data.at(key)
        if not isinstance(value, str):
            self.out.error((line, col), f'"{key}" must be a text, not a list or a block')
            return None
        return Text(value.strip(), line, col, self.where(field or key))

    def target(self, key: str, data: YDict | None = None) -> Target | None:
        data = self.data if data is None else data
        value = data.get(key)
        if value is None:
            return None
        line, col = data.at(key)
        if not isinstance(value, str) or not value.strip():
            self.out.error((line, col), f'"{key}" must name a node or a flow')
            return None
        return Target(value.strip(), line, col)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.out.error(self.data.at(key), f'"{key}" must be a whole number, not "{value}"')
            return default
        if number < minimum:
            self.out.error(self.data.at(key), f'"{key}" must be at least {minimum} (is {number})')
            return default
        return number

    def items(self, key: str) -> list[tuple[YDict, tuple[int, int]]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, YList):
            self.out.error(self.data.at(key), f'"{key}" must be a list (lines starting with "- ")')
            return []
        result = []
        for i, item in enumerate(value):
            if not isinstance(item, YDict):
                self.out.error(value.at(i), f'each item of "{key}" must be a block of fields')
                continue
            result.append((item, value.at(i)))
        return result


def check_fields(data: YDict, known: tuple[str, ...], what: str, out: Collector) -> None:
    """An error for every field of `data` not in `known`, with the likely one meant."""
    for key in data:
        if key not in known:
            hint = did_you_mean(key, known)
            out.error(data.key_pos[key], f'{what} has no field "{key}"{hint}')


def choice_texts(text, items, retry, topics) -> tuple:
    """The texts of a node that offers numbered items (a menu's options, a question's
    choices): its text, each item's label and synonyms, the retry text, the topic words."""
    out = [text] if text else []
    for item in items:
        out.append(item.label)
        if item.synonyms:
            out.append(item.synonyms)
    return tuple(out + [t for t in (retry, topics) if t])


def parse_node(flow_id: str, data: YDict, out: Collector) -> Node | None:
    """Parse one node block; None when it is too broken to use (the problems are recorded)."""
    node_id = data.get("id")
    kind = data.get("type")
    if not node_id:
        out.error(data.pos, 'this node needs "id:" (a short name such as "ask_country")')
        return None
    if not isinstance(node_id, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", node_id):
        out.error(data.at("id"), f'node id "{node_id}" may only use letters, digits, _ and -')
        return None
    if not kind:
        out.error(data.pos, f'node "{node_id}" needs "type:" (one of: {", ".join(REGISTRY)})')
        return None
    if kind not in REGISTRY:
        out.error(
            data.at("type"),
            f'unknown node type "{kind}"{did_you_mean(str(kind), REGISTRY)}; '
            f"known types: {', '.join(REGISTRY)}",
        )
        return None
    cls, parser = REGISTRY[kind]
    check_fields(data, cls.fields, f"a {kind} node", out)
    if data.get("source") is not None and data.get("source") not in SOURCES:
        out.error(data.at("source"), f'"source:" can only be {", ".join(SOURCES)}')
    long = str(data.get("long", "false")).strip().lower()  # the YAML reader keeps texts
    if long not in ("true", "false"):
        out.error(data.at("long"), f'"long:" is true or false, not "{data.get("long")}"')
    line, col = data.pos
    base = {"id": node_id, "line": line, "col": col, "long": long == "true"}
    return parser(Ctx(flow_id, data, out), base)
