"""The `action` node: ask the service to do something. Runs in bot/core/nodes/action.py.

`ACTIONS` lists what `do:` may say; the engine turns each into an event for the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from bot.flow.model import Node, Target, Text, resolve
from bot.flow.nodes.base import Ctx, register
from bot.flow.problems import did_you_mean
from bot.text.durations import parse_duration

ACTIONS = {
    "callback": "ask staff to call the person back (needs consent in the flow)",
    "set_language": "set the language to `language:`",
    "choose_language": "show the language menu and wait",
    "subscribe": "subscribe to `topic:`",
    "unsubscribe": "unsubscribe from `topic:`",
    "remind": "send `text:` again after `after:` (e.g. 3d, 12h)",
    "set": "store `value:` in the variable `variable:`",
    "forget": "erase everything about the person (after they confirmed)",
}


@register("action", ("do", "next", "language", "topic", "text", "after", "variable", "value"))
@dataclass(frozen=True)
class Action(Node):
    """Ask the service to do something; the engine emits an event and goes on.

    ```yaml
    - id: request_call
      type: action
      do: callback
      topic: counsellor
      next: call_requested
    ```
    """

    falls_through = True
    do: str = ""
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    text: Text | None = None
    next: Target | None = None

    @property
    def waits(self) -> bool:  # type: ignore[override]
        return self.do == "choose_language"

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Action:
        ctx.require("do", f"one of: {', '.join(ACTIONS)}")
        do = str(ctx.data.get("do") or "")
        if do and do not in ACTIONS:
            ctx.out.error(
                ctx.data.at("do"),
                f'unknown action "{do}"{did_you_mean(do, ACTIONS)}; known: {", ".join(ACTIONS)}',
            )
        params = {}
        for key in ("language", "topic", "after", "variable", "value"):
            if ctx.data.get(key) is not None:
                params[key] = str(ctx.data[key])
        needs = {
            "set_language": ("language",),
            "subscribe": ("topic",),
            "unsubscribe": ("topic",),
            "remind": ("after", "text"),
            "set": ("variable", "value"),
        }
        for key in needs.get(do, ()):
            ctx.require(key, ACTIONS[do])
        if do == "remind" and params.get("after") and parse_duration(params["after"]) is None:
            ctx.out.error(
                ctx.data.at("after"),
                f'"after" must look like 30m, 12h or 3d, not "{params["after"]}"',
            )
        return cls(
            **base,
            do=do,
            params=MappingProxyType(params),
            text=ctx.text("text"),
            next=ctx.target("next"),
        )

    def texts(self):
        return (self.text,) if self.text else ()

    def targets(self):
        return (self.next,) if self.next else ()

    def resolved(self, fix: Callable[[Target], Target | None]) -> Action:
        return replace(self, next=resolve(self.next, fix))

    def saves(self) -> tuple[tuple[str, str], ...]:
        variable = self.params.get("variable")
        return ((variable, "text"),) if self.do == "set" and variable else ()
