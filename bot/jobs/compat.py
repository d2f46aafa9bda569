"""Job functions under the dotted paths they had before the package layout.

RQ stores each job's function as a dotted path and imports it when the job runs; a
reminder may wait 14 days in Redis. These are the only functions ever queued (checked in
the git history): `bot.jobs.send_reply`, `bot.jobs.send_reminder` and
`bot.jobs.deliver_callback`, now in bot.jobs.tasks. Once no job queued before that change
can still be waiting (BOT_CALLBACK_TTL after the upgrade), this module can go.
"""

from __future__ import annotations

from collections.abc import Callable

OLD_PATHS = {
    "send_reply": "bot.jobs.tasks",
    "send_reminder": "bot.jobs.tasks",
    "deliver_callback": "bot.jobs.tasks",
}
"""Old name in `bot.jobs` -> the module that holds the function now."""


def resolve(name: str) -> Callable:
    """The function an old `bot.jobs.<name>` path means; AttributeError for any other name."""
    if name not in OLD_PATHS:
        raise AttributeError(f"module 'bot.jobs' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(OLD_PATHS[name]), name)
