"""What the service does with the events of a turn (erase, call back, remind, opt out).

The engine only emits events; this is the one place that turns them into effects, after
the turn's state is saved. For now it handles `forget` (delete every key of the
conversation) and logs the others by type only; the jobs issue adds callbacks and
reminders here. Logs name the event type, never a number, a body or an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.store import ConversationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventContext:
    """What event handlers may use: the store, the channel of the message, the settings."""

    store: ConversationStore
    channel: str
    config: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[EventContext, str, str, Any], None]


def _forget(ctx: EventContext, pseudonym: str, clear_number: str, event: Any) -> None:
    """FORGET confirmed: the state, stored replies and lock go, whatever their TTL."""
    deleted = ctx.store.forget(pseudonym)
    log.info("forget: %d key(s) deleted", deleted)


HANDLERS: dict[str, Handler] = {"forget": _forget}
"""Event type -> handler; types not listed are only logged (until the jobs issue)."""


def handle_events(
    ctx: EventContext, pseudonym: str, clear_number: str, events: Iterable[Any]
) -> None:
    """Act on a turn's events in order; one failing handler does not stop the others.

    `clear_number` is the person's E.164 number, for handlers that must send to it later
    (reminders, callbacks); it must never be logged or used in a key.
    """
    for event in events:
        handler = HANDLERS.get(event.type)
        if handler is None:
            log.info("event %s: no handler yet", event.type)
            continue
        try:
            handler(ctx, pseudonym, clear_number, event)
        except Exception as exc:
            log.error("event %s failed: %s", event.type, type(exc).__name__)
