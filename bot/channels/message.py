"""The message model: what goes out, as text or as a WhatsApp template, and its JSON form.

Rendering (bot.channels.render) makes these; jobs carry them as JSON and send them
(bot.jobs.outbound).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Outgoing:
    """One message: a text `body`, or a Content API template with its variables."""

    body: str = ""
    content_sid: str = ""
    content_variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def free_form(self) -> bool:
        """A plain text: on WhatsApp it may only go inside the 24-hour window."""
        return not self.content_sid

    def to_dict(self) -> dict[str, Any]:
        """The JSON form a job carries."""
        if self.content_sid:
            return {"content_sid": self.content_sid, "variables": dict(self.content_variables)}
        return {"body": self.body}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Outgoing:
        """Read the JSON form back."""
        variables = {str(k): str(v) for k, v in (doc.get("variables") or {}).items()}
        return cls(str(doc.get("body") or ""), str(doc.get("content_sid") or ""), variables)


def dump_messages(messages: list[Outgoing]) -> str:
    """Messages as the JSON string a job takes."""
    return json.dumps([m.to_dict() for m in messages], ensure_ascii=False)


def load_messages(raw: str) -> list[Outgoing]:
    """The messages of `dump_messages`."""
    return [Outgoing.from_dict(doc) for doc in json.loads(raw)]
