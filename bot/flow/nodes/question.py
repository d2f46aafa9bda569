"""The `question` node: ask, check the kind of answer, save it.

Runs in bot/core/nodes/question.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.flow.model import Choice, Node, Target, Text, resolve
from bot.flow.nodes.base import Ctx, check_fields, choice_texts, register
from bot.flow.problems import did_you_mean

EXPECT = ("text", "number", "yes_no", "choice", "country")


@register(
    "question",
    (
        "text",
        "save_as",
        "expect",
        "choices",
        "retry",
        "max_retries",
        "next",
        "on_fail",
        "min",
        "max",
        "topics",
    ),
)
@dataclass(frozen=True)
class Question(Node):
    """Ask, check the answer's kind, store it in a variable; re-ask up to `max_retries`.

    `expect` is one of: text, number, yes_no, choice, country (a country name in any
    shipped language, stored as its two-letter code). After too many wrong answers the
    conversation goes to `on_fail` (or the main menu).

    ```yaml
    - id: ask_eu
      type: question
      text: "Are you a citizen of an EU country? (yes/no)"
      expect: yes_no
      save_as: eu_citizen
      retry: "Please answer yes or no."
      max_retries: 2
      next: check_eu
    ```
    """

    waits = True
    falls_through = True
    text: Text | None = None
    save_as: str = ""
    expect: str = "text"
    choices: tuple[Choice, ...] = ()
    retry: Text | None = None
    max_retries: int = 2
    next: Target | None = None
    on_fail: Target | None = None
    minimum: int | None = None
    maximum: int | None = None
    topics: Text | None = None
    """Words and short phrases people use for what this question is the start of."""

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Question:
        ctx.require("text", "the question to ask")
        ctx.require("save_as", "the variable name that keeps the answer")
        save_as = str(ctx.data.get("save_as") or "")
        if save_as and not re.fullmatch(r"[a-z_][a-z0-9_]*", save_as):
            ctx.out.error(
                ctx.data.at("save_as"),
                f'"save_as" must be a lowercase name like "country_of_return", not "{save_as}"',
            )
        expect = str(ctx.data.get("expect") or "text")
        if expect not in EXPECT:
            hint = did_you_mean(expect, EXPECT)
            ctx.out.error(
                ctx.data.at("expect"),
                f'unknown answer kind "{expect}"{hint}; known kinds: {", ".join(EXPECT)}',
            )
            expect = "text"
        choices = []
        for item, pos in ctx.items("choices"):
            check_fields(item, ("value", "label", "synonyms"), "a choice", ctx.out)
            if not item.get("value") or not item.get("label"):
                ctx.out.error(pos, 'a choice needs "value:" (stored) and "label:" (shown)')
                continue
            value = str(item["value"])
            label = ctx.text("label", item, f"choices/{value}/label")
            synonyms = ctx.text("synonyms", item, f"choices/{value}/synonyms")
            choices.append(Choice(value, label, synonyms))
        if expect == "choice" and not choices:
            ctx.out.error(ctx.data.pos, 'a question with "expect: choice" needs "choices:"')
        bounds = {}
        for key in ("min", "max"):
            if ctx.data.get(key) is not None:
                bounds[key] = ctx.integer(key, 0, minimum=-(10**9))
        return cls(
            **base,
            text=ctx.text("text"),
            save_as=save_as,
            expect=expect,
            choices=tuple(choices),
            retry=ctx.text("retry"),
            max_retries=ctx.integer("max_retries", 2),
            next=ctx.target("next"),
            on_fail=ctx.target("on_fail"),
            minimum=bounds.get("min"),
            maximum=bounds.get("max"),
            topics=ctx.text("topics"),
        )

    def texts(self):
        return choice_texts(self.text, self.choices, self.retry, self.topics)

    def targets(self):
        return tuple(t for t in (self.next, self.on_fail) if t)

    def resolved(self, fix: Callable[[Target], Target | None]) -> Question:
        return replace(self, next=resolve(self.next, fix), on_fail=resolve(self.on_fail, fix))

    def saves(self) -> tuple[tuple[str, str], ...]:
        return ((self.save_as, self.expect),) if self.save_as else ()

    def option_labels(self) -> tuple[Text, ...]:
        # Only a choice question offers options: a yes/no one is answered in words.
        if self.expect != "choice":
            return ()
        return tuple(c.label for c in self.choices)
