"""What the flows cost in SMS segments, per language.

NGOs pay per segment, and a Georgian or Persian SMS holds 70 characters where an English
one holds 160. `oversized` turns every screen longer than `max_segments` into a validator
warning; `main_path` gives the cost table that `bot flows costs` prints; `screens` gives
every screen of chosen flows in every language, which `bot i18n check` holds to the limit
on the main path (`MAIN_PATH`).

A staff value still marked TODO is a long sentence to staff, not what people will read, so
`with_staff_standins` measures screens with a stand-in of `STAFF_STANDIN_CHARS` characters
in its place: a screen must fit with a real value of that size, not with the placeholder.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Iterator
from types import MappingProxyType

from bot.channels.render import text_parts
from bot.core.engine import Engine, Inbound
from bot.core.state import State
from bot.flow import FlowSet
from bot.flow.config import is_unfilled
from bot.flow.model import Flow, Node
from bot.flow.problems import WARNING, Problem
from bot.text.pricing import segments
from bot.text.segments import analyse

MAIN_PATH = ("main", "language", "eligibility", "steps", "reintegration", "counsellor")
"""The flows of the main path (greeting, language choice, main menu, eligibility questions and
results, steps, reintegration, counsellor request): every screen within `max_segments`."""
STAFF_STANDIN_CHARS = 24
"""Characters a staff value is measured at while it is still a placeholder (a phone number,
"on working days from 9:00 to 16:00" is longer: staff keep values short)."""


@dataclasses.dataclass(frozen=True)
class Screen:
    """One reply a node sends on its own, in one language, as it goes out."""

    flow: str
    node: str
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.flow}/{self.node}"


def with_staff_standins(flows: FlowSet) -> FlowSet:
    """The flow set with every unfilled staff value replaced by a GSM-7 stand-in."""
    standin = "x" * STAFF_STANDIN_CHARS
    staff = {k: standin if is_unfilled(v) else v for k, v in flows.staff.items()}
    return dataclasses.replace(flows, staff=MappingProxyType(staff))


def screens(engine: Engine, flow_ids: Iterable[str] | None = None) -> Iterator[Screen]:
    """Every screen of `flow_ids` (all flows if None), node by node, in every language."""
    for flow_id in engine.flows.flows if flow_ids is None else flow_ids:
        flow = engine.flows.flows.get(flow_id)
        if flow is None:
            continue
        for node in flow.nodes.values():
            for lang in engine.settings.languages:
                for reply in engine.preview(flow.id, node.id, lang):
                    yield Screen(flow.id, node.id, lang, reply.text)


def first_contact(engine: Engine) -> Iterator[Screen]:
    """The replies of a first message in every language: the guessed language and the welcome."""
    main = engine.settings.main_flow
    for lang in engine.settings.languages:
        turn = engine.step(None, Inbound("hi", lang_hint=lang), 1)
        for i, text in enumerate(turn.texts, 1):
            yield Screen(main, f"first_contact[{i}]", lang, text)


def _latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    return bool(letters) and latin / len(letters) > 0.8


def _culprits(text: str, non_gsm: tuple[str, ...]) -> str:
    shown = ", ".join(f"'{c}' U+{ord(c[0]):04X}" for c in dict.fromkeys(non_gsm))
    return f"; these characters make it UCS-2: {shown}" if shown else ""


def untranslated(engine: Engine, node) -> list[str]:
    """The languages in which some text of `node` has no translation yet (sent in English)."""
    catalogs = getattr(engine.tr, "catalogs", None)
    if catalogs is None:
        return []
    default = engine.settings.default_language
    msgids = [t.msgid for t in node.texts() if t.msgid]
    return [
        lang
        for lang in engine.settings.languages
        if lang != default and any(m not in catalogs.get(lang, {}) for m in msgids)
    ]


def oversized(engine: Engine) -> list[Problem]:
    """A warning for every screen, in every language, above the segment limit.

    A screen not yet translated into a language is not measured there: mixed with the
    language's menu footer it would look like a cost problem, when it is a pending
    translation (bot.channels.checks says so).
    """
    limit = engine.settings.max_segments
    problems = []
    for flow in engine.flows.flows.values():
        for node in flow.nodes.values():
            if node.long:
                continue  # its author accepts the length (turn_problems has the details)
            pending = untranslated(engine, node)
            for lang in engine.settings.languages:
                if lang in pending:
                    continue
                for reply in engine.preview(flow.id, node.id, lang):
                    info = analyse(reply.text)
                    # A stray quote, dash or space is worth a warning; a language's own letters
                    # (Turkish ş, French ç) are not: the translator cannot avoid them.
                    stray = [c for c in info.non_gsm if not c[:1].isalpha()]
                    ucs2_latin = bool(stray) and info.encoding == "UCS-2" and _latin(reply.text)
                    if info.segments <= limit and not ucs2_latin:
                        continue
                    why = _culprits(reply.text, info.non_gsm) if ucs2_latin else ""
                    if info.segments <= limit and not why:
                        continue
                    size = f"{info.segments} SMS segments in {lang} (limit {limit})"
                    if info.segments <= limit:
                        size = f"{info.segments} SMS segment(s) in {lang} but UCS-2"
                    problems.append(
                        Problem(
                            flow.path,
                            node.line,
                            node.col,
                            WARNING,
                            f'node "{node.id}" sends {size}{why}',
                        )
                    )
    return problems


def main_path(engine: Engine) -> list[dict]:
    """Per language: segments of the first contact and of each main-menu option's first reply."""
    settings = engine.settings
    menu = engine.main_menu
    rows = []
    for lang in settings.languages:
        first = engine.step(None, Inbound("hi", lang_hint=lang), 1)
        row = {
            "lang": lang,
            "first_contact": sum(analyse(t).segments for t in first.texts),
            "encoding": analyse("\n".join(first.texts)).encoding,
            "options": {},
        }
        for option in menu.options if menu else ():
            turn = engine.step(first.state, Inbound(str(option.number)), 2)
            row["options"][option.number] = sum(analyse(t).segments for t in turn.texts)
        row["total"] = row["first_contact"] + sum(row["options"].values())
        rows.append(row)
    return rows


WRONG_ANSWER = "xyzzy"
"""A reply no menu or question takes: the turn it starts is the screen asked again."""


def _waits(node: Node) -> bool:
    return node.waits or getattr(node, "do", "") == "choose_language"


def _runs(flows: FlowSet, flow_id: str, node_id: str, seen: tuple = ()) -> Iterator[list]:
    """Every run of nodes one message can start at (flow, node): each branch case apart,
    until a node that waits or ends, as a list of (flow, node)."""
    node = flows.node(flow_id, node_id)
    here = [(flow_id, node)]
    if (flow_id, node_id) in seen or _waits(node) or node.type in ("end", "question"):
        yield here
        return
    following = [t for t in node.targets() if t.flow and t.node]
    if not following:
        yield here
    for target in following:
        for rest in _runs(flows, target.flow, target.node, (*seen, (flow_id, node_id))):
            yield here + rest


def _entries(engine: Engine) -> dict[tuple[str, str], None]:
    """Where a message can start a run: a flow's start, a screen that waits (shown again,
    BACK), where an answer leads, a screen found by its topic words."""
    entries: dict[tuple[str, str], None] = {}
    for flow in engine.flows.flows.values():
        entries[(flow.id, flow.start)] = None
        for node in flow.nodes.values():
            if _waits(node) or getattr(node, "topics", None):
                entries[(flow.id, node.id)] = None
            if _waits(node):
                for target in node.targets():
                    if target.flow and target.node:
                        entries[(target.flow, target.node)] = None
    return entries


def _cost(engine: Engine, texts: list[str]) -> int:
    """SMS segments of a turn's texts as they are sent: grouped, then split."""
    limit = engine.settings.max_segments
    return sum(map(segments, text_parts(texts, "sms", limit, 99)))


def _problem(flow: Flow, node: Node, costs: dict[str, int], what: str, limit: int) -> Problem:
    worst = ", ".join(f"{lang} ({n})" for lang, n in costs.items())
    message = (
        f'node "{node.id}": {what} costs more than {limit} SMS segments in {worst}; '
        f'shorten it, or mark the long screen with "long: true" (docs/editing.md)'
    )
    return Problem(flow.path, node.line, node.col, WARNING, message)


def turn_problems(engine: Engine) -> list[Problem]:
    """A warning for every reply to one message that costs more than `max_segments`.

    A reply is what one message gets: the screens run from where it leads until one waits
    (each branch case apart), the first contact's welcome, and a screen asked again after
    an answer it cannot take. It may cost more only when one of its nodes says
    `long: true`. Languages with texts of those nodes pending are not measured there.
    """
    flows = engine.flows
    limit = engine.settings.max_segments
    langs = engine.settings.languages
    problems = []

    def measure(nodes: list, texts_in) -> dict[str, int]:
        if any(node.long for _, node in nodes):
            return {}
        pending = {lang for _, node in nodes for lang in untranslated(engine, node)}
        costs = {}
        for lang in langs:
            if lang not in pending:
                cost = _cost(engine, texts_in(lang))
                if cost > limit:
                    costs[lang] = cost
        return costs

    for flow_id, node_id in _entries(engine):
        worst: dict[str, int] = {}
        for nodes in _runs(flows, flow_id, node_id):

            def texts(lang: str, nodes=nodes) -> list[str]:
                return [r.text for f, n in nodes for r in engine.preview(f, n.id, lang)]

            for lang, cost in measure(nodes, texts).items():
                worst[lang] = max(cost, worst.get(lang, 0))
        if worst:
            flow = flows.flows[flow_id]
            problems.append(
                _problem(flow, flow.nodes[node_id], worst, "the reply it starts", limit)
            )
    for flow in flows.flows.values():
        for node in flow.nodes.values():
            if not _waits(node):
                continue

            def again(lang: str, flow=flow, node=node) -> list[str]:
                state = State(flow=flow.id, node=node.id, lang=lang, seen=1)
                return engine.step(state, Inbound(WRONG_ANSWER), 2).texts

            costs = measure([(flow.id, node)], again)
            if costs:
                problems.append(
                    _problem(flow, node, costs, "asked again after a wrong answer", limit)
                )
    main = flows.flows[engine.settings.main_flow]

    def welcome(lang: str) -> list[str]:
        return engine.step(None, Inbound("hi", lang_hint=lang), 1).texts

    first = [n for f, n in next(_runs(flows, main.id, main.start), [])]
    costs = measure([(main.id, n) for n in first], welcome)
    if costs:
        node = main.nodes[main.start]
        problems.append(_problem(main, node, costs, "the first contact's reply", limit))
    return problems
