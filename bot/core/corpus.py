"""The question corpus: questions people text, replayed at the main menu and scored per language.

`flows/questions/<lang>.yaml` holds questions as people write them, each with the screen
(`flow.node`, or a list) that answers it, and out-of-scope messages that must reach no
screen. `bot flows questions` replays each one against the real engine, as the first text
at the main menu, and counts where it went:

- direct: the answer screen was shown at once;
- suggested: a suggestion list was shown and it holds the answer;
- missed: "not understood", or a list without the answer;
- wrong: another screen was shown (a wrong confident answer, the worst outcome).

```yaml
lang: ka
questions:
  - {ask: "პასპორტი დავკარგე", answer: steps.document}
  - {ask: "ბილეთს ვინ იხდის", answer: [steps.travel, faq.cost]}
out_of_scope:
  - "ხვალ რა ამინდია"
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.engine import Engine, Inbound
from bot.core.questions import PENDING
from bot.core.state import State

OUTCOMES = ("direct", "suggested", "missed", "wrong")
T0 = 1_700_000_000


@dataclass
class Score:
    """The outcomes of one language's corpus, and what went wrong, for the report."""

    lang: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    out_of_scope: int = 0
    out_of_scope_routed: int = 0
    out_of_scope_listed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def reached(self) -> float:
        """The share of questions that reached their answer, directly or through a list."""
        return (self.counts["direct"] + self.counts["suggested"]) / self.total if self.total else 0


def ask(engine: Engine, lang: str, text: str) -> tuple[str, tuple[str, ...]]:
    """Send one text at the main menu; return ("direct" | "list" | "none", screens reached)."""
    main = engine.settings.main_flow
    menu = engine.main_menu.id if engine.main_menu else engine.flows.flows[main].start
    state = State(flow=main, node=menu, lang=lang, lang_confirmed=True, seen=T0)
    turn = engine.step(state, Inbound(text), T0 + 30)
    st = turn.state
    if st.pending and st.pending.startswith(PENDING):
        return "list", tuple(st.pending[len(PENDING) :].split("|"))
    outcomes = [e.data.get("outcome") for e in turn.events if e.type == "question"]
    if outcomes == ["matched"]:
        return "direct", engine.questions.match(lang, text).screens[:1]
    if st.node and (st.flow, st.node) != (main, menu):
        return "direct", (f"{st.flow}.{st.node}",)  # a menu option or a keyword was followed
    return "none", ()


def score(engine: Engine, path: Path) -> Score:
    """Replay one language's corpus file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lang = str(doc.get("lang") or path.stem)
    result = Score(lang)
    for item in doc.get("questions") or []:
        text = str(item["ask"])
        answers = item["answer"] if isinstance(item["answer"], list) else [item["answer"]]
        kind, screens = ask(engine, lang, text)
        if kind == "direct":
            outcome = "direct" if screens[0] in answers else "wrong"
        elif kind == "list":
            outcome = "suggested" if set(screens) & set(answers) else "missed"
        else:
            outcome = "missed"
        result.counts[outcome] += 1
        if outcome in ("missed", "wrong"):
            got = ", ".join(screens) or "not understood"
            result.failures.append(f"{lang}: {outcome}: {text!r} -> {got} (answer: {answers})")
    for text in doc.get("out_of_scope") or []:
        result.out_of_scope += 1
        kind, screens = ask(engine, lang, str(text))
        if kind == "direct":
            result.out_of_scope_routed += 1
            result.failures.append(f"{lang}: out of scope routed: {text!r} -> {screens[0]}")
        elif kind == "list":
            result.out_of_scope_listed += 1
    return result


def files(folder: Path) -> list[Path]:
    """The corpus files of a folder, one per language."""
    return sorted(folder.glob("*.yaml"))
