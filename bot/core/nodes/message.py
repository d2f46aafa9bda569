"""Running a `message` node (bot/flow/nodes/message.py): say the text, go on."""

from __future__ import annotations

from bot.core.nodes.base import Runner, runs
from bot.core.turn import Run
from bot.flow.model import Target
from bot.flow.nodes import Message


@runs(Message)
class MessageRunner(Runner):
    """Say the text; go to `next`, or end the conversation when there is none."""

    def enter(self, run: Run, node: Message) -> Target | None:
        engine = self.engine
        engine.say(run, engine.text(run, node.text))
        if node.next is None:
            engine.clear_position(run.state)
        return node.next
