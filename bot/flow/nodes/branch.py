"""The `branch` node: go where the first true condition says. Runs in bot/core/nodes/branch.py."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from bot.flow import conditions
from bot.flow.model import Case, Node, Target, resolve
from bot.flow.nodes.base import Ctx, check_fields, register
from bot.flow.problems import Collector, did_you_mean


@register("branch", ("cases", "else"))
@dataclass(frozen=True)
class Branch(Node):
    """Go to the first case whose condition holds, or to `else`.

    ```yaml
    - id: check_eu
      type: branch
      cases:
        - when: eu_citizen == yes
          goto: not_eligible_eu
        - when: country in visa_free_countries
          goto: visa_free
      else: visa_required
    ```
    """

    cases: tuple[Case, ...] = ()
    otherwise: Target | None = None

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Branch:
        ctx.require("cases", "a list of `when:` conditions with `goto:`")
        if ctx.data.get("else") is None:
            ctx.out.error(
                ctx.data.pos,
                f'branch "{ctx.node_id}" needs "else:" (where to go when no condition holds)',
            )
        cases = []
        for item, pos in ctx.items("cases"):
            check_fields(item, ("when", "goto"), "a branch case", ctx.out)
            source = item.get("when")
            target = ctx.target("goto", item)
            if not isinstance(source, str) or target is None:
                ctx.out.error(pos, 'each case needs "when:" (a condition) and "goto:"')
                continue
            line, col = item.at("when")
            try:
                expr = conditions.parse(source)
            except conditions.ConditionError as exc:
                ctx.out.error((line, col + exc.offset), f"condition: {exc}")
                continue
            cases.append(Case(expr, source, target, line, col))
        return cls(**base, cases=tuple(cases), otherwise=ctx.target("else"))

    def targets(self):
        out = [c.target for c in self.cases]
        return tuple([*out, self.otherwise] if self.otherwise else out)

    def resolved(self, fix: Callable[[Target], Target | None]) -> Branch:
        cases = tuple(replace(c, target=resolve(c.target, fix)) for c in self.cases)
        return replace(self, cases=cases, otherwise=resolve(self.otherwise, fix))

    def check(self, defined: Collection[str], lists: Collection[str], out: Collector) -> None:
        for case in self.cases:
            for name in sorted(conditions.variables(case.condition)):
                if name not in defined:
                    out.error(
                        (case.line, case.col),
                        f'condition uses "{name}", which no question saves'
                        f"{did_you_mean(name, defined)}",
                    )
            for name in sorted(conditions.list_names(case.condition)):
                if name not in lists:
                    out.error(
                        (case.line, case.col),
                        f'condition uses the list "{name}", which _config.yaml "lists" '
                        f"does not have{did_you_mean(name, lists)}",
                    )
