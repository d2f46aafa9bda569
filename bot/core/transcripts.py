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
import io
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.core.engine import Engine, Inbound
from bot.core.state import State
from bot.i18n.detect import suggest_language
from bot.text.durations import parse_duration

START_CLOCK = 1_700_000_000
"""The fake clock a transcript starts at, in seconds since the epoch."""
DIFF_LINES = 12
"""Most lines of the diff `--update` prints per changed file; the rest is counted."""
FALLBACKS = ("not_understood", "invalid_answer", "too_many_retries")
"""System texts that mean the flow did not understand a send: never written in silently."""


@dataclass
class Outcome:
    """The result of replaying one transcript."""

    path: Path
    failures: list[str] = field(default_factory=list)
    steps: int = 0
    updated: bool = False
    diff: list[str] = field(default_factory=list)
    """With `--update`: a short diff of what changed in the file."""
    refused: list[str] = field(default_factory=list)
    """With `--update`: sends whose new reply is a fallback (`line N: send ...`)."""
    notes: list[str] = field(default_factory=list)
    """With `--update`: steps of a translated transcript that would now expect English."""
    fallbacks: list[tuple[int, int, str, str]] = field(default_factory=list)
    """(line, col, send, where) of each send now answered by a fallback it did not expect."""

    @property
    def ok(self) -> bool:
        return not self.failures


def _yaml() -> YAML:
    """Round-trip YAML: comments, quotes, order and layout survive a rewrite."""
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    return rt


def _literal(text: str):
    return LiteralScalarString(text) if "\n" in text else text


def _set_list(step, key: str, values: list) -> None:
    """Put `values` in `step[key]` item by item, so comments attached to the list stay."""
    current = step.get(key)
    if not isinstance(current, list):
        step[key] = values
        return
    for index, value in enumerate(values):
        if index < len(current):
            if current[index] != value or type(current[index]) is not type(value):
                current[index] = value
        else:
            current.append(value)
    del current[len(values) :]


def dump(doc) -> str:
    """The transcript as YAML, comments and layout kept; multi-line replies as `|` blocks."""
    for step in doc.get("conversation", []):
        if "expect" in step:
            _set_list(step, "expect", [_literal(str(t)) for t in step["expect"]])
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def load(path: Path):
    """The transcript document (round-trip); TranscriptError with file:line:col if broken."""
    try:
        doc = _yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise TranscriptError(f"{path}:{where}: error: YAML syntax: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError(f"{path}:1:1: error: cannot read the transcript ({exc})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("conversation") or [], list):
        raise TranscriptError(f'{path}:1:1: error: a transcript is a block with "conversation:"')
    return doc


class TranscriptError(Exception):
    """A transcript file that cannot be read; the message is one `file:line:col` line."""


def _fallback_texts(engine: Engine, lang: str) -> list[str]:
    texts = []
    for name in FALLBACKS:
        text = engine.flows.system.get(name)
        if text is not None:
            texts.append(engine.tr.gettext(lang, text.msgid).split("%(")[0].strip())
    return [t for t in texts if t]


def _is_fallback(texts: list[str], fallbacks: list[str]) -> bool:
    return any(f in t for t in texts for f in fallbacks)


def _where(state: State | None) -> str:
    if state is None or not state.node:
        return ""
    return f" at {state.flow}.{state.node}"


def _pos(step, key: str = "send") -> tuple[int, int]:
    try:
        line, col = step.lc.key(key) if key in step else (step.lc.line, step.lc.col)
    except (AttributeError, KeyError, TypeError):
        return (1, 1)
    return (line + 1, col + 1)


def _english(engine: Engine, lang: str | None) -> int:
    counts = getattr(engine.tr, "fallback_counts", None)
    return counts().get(lang, 0) if counts and lang else 0


def replay(
    engine: Engine, path: Path, update: bool = False, accept_fallbacks: bool = False
) -> Outcome:
    """Replay one transcript file; with `update`, rewrite its expected replies.

    An update keeps comments and layout, writes the file only when a reply changed (with a
    short diff in `Outcome.diff`), refuses to write a not-understood or fallback reply the
    transcript did not expect unless `accept_fallbacks` (then nothing is written), and notes
    each step of a translated transcript that would now expect English.
    """
    outcome = Outcome(path)
    original = path.read_text(encoding="utf-8")
    doc = load(path)
    state = State(lang=doc.get("lang"), lang_confirmed=bool(doc.get("lang")))
    if not doc.get("lang"):
        state = None
    now = int(doc.get("clock") or START_CLOCK)
    channel = str(doc.get("channel") or "sms")
    default = engine.settings.default_language
    english: list[tuple[int, int, str]] = []
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
        where = _where(state)
        english_before = _english(engine, doc.get("lang"))
        turn = engine.step(state, inbound, now)
        state = turn.state
        now += 30
        got = turn.texts
        expected = [str(t).rstrip("\n") for t in step.get("expect") or []]
        lang = (state.lang if state else None) or default
        fallbacks = _fallback_texts(engine, lang)
        line, col = _pos(step)
        if (
            got != expected
            and _is_fallback(got, fallbacks)
            and not _is_fallback(expected, fallbacks)
        ):
            outcome.fallbacks.append((line, col, sent, where))
        if update:
            if got != expected:
                if outcome.fallbacks and outcome.fallbacks[-1][0] == line and not accept_fallbacks:
                    outcome.refused.append(
                        f"{path}:{line}:{col}: send {sent!r}{where} is now answered "
                        f'"{fallbacks[0] if fallbacks else "not understood"}" '
                        "(a menu option or answer the flow no longer has?)"
                    )
                if doc.get("lang") and doc.get("lang") != default:
                    if _english(engine, doc.get("lang")) > english_before:
                        english.append((line, col, sent))
                _set_list(step, "expect", list(got))
            continue
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
    if english:
        line, col, sent = english[0]
        outcome.notes.append(
            f"{path}:{line}:{col}: the {doc.get('lang')} transcript now expects {default} text "
            f"(not yet translated) after {len(english)} send(s), the first {sent!r}"
        )
    if update and not outcome.refused:
        text = dump(doc)
        if text != original:
            outcome.diff = short_diff(original, text)
            path.write_text(text, encoding="utf-8")
            outcome.updated = True
    return outcome


def short_diff(before: str, after: str) -> list[str]:
    """A few lines of unified diff (one line of context), the rest counted."""
    lines = list(difflib.unified_diff(before.splitlines(), after.splitlines(), n=1, lineterm=""))[
        2:
    ]
    if len(lines) > DIFF_LINES:
        lines = [
            *lines[:DIFF_LINES],
            f"... {len(lines) - DIFF_LINES} more diff lines (git diff shows all)",
        ]
    return lines


def find(paths: list[Path], default: Path) -> list[Path]:
    """Transcript files named on the command line, or every one under the default folder."""
    if not paths:
        paths = [default]
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return found
