"""The `end` node: a last text, then the conversation ends. Runs in bot/core/nodes/end.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flow.model import Node, Text
from bot.flow.nodes.base import Ctx, register


@register("end", ("text",))
@dataclass(frozen=True)
class End(Node):
    """Optionally send a last text, then end the conversation; the next message starts anew.

    ```yaml
    - id: bye
      type: end
      text: "Thank you. Send MENU at any time to start again."
    ```
    """

    text: Text | None = None

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> End:
        return cls(**base, text=ctx.text("text"))

    def texts(self):
        return (self.text,) if self.text else ()
