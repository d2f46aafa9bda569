"""Running an `end` node (bot/flow/nodes/end.py): a last text, then no position."""

from __future__ import annotations

from bot.core.nodes.base import Runner, runs
from bot.core.turn import Run
from bot.flow.model import Target
from bot.flow.nodes import End


@runs(End)
class EndRunner(Runner):
    """Say the text (if any) and forget the position: the next message starts anew."""

    def enter(self, run: Run, node: End) -> Target | None:
        engine = self.engine
        engine.say(run, engine.text(run, node.text))
        engine.clear_position(run.state)
        return None
