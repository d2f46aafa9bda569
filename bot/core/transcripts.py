"""Conversation transcripts: YAML files of what a person sends and the exact replies.

Staff write them to pin down how their flows behave; `bot flows test` replays them against
the engine (no server needed) and prints a readable diff when a reply changed. With
`--update` the expected replies are rewritten from what the engine says now (golden files).

```yaml
description: A Georgian asks about eligibility
lang: ka            # optional: the language the person has chosen before
number: "+995..."   # optional: the sender's number, for the first language guess
conversation:
  - send: "hi"
    expect:
      - "..."
  - wait: 25h       # optional: let time pass
  - send: "..."
    lang_hint: fa   # optional: the language the service guessed (default: from the text)
  - send: "۲"
    expect: [...]
    events: [callback]   # optional: the events this message must emit
```
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.engine import Engine, Inbound
from bot.core.state import State
from bot.i18n.detect import suggest_language
from bot.text.durations import parse_duration

START_CLOCK = 1_700_000_000
"""The fake clock a transcript starts at, in seconds since the epoch."""


@dataclass
class Outcome:
    """The result of replaying one transcript."""

    path: Path
    failures: list[str] = field(default_factory=list)
    steps: int = 0
    updated: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures


class _Block(str):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Block, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", str(v), style="|")
)


def _literal(text: str):
    return _Block(text) if "\n" in text else text


def dump(doc: dict) -> str:
    """Transcript YAML with multi-line replies as readable `|` blocks."""
    for step in doc.get("conversation", []):
        if "expect" in step:
            step["expect"] = [_literal(t) for t in step["expect"]]
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def replay(engine: Engine, path: Path, update: bool = False) -> Outcome:
    """Replay one transcript file; with `update`, rewrite its expected replies."""
    outcome = Outcome(path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    state = State(lang=doc.get("lang"), lang_confirmed=bool(doc.get("lang")))
    if not doc.get("lang"):
        state = None
    now = int(doc.get("clock") or START_CLOCK)
    channel = str(doc.get("channel") or "sms")
    for index, step in enumerate(doc.get("conversation") or [], 1):
        if "wait" in step:
            now += parse_duration(str(step["wait"])) or 0
            continue
        outcome.steps += 1
        sent = str(step.get("send", ""))
        hint = step.get("lang_hint")
        if hint is None and (state is None or state.lang is None):
            number = doc.get("number")
            hint = suggest_language(sent, number, engine.settings.languages)  # as the service does
        inbound = Inbound(sent, channel=channel, payload=step.get("payload"), lang_hint=hint)
        turn = engine.step(state, inbound, now)
        state = turn.state
        now += 30
        got = turn.texts
        if update:
            step["expect"] = got
            continue
        expected = [str(t).rstrip("\n") for t in step.get("expect") or []]
        if got != expected:
            diff = difflib.unified_diff(
                "\n---\n".join(expected).splitlines(),
                "\n---\n".join(got).splitlines(),
                "expected",
                "got",
                lineterm="",
            )
            outcome.failures.append(f"step {index}, send {sent!r}:\n" + "\n".join(diff))
        if "events" in step:
            names = [e.type for e in turn.events]
            if names != list(step["events"] or []):
                outcome.failures.append(
                    f"step {index}, send {sent!r}: events {names}, expected {step['events']}"
                )
    if update:
        path.write_text(dump(doc), encoding="utf-8")
        outcome.updated = True
    return outcome


def find(paths: list[Path], default: Path) -> list[Path]:
    """Transcript files named on the command line, or every one under the default folder."""
    if not paths:
        paths = [default]
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return found
