"""How the engine runs each node type: one module per type, each registering its runner.

The flow model of a type (fields, parsing, validation) is bot/flow/nodes/<type>.py; its
behaviour in a conversation is bot/core/nodes/<type>.py: a `Runner` subclass decorated with
`@runs(NodeClass)`, with `enter` (the node is reached) and, for a node that waits,
`answer` (the person replied). The engine builds one of each and dispatches on `type`.
Importing this package registers every runner; the engine refuses to start when a
registered node type has none.
"""

from bot.core.nodes import action, branch, end, goto, menu, message, question
from bot.core.nodes.base import RUNNERS, Runner, Steps, runs

__all__ = [
    "RUNNERS",
    "Runner",
    "Steps",
    "action",
    "branch",
    "end",
    "goto",
    "menu",
    "message",
    "question",
    "runs",
]
