"""No SMS or WhatsApp part is only a footer or a menu hint: every screen of the shipped
flows, and every reply one message starts, in every language, split as the service sends
it (bot.channels.render.plan). An exhaustive walk, not a sample."""

import re

import pytest

from bot.channels.costs import _entries, _runs
from bot.channels.render import plan
from bot.core.runtime import Runtime
from bot.core.state import State
from bot.core.turn import Run
from bot.settings import Settings

ENGINE = Runtime.load().engine
MAX_PARTS = Settings().sms_max_parts
_MARKS = re.compile("[\u200e\u200f\u061c\u2066-\u2069\u202a-\u202e\\s]+")


def _bare(text: str) -> str:
    return _MARKS.sub(" ", text).strip()


def _lonely(lang: str) -> set[str]:
    """What may never be a part on its own in `lang`: the menu footer, the language hint."""
    run = Run(State(flow="faq", lang=lang, seen=1))
    texts = [ENGINE.system(run, "menu_footer"), ENGINE.system(run, "language_guess")]
    return {_bare(ENGINE.tr.finish(lang, t)) for t in texts} | {_bare(t) for t in texts}


def _replies(lang: str):
    """(where, replies) for every screen alone and every reply a message starts."""
    for flow in ENGINE.flows.flows.values():
        for node in flow.nodes.values():
            yield f"{flow.id}/{node.id}", ENGINE.preview(flow.id, node.id, lang)
    for flow_id, node_id in _entries(ENGINE):
        for nodes in _runs(ENGINE.flows, flow_id, node_id):
            replies = [r for f, n in nodes for r in ENGINE.preview(f, n.id, lang)]
            yield "->".join(n.id for _, n in nodes), replies


@pytest.mark.parametrize("lang", ENGINE.settings.languages)
@pytest.mark.parametrize("max_segments", [1, 2, ENGINE.settings.max_segments])
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_no_part_is_only_a_footer_or_a_hint(lang, max_segments, channel):
    lonely = _lonely(lang)
    checked = 0
    for where, replies in _replies(lang):
        sent = plan(replies, channel, max_segments=max_segments, max_parts=MAX_PARTS)
        parts = sent.twiml + [m.body for m in sent.rest]
        for part in parts:
            assert _bare(part) not in lonely, f"{where} in {lang}: a part is only {part!r}"
            checked += 1
    assert checked > 100
