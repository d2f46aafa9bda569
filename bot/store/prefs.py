"""Preferences (language, STOP) live apart from the conversation's position, and longer.

Where someone is in a flow and what they answered is worth little after a day, and it is
the part that says most about them, so it expires soon (`BOT_STATE_TTL`, 24 h by default).
A language the person chose (LANG or the language menu) and their STOP are worth keeping
longer (`BOT_PREFS_TTL`): a person who comes back next week should be greeted in the
language they asked for, and someone who sent STOP must stay opted out.

A language the service only guessed (from the script of the first message or the number's
country) stays with the position and expires with it, unless the person sent STOP (then it
is kept with the STOP, so that START is answered in their language). A language says much
about where a person comes from, and the same guess is made again when they come back. So
someone who never chose a language nor sent STOP leaves nothing in Redis a day after their
last message, and an idle conversation costs one key instead of two.

The engine sees one `State`; the store splits it into the two keys on COMMIT and merges
them on BEGIN, inside the same two Lua scripts.
"""

from __future__ import annotations

import json

from bot.core.state import State, compact_json

VERSION = 1


def split(state: State) -> tuple[str, str | None]:
    """(position JSON, preferences JSON) of a state; neither repeats what the other holds.

    The preferences are None when there are none to keep longer than the position (no
    chosen language, no STOP); a guessed language is then part of the position.
    """
    if not (state.lang_confirmed or state.opted_out):
        return state.to_json(), None
    position = state.to_json(preferences=False)
    pairs = (("l", state.lang), ("c", int(state.lang_confirmed)), ("o", int(state.opted_out)))
    doc = {k: v for k, v in pairs if v}
    if not doc:
        return position, None
    return position, compact_json({"v": VERSION, **doc})


def read(raw: str | bytes | None) -> dict:
    """The preferences document; anything unreadable (or from another version) is empty."""
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    return doc if isinstance(doc, dict) and doc.get("v") == VERSION else {}


def merge(position: str | bytes | None, preferences: str | bytes | None) -> State | None:
    """The engine's state from the two stored parts; None when neither exists.

    When only the preferences are left (the position expired) the person starts afresh at
    the welcome, in their language, and stays opted out if they sent STOP.
    """
    if not position and not preferences:
        return None
    state = State.from_json(position) if position else State()
    doc = read(preferences)
    if doc:
        state.lang = doc.get("l") or state.lang
        state.lang_confirmed = bool(doc.get("c")) or state.lang_confirmed
        state.opted_out = bool(doc.get("o"))
    return state


def language(preferences: str | bytes | None) -> str | None:
    """The stored language, for replies sent without running the engine."""
    return read(preferences).get("l")


def opted_out(preferences: str | bytes | None) -> bool:
    """True when the person sent STOP (and not START since)."""
    return bool(read(preferences).get("o"))
