"""Durations as staff and operators write them: `90s`, `15m`, `12h`, `14d`.

Flows (`after: 3d`, `session_timeout: 24h`) and settings (`BOT_STATE_TTL=24h`) read them the
same way, so this sits at the bottom, with the other plain text functions.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> int | None:
    """Seconds in a duration such as `90s`, `15m`, `12h` or `3d`; None when unreadable."""
    m = _DURATION.match(str(value).strip().lower())
    return int(m.group(1)) * _UNITS[m.group(2)] if m else None
