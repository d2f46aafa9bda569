"""Telling staff that flows on disk did not validate, by the channels of callback requests.

A publish (`bot flows reload`, SIGHUP, a worker restart) that finds errors keeps the last
good flows running; that must not go unnoticed, so staff get the errors, each as
`file:line:col`, on the staff webhook (JSON, `"type": "flows_failed"`, signed like callback
requests) and/or by e-mail, and always in the log. The lines name files and nodes, never a
person.
"""

from __future__ import annotations

import logging

from bot.jobs.callbacks import notify_staff
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_LINES = 50
"""Most error lines sent to staff; the rest is counted ("and 12 more")."""


def summary(lines: list[str]) -> list[str]:
    """The first MAX_LINES lines, and how many more there are."""
    if len(lines) <= MAX_LINES:
        return list(lines)
    return [*lines[:MAX_LINES], f"... and {len(lines) - MAX_LINES} more"]


def report(settings: Settings, lines: list[str], serving: str) -> str:
    """Tell staff on every configured channel; `serving` says which set still answers."""
    lines = summary(lines)
    payload = {"type": "flows_failed", "serving": serving, "problems": lines}
    subject = f"Flows not published: {len(lines)} error(s); {serving}"
    body = "\n".join(
        [
            "The flows on disk have errors, so the service did not load them.",
            f"It goes on answering with {serving}.",
            "",
            *lines,
            "",
            "Fix them, check with `bot flows validate`, then publish with `bot flows reload`.",
        ]
    )
    sent = notify_staff(settings, payload, subject, body)
    return f"told staff by {', '.join(sent)}" if sent else "logged only: no staff channel"
