"""The English flow texts state no fact that a reviewer cannot find in a source.

Facts come only from docs/avrr-facts.md (the brief) and values staff fill in
(flows/_staff.yaml). A reviewer reads each text against them; this test does the mechanical
part: every number, amount, time, phone number and web address in an English text must
appear in one of the two. It also keeps every English screen within the SMS segment limit
of `_config.yaml` and in GSM-7, and checks the country lists that decide the support levels.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from babel import Locale

from bot.core.engine import Engine, PlainTranslator
from bot.flow import read_flows
from bot.flow.config import is_unfilled
from bot.text.segments import GSM7, analyse

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
BRIEF = ROOT / "docs" / "avrr-facts.md"

STAND_IN = "x" * 40
"""What an unfilled staff value is measured as: about a street address or a line of hours."""

FACT = re.compile(
    r"(?P<web_address>\b[a-z][\w-]*(?:\.[a-z][\w-]*)+\b)"
    r"|(?P<phone_number>\+?\d[\d ]{6,}\d)"
    r"|(?P<amount>EUR ?\d+(?:[.,]\d+)?)"
    r"|(?P<time>\d{1,2}:\d{2}(?:-\d{1,2}:\d{2})?)"
    r"|(?P<number>\d+(?:[.,]\d+)?)",
    re.IGNORECASE,
)
"""What a reviewer checks, longest kind first: `9:00-12:30` is one time, not three numbers."""
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")


@pytest.fixture(scope="module")
def flowset():
    flowset, problems = read_flows(FLOWS)
    assert flowset is not None, "\n".join(str(p) for p in problems)
    return flowset


def _english_texts(flowset):
    """(where, text) for every flow text, placeholders removed.

    The system texts of `_config.yaml` state no facts ("0 Main menu" is an instruction).
    """
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            for text in node.texts():
                yield f"{flow.id}/{node.id}", _PLACEHOLDER.sub(" ", text.source)


def _found(kind: str, token: str, sources: str) -> bool:
    if kind in ("number", "amount", "time"):
        return re.search(rf"(?<![\d.,:]){re.escape(token)}(?![\d])", sources) is not None
    return token.casefold() in sources.casefold()


def test_every_fact_token_has_a_source(flowset):
    sources = " ".join(BRIEF.read_text(encoding="utf-8").split())
    sources += " " + " ".join(" ".join(v.split()) for v in flowset.staff.values())
    missing = []
    for where, text in _english_texts(flowset):
        for match in FACT.finditer(" ".join(text.split())):
            kind, token = match.lastgroup or "", match.group()
            if not _found(kind, token, sources):
                missing.append(f"{where}: {kind.replace('_', ' ')} {token!r}")
    assert not missing, "not in docs/avrr-facts.md nor flows/_staff.yaml:\n" + "\n".join(missing)


def test_the_check_catches_an_invented_fact():
    sources = "free phone number 0800 32 745, EUR 350 per adult, voluntaryreturn.be"
    assert _found("phone_number", "0800 32 745", sources)
    assert not _found("phone_number", "0800 99 999", sources)
    assert _found("amount", "EUR 350", sources)
    assert not _found("amount", "EUR 35", sources)
    assert not _found("web_address", "fedasil.be", sources)
    kinds = [m.lastgroup for m in FACT.finditer("Call 0800 32 745, 9:00-12:30, EUR 50, x.be, 3")]
    assert kinds == ["phone_number", "time", "amount", "web_address", "number"]


def _screens(flowset):
    """Every English screen as sent, with unfilled staff values measured as STAND_IN."""
    staff = {k: STAND_IN if is_unfilled(v) else v for k, v in flowset.staff.items()}
    engine = Engine(dataclasses.replace(flowset, staff=staff), PlainTranslator())
    for flow in flowset.flows.values():
        for node in flow.nodes.values():
            for reply in engine.preview(flow.id, node.id, "en"):
                yield f"{flow.id}/{node.id}", reply.text


def test_every_english_screen_fits_the_segment_limit(flowset):
    limit = flowset.settings.max_segments
    too_long = []
    for where, text in _screens(flowset):
        info = analyse(text)
        if info.segments > limit:
            too_long.append(f"{where}: {info.segments} segments ({info.encoding})")
    assert not too_long, f"above {limit} SMS segments:\n" + "\n".join(too_long)


def test_every_english_text_is_gsm7(flowset):
    """One curly quote or dash would make a whole English SMS UCS-2: 70 characters a segment."""
    wide = []
    for where, text in _english_texts(flowset):
        info = analyse(text)
        if info.encoding != GSM7:
            wide.append(f"{where}: {' '.join(dict.fromkeys(info.non_gsm))}")
    assert not wide, "characters outside GSM-7:\n" + "\n".join(wide)


def test_every_eligibility_answer_says_a_counsellor_confirms(flowset):
    flow = flowset.flows["eligibility"]
    results = [n for n in flow.nodes.values() if n.id.startswith("result_")]
    assert len(results) >= 5
    for node in results:
        assert "A counsellor will confirm." in node.text.source, node.id


def test_country_lists_hold_real_codes_and_the_brief_s_countries(flowset):
    territories = Locale("en").territories
    lists = flowset.lists
    for name in ("visa_free_countries", "old_eu_countries", "newer_eu_countries"):
        assert lists[name], name
        for code in lists[name]:
            assert code in territories, f"{name}: {code} is not an ISO 3166 code CLDR knows"
    assert {"GE", "XK"} <= set(lists["visa_free_countries"])
    assert len(lists["old_eu_countries"]) == 15
    assert not set(lists["visa_free_countries"]) & set(lists["old_eu_countries"])
    assert not set(lists["old_eu_countries"]) & set(lists["newer_eu_countries"])
