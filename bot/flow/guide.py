"""The node-type reference of docs/flows.md, generated from the node classes' docstrings.

The docstrings are the single source: tests/test_flow_guide.py fails when the guide and the
code disagree (BOT_UPDATE_GOLDEN=1 rewrites the section) and parses every example.
"""

from __future__ import annotations

import inspect
import re

from bot.flow.nodes import ACTIONS, REGISTRY

START = "<!-- node-types:start (generated from bot/flow/nodes/; do not edit by hand) -->"
END = "<!-- node-types:end -->"


def examples(cls) -> list[str]:
    """The YAML examples in a node class's docstring."""
    return re.findall(r"```yaml\n(.*?)```", inspect.getdoc(cls) or "", re.S)


def reference() -> str:
    """Markdown for every registered node type and every action."""
    parts = []
    for name, (cls, _) in REGISTRY.items():
        fields = ", ".join(
            f"`{f}`" for f in cls.fields if f not in ("id", "type", "note", "source", "long")
        )
        parts.append(f"### `{name}`\n\n{inspect.getdoc(cls)}\n\nFields: {fields}\n")
    actions = "\n".join(f"- `{name}`: {what}" for name, what in ACTIONS.items())
    parts.append(f"### Actions (`do:` of an `action` node)\n\n{actions}\n")
    return "\n".join(parts)


def splice(document: str) -> str:
    """The document with its generated section replaced by the current reference."""
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{reference()}{END}{tail}"
