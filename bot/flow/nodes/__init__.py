"""The node types staff can use: one module per type, each registering itself.

As in goflow (one file per action or router type), a node type is one module here: its
frozen dataclass, its YAML fields, how it parses and validates them (pass one of the
validator) and the cross-node checks only it knows (`resolved`, `check`: pass two). Its
behaviour in a conversation is the module of the same name in bot/core/nodes/, because
running a node needs the engine, and bot/flow must not import bot/core.

Adding a node type: write `bot/flow/nodes/<type>.py` (a class decorated with `@register`,
whose docstring shows a YAML example), import it below, write `bot/core/nodes/<type>.py`
(a `Runner` decorated with `@runs`), and add a golden case that uses it (a transcript or a
broken flow); tests/test_node_types.py names every type that lacks one.

The imports below set the order of the registry, which is the order of the types in
docs/flows.md and in the "known types" of an error message.
"""

# isort: off
from bot.flow.nodes.base import COMMON_FIELDS, REGISTRY, Ctx, check_fields, parse_node, register
from bot.flow.nodes.message import Message
from bot.flow.nodes.menu import Menu
from bot.flow.nodes.question import EXPECT, Question
from bot.flow.nodes.branch import Branch
from bot.flow.nodes.goto import Goto
from bot.flow.nodes.action import ACTIONS, Action
from bot.flow.nodes.end import End
# isort: on

__all__ = [
    "ACTIONS",
    "COMMON_FIELDS",
    "EXPECT",
    "REGISTRY",
    "Action",
    "Branch",
    "Ctx",
    "End",
    "Goto",
    "Menu",
    "Message",
    "Question",
    "check_fields",
    "parse_node",
    "register",
]
