"""The `message` node: send a text, then go on. Runs in bot/core/nodes/message.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.flow.model import Node, Target, Text, resolve
from bot.flow.nodes.base import Ctx, register


@register("message", ("text", "next", "topics"))
@dataclass(frozen=True)
class Message(Node):
    """Send a text, then go on (to `next`, or else to the node below).

    ```yaml
    - id: hello
      type: message
      text: "This service gives information, not decisions."
      next: menu
    ```
    """

    falls_through = True
    text: Text | None = None
    next: Target | None = None
    topics: Text | None = None
    """Words and short phrases people use for what this screen answers (bot/text/topics.py)."""

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Message:
        ctx.require("text", "what to send")
        return cls(
            **base, text=ctx.text("text"), next=ctx.target("next"), topics=ctx.text("topics")
        )

    def texts(self):
        return tuple(t for t in (self.text, self.topics) if t)

    def targets(self):
        return (self.next,) if self.next else ()

    def resolved(self, fix: Callable[[Target], Target | None]) -> Message:
        return replace(self, next=resolve(self.next, fix))
