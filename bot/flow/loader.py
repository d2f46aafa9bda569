"""Reading a folder of flows into one immutable `FlowSet`, in two passes.

Pass one parses each file on its own (YAML syntax, node types, required fields). Pass two
checks what crosses nodes and files: targets, duplicate ids, unreachable nodes, variables,
keyword clashes and loops that never wait for a reply. A file that does not parse is
reported alone: pass two says nothing about references to it, nor about reachability and
variables, which it would only get wrong. Every problem is collected, so staff
see them all at once; `load_flows` raises `FlowError` when any is an error.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path
from types import MappingProxyType

from bot.flow.config import parse_config, parse_staff
from bot.flow.model import Flow, FlowSet, Node, Target
from bot.flow.nodes import parse_node
from bot.flow.problems import ERROR, Collector, FlowError, Problem, did_you_mean
from bot.flow.yamlpos import YDict, YList, load
from bot.text.matching import normalize, split_words

CONFIG_FILE = "_config.yaml"
STAFF_FILE = "_staff.yaml"
SERVICE_VALUES = {
    "conversation_hours": "hours a conversation's place and answers are kept (BOT_STATE_TTL)",
    "preferences_days": "days a person's language and STOP are kept (BOT_PREFS_TTL)",
    "callback_days": "the most days a callback request is kept (BOT_CALLBACK_TTL)",
}
"""Placeholders every text may use, filled by the runtime from the service's settings (not
by staff): what the privacy notice says can never disagree with what the service does."""
FLOW_FIELDS = ("title", "keywords", "start", "nodes", "note")
_FLOW_ID = re.compile(r"^[a-z0-9_\-]+$")


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _parse_flow(flow_id: str, path: str, data, out: Collector) -> Flow | None:
    if data is None and out.problems:
        return None  # a YAML syntax error, already reported
    if not isinstance(data, YDict):
        out.error((1, 1), 'a flow file must be a block with "nodes:" (and optional keywords)')
        return None
    for key in data:
        if key not in FLOW_FIELDS:
            out.error(
                data.key_pos[key], f'a flow has no field "{key}"{did_you_mean(key, FLOW_FIELDS)}'
            )
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, YList) or not raw_nodes:
        out.error(data.at("nodes"), 'a flow needs "nodes:", a list of at least one node')
        return None
    nodes: dict[str, Node] = {}
    order: list[str] = []
    for i, item in enumerate(raw_nodes):
        if not isinstance(item, YDict):
            out.error(raw_nodes.at(i), 'each node must be a block starting with "- id:"')
            continue
        node = parse_node(flow_id, item, out)
        if node is None:
            continue
        if node.id in nodes:
            first = nodes[node.id]
            out.error(
                item.at("id"),
                f'node id "{node.id}" is used twice in this flow (first at line {first.line})',
            )
            continue
        nodes[node.id] = node
        order.append(node.id)
    # Message, question and action nodes without `next:` go on to the node written below.
    for here, below in itertools.pairwise(order):
        node = nodes[here]
        if node.falls_through and node.next is None:
            nodes[here] = dataclasses.replace(node, next=Target(below, node.line, node.col))
    keywords, keyword_pos = [], []
    raw = data.get("keywords")
    if isinstance(raw, YList):
        for i, word in enumerate(raw):
            if word:
                keywords.append(str(word))
                keyword_pos.append(raw.at(i))
    elif isinstance(raw, str):
        for word in split_words(raw):
            keywords.append(word)
            keyword_pos.append(data.at("keywords"))
    start = str(data.get("start") or (order[0] if order else ""))
    if data.get("start") and start not in nodes:
        out.error(
            data.at("start"), f'start node "{start}" does not exist{did_you_mean(start, nodes)}'
        )
    if not nodes:
        return None
    return Flow(
        id=flow_id,
        path=path,
        nodes=MappingProxyType(nodes),
        start=start if start in nodes else order[0],
        keywords=tuple(keywords),
        keyword_pos=tuple(keyword_pos),
        title=str(data.get("title") or ""),
    )


def _resolve(
    target: Target,
    flow: Flow,
    flows: dict[str, Flow],
    out: Collector,
    unread: frozenset = frozenset(),
) -> Target | None:
    raw = target.raw
    if raw.partition(".")[0] in unread and raw not in flow.nodes:
        return None  # a flow file that did not parse: its own error says so, once
    if "." in raw:
        flow_id, _, node_id = raw.partition(".")
        if flow_id not in flows:
            out.error(
                (target.line, target.col),
                f'"{raw}": there is no flow "{flow_id}"{did_you_mean(flow_id, flows)}',
            )
            return None
        if node_id not in flows[flow_id].nodes:
            hint = did_you_mean(node_id, flows[flow_id].nodes)
            out.error(
                (target.line, target.col),
                f'"{raw}": flow "{flow_id}" has no node "{node_id}"{hint}',
            )
            return None
        return dataclasses.replace(target, flow=flow_id, node=node_id)
    if raw in flow.nodes:
        return dataclasses.replace(target, flow=flow.id, node=raw)
    if raw in flows:
        return dataclasses.replace(target, flow=raw, node=flows[raw].start)
    known = list(flow.nodes) + list(flows)
    out.error(
        (target.line, target.col),
        f'"{raw}" is neither a node of this flow nor a flow{did_you_mean(raw, known)}',
    )
    return None


def _resolve_node(
    node: Node, flow: Flow, flows: dict[str, Flow], out: Collector, unread: frozenset = frozenset()
) -> Node:
    """The node with its targets resolved; targets into files that did not parse (`unread`)
    are left alone, so a broken file is reported once, not again by every reference."""
    return node.resolved(lambda target: _resolve(target, flow, flows, out, unread))


def _edges(node: Node) -> list[tuple[str, str]]:
    return [(t.flow, t.node) for t in node.targets() if t.flow]


def _check_graph(flows: dict[str, Flow], main: str, help_flow: str, outs: dict[str, Collector]):
    roots = [(f.id, f.start) for f in flows.values() if f.keywords or f.id in (main, help_flow)]
    seen: set[tuple[str, str]] = set()
    stack = list(roots)
    while stack:
        key = stack.pop()
        if key in seen or key[0] not in flows or key[1] not in flows[key[0]].nodes:
            continue
        seen.add(key)
        stack.extend(_edges(flows[key[0]].nodes[key[1]]))
    for flow in flows.values():
        if any(p.severity == ERROR for p in outs[flow.id].problems):
            continue  # unresolved targets would make every later node look unreachable
        if not any(k[0] == flow.id for k in seen):
            outs[flow.id].warn(
                (1, 1),
                f'flow "{flow.id}" is never used: no keywords and no node leads to it',
            )
            continue
        for node in flow.nodes.values():
            if (flow.id, node.id) not in seen:
                outs[flow.id].warn(
                    (node.line, node.col),
                    f'node "{node.id}" can never be reached: no option, goto or next leads to it',
                )
    # Loops made only of nodes that never wait would send messages forever.
    state: dict[tuple[str, str], int] = {}
    reported: set[frozenset] = set()

    def visit(key, path):
        state[key] = 1
        path.append(key)
        node = flows[key[0]].nodes[key[1]]
        if not node.waits:
            for nxt in _edges(node):
                if nxt[0] not in flows or nxt[1] not in flows[nxt[0]].nodes:
                    continue
                if flows[nxt[0]].nodes[nxt[1]].waits:
                    continue
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt) :]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        names = " -> ".join(f"{f}.{n}" for f, n in [*cycle, nxt])
                        first = flows[nxt[0]].nodes[nxt[1]]
                        outs[nxt[0]].error(
                            (first.line, first.col),
                            f"these nodes loop forever without waiting for a reply: {names}"
                            " (put a menu or a question in the loop)",
                        )
                elif nxt not in state:
                    visit(nxt, path)
        path.pop()
        state[key] = 2

    for flow in flows.values():
        for node_id in flow.nodes:
            if (flow.id, node_id) not in state:
                visit((flow.id, node_id), [])


def _check_variables(flowset_parts, outs: dict[str, Collector], config_out: Collector):
    flows, system, lists, staff = flowset_parts
    defined = set(staff) | set(SERVICE_VALUES)
    for flow in flows.values():
        for node in flow.nodes.values():
            defined.update(name for name, _kind in node.saves())
    for text in system.values():
        for name in text.names:
            if name not in defined:
                config_out.error((text.line, text.col), f'unknown placeholder "{{{name}}}"')
    for flow in flows.values():
        out = outs[flow.id]
        for node in flow.nodes.values():
            for text in node.texts():
                for name in text.names:
                    if name not in defined:
                        hint = did_you_mean(name, defined)
                        out.error(
                            (text.line, text.col),
                            f'unknown placeholder "{{{name}}}"{hint}: no question saves it and '
                            f"{STAFF_FILE} does not define it",
                        )
            node.check(defined, lists, out)


def _check_keywords(flows: dict[str, Flow], commands, outs: dict[str, Collector]):
    owners: dict[str, str] = {}
    for name, command in commands.items():
        for word in split_words(command.words.source):
            owners[normalize(word)] = f"the {name} command"
    for flow in flows.values():
        for word, pos in zip(flow.keywords, flow.keyword_pos, strict=True):
            key = normalize(word)
            if not key:
                outs[flow.id].error(pos, f'keyword "{word}" has no letters or digits')
            elif key in owners and owners[key] != f'flow "{flow.id}"':
                outs[flow.id].error(pos, f'keyword "{word}" is already used by {owners[key]}')
            else:
                owners[key] = f'flow "{flow.id}"'


def read_flows(directory: str | Path) -> tuple[FlowSet | None, list[Problem]]:
    """Load and validate every flow in `directory`; returns (flowset or None, problems)."""
    root = Path(directory)
    problems: list[Problem] = []
    config_path = root / CONFIG_FILE
    config_out = Collector(_display(config_path, root))
    if not config_path.exists():
        config_out.error((1, 1), f"{CONFIG_FILE} is missing: it holds languages and commands")
        return None, config_out.problems
    config_data = load(config_path.read_text(encoding="utf-8"), config_out)
    settings, commands, system, lists = parse_config(config_data, config_out)

    def setting_pos(key: str) -> tuple[int, int]:
        block = config_data.get("settings") if isinstance(config_data, YDict) else None
        return block.at(key) if isinstance(block, YDict) else (1, 1)

    staff_path = root / STAFF_FILE
    staff_out = Collector(_display(staff_path, root))
    staff: dict[str, str] = {}
    structured: dict[str, object] = {}
    if staff_path.exists():
        staff_data = load(staff_path.read_text(encoding="utf-8"), staff_out)
        staff = parse_staff(
            staff_data, staff_out, structured, (settings.default_language, *settings.languages)
        )
        for key in [k for k in staff if k in SERVICE_VALUES]:
            staff_out.error(
                staff_data.key_pos[key],
                f'"{key}" is a service value, set from the configuration '
                f"({SERVICE_VALUES[key]}): remove it from {STAFF_FILE}",
            )
            del staff[key]
    flows: dict[str, Flow] = {}
    outs: dict[str, Collector] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        out = Collector(_display(path, root))
        flow_id = path.stem
        if not _FLOW_ID.match(flow_id):
            out.error((1, 1), f'file name "{path.name}": use lowercase letters, digits, _ and -')
            problems += out.problems
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            out.error((1, 1), f"the file is not UTF-8 text (byte {exc.start}): save it as UTF-8")
            problems += out.problems
            continue
        flow = _parse_flow(flow_id, out.path, load(text, out), out)
        outs[flow_id] = out
        if flow is not None:
            flows[flow_id] = flow
    unread = frozenset(outs) - set(flows)
    for flow in list(flows.values()):
        out = outs[flow.id]
        nodes = {nid: _resolve_node(n, flow, flows, out, unread) for nid, n in flow.nodes.items()}
        flows[flow.id] = dataclasses.replace(flow, nodes=MappingProxyType(nodes))
    if settings.main_flow not in flows and settings.main_flow not in outs:
        config_out.error(
            setting_pos("main_flow"),
            f'the main flow "{settings.main_flow}" does not exist'
            f"{did_you_mean(settings.main_flow, flows)}",
        )
    if settings.help_flow and settings.help_flow not in flows and settings.help_flow not in outs:
        config_out.error(
            setting_pos("help_flow"), f'the help flow "{settings.help_flow}" does not exist'
        )
    if not unread:  # with a file unread, reachability and variables would only mislead
        _check_graph(flows, settings.main_flow, settings.help_flow, outs)
        _check_variables((flows, system, lists, staff), outs, config_out)
    _check_keywords(flows, commands, outs)
    problems += config_out.problems + staff_out.problems
    for out in outs.values():
        problems += out.problems
    problems.sort()
    if any(p.severity == ERROR for p in problems):
        return None, problems
    flowset = FlowSet(
        flows=MappingProxyType(flows),
        settings=settings,
        commands=MappingProxyType(commands),
        system=MappingProxyType(system),
        lists=MappingProxyType(lists),
        staff=MappingProxyType(staff),
        staff_values=MappingProxyType(structured),
    )
    return flowset, problems


def load_flows(directory: str | Path) -> FlowSet:
    """Load flows or raise FlowError listing every error (a working set is never half-built)."""
    flowset, problems = read_flows(directory)
    if flowset is None:
        raise FlowError(problems)
    return flowset


def parse_flow_text(flow_id: str, path: str, text: str) -> tuple[Flow | None, list[Problem]]:
    """Parse one flow file on its own, without cross-file checks (the catalog extractor's view)."""
    out = Collector(path)
    flow = _parse_flow(flow_id, path, load(text, out), out)
    return flow, out.problems
