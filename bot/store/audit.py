"""The console's audit log: who did what and when, with staff names, never a person's number.

Administrators read it at /console/audit. Entries are JSON lines in one Redis list per UTC
day (bot.store.keys `audit_key`), kept `AUDIT_TTL`: logins, failed logins, lockouts,
callback claims and outcomes (by the request's short id), staff changes. `record` refuses
details that look like a phone number, so a careless caller cannot put one in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import redis

from bot.store import keys

AUDIT_TTL = 180 * 24 * 3600
"""Seconds an audit entry is kept."""
ACTIONS = (
    "login",
    "login_failed",
    "lockout",
    "logout",
    "callback_claim",
    "callback_reached",
    "callback_retry",
    "callback_give_back",
    "staff_add",
    "staff_remove",
    "staff_passwd",
)
"""What is recorded."""
_DIGITS = re.compile(r"\d[\d\s().-]{7,}\d")
MIN_NUMBER_DIGITS = 9
"""Digits in a run that make it look like a phone number (a request id has 8 hex digits)."""


def _has_number(text: str) -> bool:
    return any(sum(c.isdigit() for c in m) >= MIN_NUMBER_DIGITS for m in _DIGITS.findall(text))


@dataclass(frozen=True)
class Entry:
    """One audit entry."""

    at: int
    actor: str
    action: str
    detail: str

    @property
    def when(self) -> str:
        """UTC time, to the second."""
        return dt.datetime.fromtimestamp(self.at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _day(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d")


def record(
    client: redis.Redis, actor: str, action: str, detail: str = "", at: float | None = None
) -> Entry:
    """Append an entry to the day's log; raises ValueError for an unknown action or a number."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known: {', '.join(ACTIONS)}")
    if _has_number(detail) or _has_number(actor):
        raise ValueError("an audit entry must not carry a phone number")
    now = time.time() if at is None else at
    entry = Entry(int(now), actor[:64], action, detail[:200])
    name = keys.audit_key(_day(now))
    doc = {"t": entry.at, "a": entry.actor, "x": entry.action, "d": entry.detail}
    pipe = client.pipeline(transaction=True)
    pipe.rpush(name, json.dumps(doc, ensure_ascii=False))
    pipe.expire(name, AUDIT_TTL)
    pipe.execute()
    return entry


def recent(client: redis.Redis, days: int = 7, now: float | None = None) -> list[Entry]:
    """The entries of the last `days` UTC days, newest first."""
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=False)
    for back in range(days):
        pipe.lrange(keys.audit_key(_day(now - back * 86400)), 0, -1)
    entries: list[Entry] = []
    for raws in pipe.execute():
        for raw in raws:
            doc: dict[str, Any] = json.loads(raw)
            entries.append(Entry(int(doc["t"]), doc["a"], doc["x"], doc.get("d", "")))
    entries.reverse()  # within one second, the later entry first (the sort is stable)
    return sorted(entries, key=lambda e: e.at, reverse=True)
