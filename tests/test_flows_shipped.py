"""The flows we ship load without error, and their English transcripts walk every path.

Each transcript under flows/transcripts/ is a golden file: the replies a person gets, read
and checked by a human. Replaying them here catches any change in what people are told. A
tracing engine records what the transcripts reach, so a node, a menu option, a branch
outcome or a choice that no transcript walks fails the coverage test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.runtime import Runtime
from bot.core.transcripts import replay
from bot.flow import read_flows
from bot.flow.nodes import Branch, Menu, Question
from bot.flow.problems import ERROR

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
TRANSCRIPTS = sorted((FLOWS / "transcripts").glob("*.yaml"))


@pytest.fixture(scope="module")
def runtime():
    return Runtime.load(FLOWS)


def test_shipped_flows_have_no_error_and_warn_only_about_staff_values():
    flowset, problems = read_flows(FLOWS)
    assert flowset is not None, "\n".join(str(p) for p in problems if p.severity == ERROR)
    others = [str(p) for p in problems if not p.path.endswith("_staff.yaml")]
    assert not others, "\n".join(others)


def test_every_staff_value_is_used_by_a_text():
    flowset, _ = read_flows(FLOWS)
    used = {name for text in flowset.all_texts() for name in text.names}
    unused = sorted(set(flowset.staff) - used)
    assert not unused, f"flows/_staff.yaml values no text shows: {unused}"


def test_there_are_transcripts():
    assert len(TRANSCRIPTS) >= 8


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
def test_transcript(runtime, path):
    outcome = replay(runtime.engine, path)
    assert outcome.ok, "\n".join(outcome.failures)


class _Tracing(Engine):
    """An engine that records the nodes run, options chosen, answers given, branches taken."""

    def __init__(self, flows, translator):
        super().__init__(flows, translator)
        self.seen: set[tuple] = set()

    def run_node(self, run, node, *args, **kwargs):
        flow = run.state.flow
        self.seen.add(("node", flow, node.id))
        target = super().run_node(run, node, *args, **kwargs)
        if isinstance(node, Branch) and target is not None:
            self.seen.add(("branch", flow, node.id, target.flow, target.node))
        return target

    def match_option(self, run, node, *args, **kwargs):
        option = super().match_option(run, node, *args, **kwargs)
        if option is not None:
            self.seen.add(("option", run.state.flow, node.id, option.number))
        return option

    def parse_answer(self, run, node, *args, **kwargs):
        value = super().parse_answer(run, node, *args, **kwargs)
        if value is not None:
            self.seen.add(("answer", run.state.flow, node.id, value))
        return value


def _expected(flowset) -> set[tuple]:
    want: set[tuple] = set()
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            want.add(("node", flow.id, node.id))
            if isinstance(node, Menu):
                want |= {("option", flow.id, node.id, o.number) for o in node.options}
            if isinstance(node, Branch):
                targets = [c.target for c in node.cases] + [node.otherwise]
                want |= {("branch", flow.id, node.id, t.flow, t.node) for t in targets if t}
            if isinstance(node, Question) and node.expect == "yes_no":
                want |= {("answer", flow.id, node.id, v) for v in ("yes", "no")}
            if isinstance(node, Question) and node.expect == "choice":
                want |= {("answer", flow.id, node.id, c.value) for c in node.choices}
    return want


def test_transcripts_walk_every_path(runtime):
    engine = _Tracing(runtime.engine.flows, runtime.engine.tr)
    for path in TRANSCRIPTS:
        replay(engine, path)
    missing = sorted(_expected(engine.flows) - engine.seen)
    assert not missing, "no English transcript reaches:\n" + "\n".join(map(str, missing))
