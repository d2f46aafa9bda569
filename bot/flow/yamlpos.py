"""YAML loading that remembers where every value came from.

Staff edit flows by hand, so every error must point at a line and column. PyYAML's safe
composer gives us nodes with marks; we turn them into plain dicts and lists that also carry
positions. Plain scalars stay strings (no YAML 1.1 surprises such as `NO` becoming False):
the schema of each field decides whether it wants a number or a yes/no.
"""

from __future__ import annotations

import yaml

from bot.flow.problems import Collector

Pos = tuple[int, int]


class YDict(dict):
    """A mapping with the position of itself, of each key and of each value."""

    pos: Pos = (1, 1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_pos: dict[str, Pos] = {}
        self.val_pos: dict[str, Pos] = {}

    def at(self, key: str) -> Pos:
        """Where the value of `key` is, or where this mapping starts when the key is absent."""
        return self.val_pos.get(key, self.pos)


class YList(list):
    """A sequence with the position of itself and of each item."""

    pos: Pos = (1, 1)

    def __init__(self, *args):
        super().__init__(*args)
        self.item_pos: list[Pos] = []

    def at(self, index: int) -> Pos:
        """Where item `index` is."""
        return self.item_pos[index] if index < len(self.item_pos) else self.pos


def _pos(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


_NULLS = {"", "~", "null", "Null", "NULL"}


def _convert(node: yaml.Node, out: Collector):
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.value in _NULLS:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        items = YList()
        items.pos = _pos(node)
        for child in node.value:
            items.append(_convert(child, out))
            items.item_pos.append(_pos(child))
        return items
    if isinstance(node, yaml.MappingNode):
        mapping = YDict()
        mapping.pos = _pos(node)
        for key_node, value_node in node.value:
            key = _convert(key_node, out)
            if not isinstance(key, str):
                out.error(_pos(key_node), "a key must be a plain word")
                continue
            if key in mapping:
                out.error(_pos(key_node), f'"{key}" is written twice in the same block')
                continue
            mapping[key] = _convert(value_node, out)
            mapping.key_pos[key] = _pos(key_node)
            mapping.val_pos[key] = _pos(value_node)
        return mapping
    return None  # pragma: no cover - composer yields only the three kinds


CONTEXT_LINES = 2
"""Lines shown above and below a YAML syntax error."""
_INDENT_PROBLEMS = (
    "mapping values are not allowed",
    "did not find expected key",
    "expected <block end>",
    "did not find expected '-' indicator",
)


def excerpt(text: str, line: int, col: int) -> str:
    """The lines around `line` (1-based), numbered, with a caret under column `col`."""
    lines = text.splitlines()
    first, last = max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        out.append(f"{number:>{width}} | {lines[number - 1]}")
        if number == line:
            out.append(" " * width + " | " + " " * (col - 1) + "^")
    return "\n".join(out)


def _holds_colon_text(text: str, line: int) -> bool:
    """Whether the value on `line` (after its `key:` or `- `) holds ": " unquoted."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return False
    body = lines[line - 1].strip()
    if body.startswith("- "):
        body = body[2:].lstrip()
    _key, sep, value = body.partition(": ")
    value = value.strip()
    return bool(sep) and ": " in value and not value.startswith(("'", '"'))


def _syntax_message(text: str, problem: str, line: int, col: int) -> tuple[str, int]:
    """The message for a YAML syntax problem, and the column to show it at."""
    if "\\t" in problem or "\t" in problem:
        return f"YAML syntax: {problem} (use spaces, not tabs, to indent)", col
    if "mapping values are not allowed" in problem and _holds_colon_text(text, line):
        return f'YAML syntax: {problem} (a text containing ": " must be put in quotes)', col
    if any(p in problem for p in _INDENT_PROBLEMS):
        lines = text.splitlines()
        body = lines[line - 1] if 1 <= line <= len(lines) else ""
        first = len(body) - len(body.lstrip(" ")) + 1  # the caret under the line's first letter
        return (
            "YAML indentation: this line is not indented like the lines of its block "
            "(each field of a node starts under the first letter of `id`; use spaces only)"
        ), first
    return f"YAML syntax: {problem}", col


def load(text: str, out: Collector):
    """Parse YAML text into YDict/YList/str/None values; syntax errors go to `out`.

    A syntax error is reported once, with the lines around it and a caret; an indentation
    mistake is called one, and the quoting hint is given only when the text holds ": ".
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message, col = _syntax_message(text, exc.problem or "invalid YAML", line, col)
        out.error((line, col), message, excerpt(text, line, col))
        return None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        out.error((1, 1), f"YAML syntax: {exc}")
        return None
    if node is None:
        return None
    return _convert(node, out)
