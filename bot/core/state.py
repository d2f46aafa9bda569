"""Conversation state: a small versioned JSON document, never pickle.

Keys are one or two letters because thousands of idle conversations sit in Redis and each
byte counts (the benchmark measures bytes per idle conversation). `from_json` accepts
older versions and unknown keys so that a deploy never strands a conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

VERSION = 1
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""`json.dumps(doc, ensure_ascii=False, separators=(",", ":"))` without building an encoder
for every call (json.dumps does when given options): the store writes three documents a
message."""
MAX_HISTORY = 8
"""How many menus BACK can walk back through."""


@dataclass
class State:
    """Where one person is in the conversation and what they answered."""

    flow: str | None = None
    node: str | None = None  # the node waiting for a reply, None when none is
    vars: dict[str, str] = field(default_factory=dict)
    lang: str | None = None
    lang_confirmed: bool = False
    history: list[str] = field(default_factory=list)  # "flow.node" of menus shown
    retries: int = 0
    seen: int = 0  # when the last message arrived, seconds since the epoch
    opted_out: bool = False
    pending: str | None = None  # "forget" or "lang" while a system question waits

    def to_json(self, preferences: bool = True) -> str:
        """Compact JSON: empty fields are left out; without `preferences`, also the language
        and STOP, which bot.store.prefs keeps apart."""
        doc: dict = {"v": VERSION}
        pairs = (
            ("f", self.flow),
            ("n", self.node),
            ("x", self.vars),
            ("l", self.lang if preferences else None),
            ("c", 1 if preferences and self.lang_confirmed else 0),
            ("h", self.history),
            ("r", self.retries),
            ("t", self.seen),
            ("o", 1 if preferences and self.opted_out else 0),
            ("p", self.pending),
        )
        doc.update((k, v) for k, v in pairs if v)
        return compact_json(doc)

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> State:
        """Read a stored state; anything unreadable gives a fresh state, never an error."""
        if not raw:
            return cls()
        try:
            doc = json.loads(raw)
        except (ValueError, TypeError):
            return cls()
        if not isinstance(doc, dict) or doc.get("v") != VERSION:
            return cls()
        return cls(
            flow=doc.get("f"),
            node=doc.get("n"),
            vars=dict(doc.get("x") or {}),
            lang=doc.get("l"),
            lang_confirmed=bool(doc.get("c")),
            history=list(doc.get("h") or []),
            retries=int(doc.get("r") or 0),
            seen=int(doc.get("t") or 0),
            opted_out=bool(doc.get("o")),
            pending=doc.get("p"),
        )

    def copy(self) -> State:
        """A deep enough copy for the engine to change freely (its dict and list copied)."""
        return State(
            flow=self.flow,
            node=self.node,
            vars=dict(self.vars),
            lang=self.lang,
            lang_confirmed=self.lang_confirmed,
            history=list(self.history),
            retries=self.retries,
            seen=self.seen,
            opted_out=self.opted_out,
            pending=self.pending,
        )  # every field by name: dataclasses.replace looks them up on each call
