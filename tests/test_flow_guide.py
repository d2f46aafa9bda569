"""docs/flows.md stays true to the node types, and every example in it parses."""

import os
from pathlib import Path

import pytest
import yaml

from bot.flow.guide import examples, splice
from bot.flow.nodes import REGISTRY, parse_node
from bot.flow.problems import Collector
from bot.flow.yamlpos import load

GUIDE = Path(__file__).parent.parent / "docs" / "flows.md"


def test_guide_matches_the_code():
    text = GUIDE.read_text(encoding="utf-8")
    fresh = splice(text)
    if os.environ.get("BOT_UPDATE_GOLDEN") == "1":
        GUIDE.write_text(fresh, encoding="utf-8")
    assert text == fresh, "docs/flows.md is stale: run with BOT_UPDATE_GOLDEN=1"
    for heading in ("# Writing flows", "## Files", "## Conditions", "## Transcripts"):
        assert heading in text, f"the hand-written part of the guide lost {heading!r}"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_node_type_has_an_example_that_parses(name):
    cls = REGISTRY[name][0]
    found = examples(cls)
    assert found, f"{name}: the docstring needs a ```yaml example"
    for example in found:
        out = Collector("example")
        items = load(example, out)
        assert yaml.safe_load(example)
        for item in items:
            assert parse_node("example", item, out) is not None
        assert out.problems == [], out.problems
