"""Every node type is one module on each side and has at least one golden case.

A node type is bot/flow/nodes/<type>.py (model, parsing, validation) plus
bot/core/nodes/<type>.py (its runner). A golden case uses a type when a transcript's
conversation runs a node of that type (flows/transcripts/, tests/data/*/transcripts,
tests/data/i18n_transcripts/) or a broken flow under tests/broken/ declares one.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

import bot.core.nodes
import bot.flow.nodes
from bot.core.engine import Engine
from bot.core.nodes import RUNNERS
from bot.core.runtime import Runtime
from bot.core.transcripts import find, replay
from bot.flow.nodes import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
BROKEN = Path(__file__).parent / "broken"
SUITES = [
    # (flows, catalogs or None for the default, transcripts)
    (ROOT / "flows", None, ROOT / "flows" / "transcripts"),
    (ROOT / "flows", ROOT / "locales", DATA / "i18n_transcripts"),
    (DATA / "allnodes", DATA / "allnodes" / "no-catalogs", DATA / "allnodes" / "transcripts"),
]
_TYPE_LINE = re.compile(r"^\s*(?:-\s+)?type:\s*[\"']?([\w-]+)", re.M)


class _Recording(Engine):
    """An engine that notes the type of every node it runs."""

    def __init__(self, flows, translator):
        super().__init__(flows, translator)
        self.types: set[str] = set()

    def run_node(self, run, node):
        self.types.add(node.type)
        return super().run_node(run, node)


def transcript_types() -> set[str]:
    """The node types some passing transcript runs."""
    found: set[str] = set()
    for flows, catalogs, folder in SUITES:
        runtime = Runtime.load(flows, catalogs) if catalogs else Runtime.load(flows)
        for path in find([], folder):
            engine = _Recording(runtime.engine.flows, runtime.engine.tr)
            if replay(engine, path).ok:
                found |= engine.types
    return found


def broken_types() -> set[str]:
    """The node types the flows of the broken-flow cases declare."""
    found: set[str] = set()
    for case in BROKEN.iterdir():
        if not case.is_dir() or case.name.startswith("_"):
            continue
        for path in case.glob("*.yaml"):
            if not path.name.startswith("_"):
                text = path.read_text(encoding="utf-8", errors="replace")
                found.update(_TYPE_LINE.findall(text))
    return found


def without_golden_case(types: Iterable[str], covered: set[str]) -> list[str]:
    """The registered types no golden case uses, in registry order."""
    return [name for name in types if name not in covered]


@pytest.fixture(scope="module")
def covered() -> set[str]:
    return transcript_types() | broken_types()


def test_every_node_type_has_a_golden_case(covered):
    missing = without_golden_case(REGISTRY, covered)
    assert not missing, (
        f"node types without a golden case: {', '.join(missing)}; add a transcript that "
        "runs one (flows/transcripts/ or tests/data/allnodes/transcripts/) or a broken flow "
        "under tests/broken/"
    )


def test_a_type_without_a_case_is_named(covered):
    assert without_golden_case(["message", "carousel"], covered) == ["carousel"]


def test_every_type_is_one_module_on_each_side():
    assert set(RUNNERS) == set(REGISTRY), "a node type needs both a model and a runner"
    for name, (cls, _) in REGISTRY.items():
        assert cls.__module__ == f"bot.flow.nodes.{name}", (name, cls.__module__)
        assert RUNNERS[name].__module__ == f"bot.core.nodes.{name}", (name, RUNNERS[name])
    for package, registry in ((bot.flow.nodes, REGISTRY), (bot.core.nodes, RUNNERS)):
        modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"base"}
        unregistered = modules - set(registry)
        assert not unregistered, f"{package.__name__}: modules registering no type: {unregistered}"
