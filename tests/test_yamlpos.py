"""YAML mistakes staff make, each named for what it is, with the lines around it."""

from __future__ import annotations

from bot.flow.problems import Collector
from bot.flow.yamlpos import load

INDENT = """\
nodes:
  - id: menu
    type: menu
     text: "Main menu"
    options: []
"""


def _error(text: str):
    out = Collector("main.yaml")
    assert load(text, out) is None
    [problem] = out.problems
    return problem


def test_an_extra_space_is_called_an_indentation_mistake_with_a_caret():
    problem = _error(INDENT)
    assert problem.message.startswith("YAML indentation:")
    assert "quotes" not in problem.message
    assert (problem.line, problem.col) == (4, 6)
    rendered = problem.render().splitlines()
    assert rendered[0].startswith("main.yaml:4:6: error: YAML indentation")
    assert '4 |      text: "Main menu"' in problem.render()
    caret = next(line for line in rendered if line.strip().endswith("^"))
    assert caret.index("^") == rendered[rendered.index(caret) - 1].index("text")
    assert any(line.strip().startswith("2 |") for line in rendered)  # lines around it
    assert any(line.strip().startswith("5 |") for line in rendered)


def test_the_quoting_hint_only_when_the_text_holds_a_colon_and_space():
    problem = _error("nodes:\n  - id: a\n    text: Choose: one option\n")
    assert problem.message.endswith('(a text containing ": " must be put in quotes)')


def test_a_tab_is_called_a_tab():
    problem = _error("nodes:\n\t- id: a\n")
    assert "use spaces, not tabs" in problem.message
