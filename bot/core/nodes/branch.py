"""Running a `branch` node (bot/flow/nodes/branch.py): the first case that holds wins."""

from __future__ import annotations

from bot.core.nodes.base import Runner, runs
from bot.core.turn import Run
from bot.flow import conditions
from bot.flow.model import Target
from bot.flow.nodes import Branch


@runs(Branch)
class BranchRunner(Runner):
    """Evaluate the cases against the saved answers and the flows' lists; else `else:`."""

    def enter(self, run: Run, node: Branch) -> Target | None:
        variables, lists = run.state.vars, self.engine.flows.lists
        for case in node.cases:
            if conditions.evaluate(case.condition, variables, lists):
                return case.target
        return node.otherwise
