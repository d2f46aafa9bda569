"""Running a `goto` node (bot/flow/nodes/goto.py): nothing said, only a jump."""

from __future__ import annotations

from bot.core.nodes.base import Runner, runs
from bot.core.turn import Run
from bot.flow.model import Target
from bot.flow.nodes import Goto


@runs(Goto)
class GotoRunner(Runner):
    """Go to the target."""

    def enter(self, run: Run, node: Goto) -> Target | None:
        return node.target
