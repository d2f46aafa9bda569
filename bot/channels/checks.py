"""Every problem of a loaded flow set, counted the same by every command and process.

The loader finds what is wrong in the YAML; what the texts cost (screens above their SMS
segments) WhatsApp's limits on menu labels and topic words that collide (bot.core.questions) can
only be checked on the loaded set.
`bot flows validate`, `bot flows validate --changed`, `bot run` and the web service's log
all count this one list, so they never disagree about how many warnings there are.
"""

from __future__ import annotations

from bot.channels.costs import oversized, turn_problems, untranslated
from bot.channels.whatsapp import label_problems
from bot.core.engine import Engine
from bot.core.questions import topic_problems
from bot.flow.problems import WARNING, Problem


def pending(engine: Engine) -> list[Problem]:
    """A warning for each node with texts not yet translated, naming the languages."""
    problems = []
    default = engine.settings.default_language
    for flow in engine.flows.flows.values():
        for node in flow.nodes.values():
            langs = untranslated(engine, node)
            if langs:
                message = (
                    f'node "{node.id}" is untranslated in {", ".join(langs)}: '
                    f"people see it in {default} until it is translated"
                )
                problems.append(Problem(flow.path, node.line, node.col, WARNING, message))
    return problems


def all_problems(engine: Engine, loaded: list[Problem]) -> list[Problem]:
    """The loader's problems (`loaded`) with the rendering checks, sorted, without repeats."""
    found = set(loaded) | set(oversized(engine)) | set(label_problems(engine))
    found |= set(topic_problems(engine)) | set(turn_problems(engine))
    return sorted(found | set(pending(engine)))
