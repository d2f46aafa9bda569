"""gunicorn's hooks for the service (`--config python:bot.web.serving` in the Procfile).

When a gunicorn worker exits, its live-gauge metric files are removed, as
prometheus_client's multiprocess mode asks (its counters stay: they are still part of the
totals). Command-line options, the Procfile's, win over anything here; gunicorn reads this
module's globals as settings, so it defines nothing but hooks.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import multiprocess as _multiprocess
from prometheus_client import values as _values


def child_exit(server: Any, worker: Any) -> None:
    """A gunicorn worker exited: drop its live gauges (in multiprocess mode only)."""
    if getattr(_values.ValueClass, "_multiprocess", False):
        _multiprocess.mark_process_dead(worker.pid)
