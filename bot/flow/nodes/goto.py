"""The `goto` node: jump without a word. Runs in bot/core/nodes/goto.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.flow.model import Node, Target, resolve
from bot.flow.nodes.base import Ctx, register


@register("goto", ("goto",))
@dataclass(frozen=True)
class Goto(Node):
    """Jump to another node or flow without sending anything.

    ```yaml
    - id: to_counsellor
      type: goto
      goto: counsellor.start
    ```
    """

    target: Target | None = None

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Goto:
        ctx.require("goto", "the node or flow to jump to")
        return cls(**base, target=ctx.target("goto"))

    def targets(self):
        return (self.target,) if self.target else ()

    def resolved(self, fix: Callable[[Target], Target | None]) -> Goto:
        return replace(self, target=resolve(self.target, fix))
