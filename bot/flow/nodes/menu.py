"""The `menu` node: numbered options, each leading somewhere. Runs in bot/core/nodes/menu.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.flow.model import Node, Option, Target, Text, resolve
from bot.flow.nodes.base import Ctx, check_fields, choice_texts, register


@register("menu", ("text", "options", "retry", "topics"))
@dataclass(frozen=True)
class Menu(Node):
    """Numbered options; the person answers with a number, a label or a synonym.

    ```yaml
    - id: menu
      type: menu
      text: "What would you like to know?"
      options:
        - label: "Am I eligible?"
          synonyms: "eligible, eligibility, can I"
          goto: eligibility
        - label: "Talk to a counsellor"
          goto: counsellor
    ```
    """

    waits = True
    text: Text | None = None
    options: tuple[Option, ...] = ()
    retry: Text | None = None
    topics: Text | None = None
    """Words and short phrases people use for what this screen answers (bot/text/topics.py)."""

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Menu:
        ctx.require("text", "the question above the options")
        ctx.require("options", "at least one choice, each with a label and goto")
        options, seen = [], {}
        for i, (item, pos) in enumerate(ctx.items("options"), start=1):
            check_fields(item, ("label", "synonyms", "goto", "number"), "a menu option", ctx.out)
            number = i
            if item.get("number") is not None:
                try:
                    number = int(str(item["number"]))
                except ValueError:
                    ctx.out.error(item.at("number"), f'"number" must be a number: {item["number"]}')
            if number in seen:
                ctx.out.error(pos, f"option number {number} is used twice in this menu")
            seen[number] = True
            if not item.get("label"):
                ctx.out.error(pos, 'a menu option needs "label:" (the words shown)')
            if not item.get("goto"):
                ctx.out.error(pos, 'a menu option needs "goto:" (where it leads)')
            label = ctx.text("label", item, f"options/{number}/label")
            target = ctx.target("goto", item)
            if label and target:
                synonyms = ctx.text("synonyms", item, f"options/{number}/synonyms")
                options.append(Option(number, label, synonyms, target, *pos))
        return cls(
            **base,
            text=ctx.text("text"),
            options=tuple(options),
            retry=ctx.text("retry"),
            topics=ctx.text("topics"),
        )

    def texts(self):
        return choice_texts(self.text, self.options, self.retry, self.topics)

    def targets(self):
        return tuple(o.target for o in self.options)

    def resolved(self, fix: Callable[[Target], Target | None]) -> Menu:
        options = tuple(replace(o, target=resolve(o.target, fix)) for o in self.options)
        return replace(self, options=options)

    def option_labels(self) -> tuple[Text, ...]:
        return tuple(o.label for o in self.options)
