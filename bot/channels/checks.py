"""Every problem of a loaded flow set, counted the same by every command and process.

The loader finds what is wrong in the YAML; what the texts cost (screens above their SMS
segments) and WhatsApp's limits on menu labels can only be checked on rendered replies.
`bot flows validate`, `bot flows validate --changed`, `bot run` and the web service's log
all count this one list, so they never disagree about how many warnings there are.
"""

from __future__ import annotations

from bot.channels.costs import oversized
from bot.channels.whatsapp import label_problems
from bot.core.engine import Engine
from bot.flow.problems import Problem


def all_problems(engine: Engine, loaded: list[Problem]) -> list[Problem]:
    """The loader's problems (`loaded`) with the rendering checks, sorted, without repeats."""
    return sorted(set(loaded) | set(oversized(engine)) | set(label_problems(engine)))
