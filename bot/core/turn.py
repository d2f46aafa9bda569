"""What one turn of a conversation is made of: the inbound message, replies, events.

These live apart from the engine so that the node runners in bot/core/nodes/ can use them
without importing the engine that imports them (no import circle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.core.state import State


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already stripped of anything that identifies them."""

    text: str
    channel: str = "sms"
    payload: str | None = None  # WhatsApp ButtonPayload / ListId
    lang_hint: str | None = None  # suggested from the script or the country code


@dataclass(frozen=True)
class Reply:
    """One outbound message; `options` lets WhatsApp show buttons instead of numbers."""

    text: str
    prompt: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (payload, label)
    footer: str = ""
    lang: str = "en"


@dataclass(frozen=True)
class Event:
    """Something the service must do after the turn (send to staff, schedule, erase)."""

    type: str
    data: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Turn:
    """What one inbound message produced."""

    state: State
    replies: tuple[Reply, ...]
    events: tuple[Event, ...]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]


class Run:
    """The mutable scratchpad of one step; the engine itself stays stateless."""

    def __init__(self, state: State):
        self.state = state
        self.replies: list[Reply] = []
        self.events: list[Event] = []
