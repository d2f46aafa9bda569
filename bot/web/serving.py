"""gunicorn's configuration for the service (`--config python:bot.web.serving`, Procfile).

- The master imports the service's modules once, without building the app, so a worker
  forked after a `kill -9`, `max_requests` or SIGHUP only builds the app (reads the flows,
  or the last good set when they are broken) and answers within a fraction of a second,
  instead of importing everything again while messages wait.
- With gevent workers (the Procfile's), gevent must patch the standard library before
  anything imports ssl or socket, or the workers run half-patched (gevent's
  MonkeyPatchWarning); so the master patches first, as gevent's and gunicorn's
  documentation ask when modules are loaded before the fork.
- The master refuses to start, with one plain message and no traceback, when the settings
  are wrong or (production) a staff value is a placeholder: each worker would fail alike.
- When a gunicorn worker exits, its live-gauge metric files are removed, as
  prometheus_client's multiprocess mode asks (its counters stay: they are still part of
  the totals).

Command-line options, the Procfile's, win over anything here; gunicorn reads this module's
globals as settings, and none of the names below is one.
"""

from __future__ import annotations

import sys

_args = " ".join(sys.argv[1:])  # the Procfile's command line
if "gevent" in _args.split() or "--worker-class=gevent" in _args:
    from gevent import monkey

    monkey.patch_all()

from typing import Any  # noqa: E402

from prometheus_client import multiprocess as _multiprocess  # noqa: E402
from prometheus_client import values as _values  # noqa: E402

import bot.web.app  # noqa: E402, F401  (imported for the forked workers; each builds the app)


def child_exit(server: Any, worker: Any) -> None:
    """A gunicorn worker exited: drop its live gauges (in multiprocess mode only)."""
    if getattr(_values.ValueClass, "_multiprocess", False):
        _multiprocess.mark_process_dead(worker.pid)


def on_starting(server: Any) -> None:
    """Before any worker: stop on a bad setting or, in production, a placeholder staff value."""
    from bot.core.runtime import refuse_placeholders
    from bot.settings import ConfigError, Settings

    try:
        refuse_placeholders(Settings.from_environ())
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
