"""The node types staff can use, one registry, each type parsing its own YAML.

Each class docstring is a YAML example; `docs/flows.md` is checked against them
(tests/test_flow_docs.py), so the authoring guide cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.flow import conditions
from bot.flow.model import Case, Choice, Node, Option, Target, Text
from bot.flow.problems import Collector, did_you_mean
from bot.flow.yamlpos import YDict, YList
from bot.text.durations import parse_duration

REGISTRY: dict[str, tuple[type[Node], Callable]] = {}
COMMON_FIELDS = ("id", "type", "note", "source")
SOURCES = ("staff",)
"""Values of a node's `source:`; `staff` marks what staff wrote, not taken from the facts brief."""


def register(name: str, fields: tuple[str, ...]):
    """Class decorator: add a node type and the fields its YAML may have."""

    def wrap(cls):
        cls.type = name
        cls.fields = COMMON_FIELDS + fields
        REGISTRY[name] = (cls, cls.parse)
        return cls

    return wrap


class Ctx:
    """What a node parser needs: the flow id, the node's YAML and a problem collector."""

    def __init__(self, flow_id: str, data: YDict, out: Collector):
        self.flow_id = flow_id
        self.data = data
        self.out = out
        self.node_id = str(data.get("id") or "")

    def where(self, field: str) -> str:
        return f"{self.flow_id}/{self.node_id}/{field}"

    def require(self, key: str, what: str) -> bool:
        if self.data.get(key) in (None, "", [], {}):
            self.out.error(self.data.pos, f'{self.kind()} "{self.node_id}" needs "{key}:" ({what})')
            return False
        return True

    def kind(self) -> str:
        return f"{self.data.get('type')} node"

    def text(self, key: str, data: YDict | None = None, field: str | None = None) -> Text | None:
        data = self.data if data is None else data
        value = data.get(key)
        if value is None:
            return None
        line, col = data.at(key)
        if not isinstance(value, str):
            self.out.error((line, col), f'"{key}" must be a text, not a list or a block')
            return None
        return Text(value.strip(), line, col, self.where(field or key))

    def target(self, key: str, data: YDict | None = None) -> Target | None:
        data = self.data if data is None else data
        value = data.get(key)
        if value is None:
            return None
        line, col = data.at(key)
        if not isinstance(value, str) or not value.strip():
            self.out.error((line, col), f'"{key}" must name a node or a flow')
            return None
        return Target(value.strip(), line, col)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.out.error(self.data.at(key), f'"{key}" must be a whole number, not "{value}"')
            return default
        if number < minimum:
            self.out.error(self.data.at(key), f'"{key}" must be at least {minimum} (is {number})')
            return default
        return number

    def items(self, key: str) -> list[tuple[YDict, tuple[int, int]]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, YList):
            self.out.error(self.data.at(key), f'"{key}" must be a list (lines starting with "- ")')
            return []
        result = []
        for i, item in enumerate(value):
            if not isinstance(item, YDict):
                self.out.error(value.at(i), f'each item of "{key}" must be a block of fields')
                continue
            result.append((item, value.at(i)))
        return result


def _check_fields(data: YDict, known: tuple[str, ...], what: str, out: Collector) -> None:
    for key in data:
        if key not in known:
            hint = did_you_mean(key, known)
            out.error(data.key_pos[key], f'{what} has no field "{key}"{hint}')


@register("message", ("text", "next"))
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

    text: Text | None = None
    next: Target | None = None

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Message:
        ctx.require("text", "what to send")
        return cls(**base, text=ctx.text("text"), next=ctx.target("next"))

    def texts(self):
        return (self.text,) if self.text else ()

    def targets(self):
        return (self.next,) if self.next else ()


@register("menu", ("text", "options", "retry"))
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

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Menu:
        ctx.require("text", "the question above the options")
        ctx.require("options", "at least one choice, each with a label and goto")
        options, seen = [], {}
        for i, (item, pos) in enumerate(ctx.items("options"), start=1):
            _check_fields(item, ("label", "synonyms", "goto", "number"), "a menu option", ctx.out)
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
        return cls(**base, text=ctx.text("text"), options=tuple(options), retry=ctx.text("retry"))

    def texts(self):
        out = [self.text] if self.text else []
        for option in self.options:
            out.append(option.label)
            if option.synonyms:
                out.append(option.synonyms)
        if self.retry:
            out.append(self.retry)
        return tuple(out)

    def targets(self):
        return tuple(o.target for o in self.options)


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
            _check_fields(item, ("value", "label", "synonyms"), "a choice", ctx.out)
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
        )

    def texts(self):
        out = [self.text] if self.text else []
        for c in self.choices:
            out.append(c.label)
            if c.synonyms:
                out.append(c.synonyms)
        if self.retry:
            out.append(self.retry)
        return tuple(out)

    def targets(self):
        return tuple(t for t in (self.next, self.on_fail) if t)


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
            _check_fields(item, ("when", "goto"), "a branch case", ctx.out)
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


@register("goto", ("goto",))
@dataclass(frozen=True)
class Goto(Node):
    """Jump to another node or flow without sending anything.

    ```yaml
    - id: to_counsellor
      type: goto
      goto: counsellor.start
    ```
    """

    target: Target | None = None

    @classmethod
    def parse(cls, ctx: Ctx, base: dict) -> Goto:
        ctx.require("goto", "the node or flow to jump to")
        return cls(**base, target=ctx.target("goto"))

    def targets(self):
        return (self.target,) if self.target else ()


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


FALLS_THROUGH = ("message", "question", "action")


def parse_node(flow_id: str, data: YDict, out: Collector) -> Node | None:
    """Parse one node block; None when it is too broken to use (the problems are recorded)."""
    node_id = data.get("id")
    kind = data.get("type")
    if not node_id:
        out.error(data.pos, 'this node needs "id:" (a short name such as "ask_country")')
        return None
    if not isinstance(node_id, str) or not re.fullmatch(r"[A-Za-z0-9_\-]+", node_id):
        out.error(data.at("id"), f'node id "{node_id}" may only use letters, digits, _ and -')
        return None
    if not kind:
        out.error(data.pos, f'node "{node_id}" needs "type:" (one of: {", ".join(REGISTRY)})')
        return None
    if kind not in REGISTRY:
        out.error(
            data.at("type"),
            f'unknown node type "{kind}"{did_you_mean(str(kind), REGISTRY)}; '
            f"known types: {', '.join(REGISTRY)}",
        )
        return None
    cls, parser = REGISTRY[kind]
    _check_fields(data, cls.fields, f"a {kind} node", out)
    if data.get("source") is not None and data.get("source") not in SOURCES:
        out.error(data.at("source"), f'"source:" can only be {", ".join(SOURCES)}')
    line, col = data.pos
    return parser(Ctx(flow_id, data, out), {"id": node_id, "line": line, "col": col})
