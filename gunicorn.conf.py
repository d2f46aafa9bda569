"""Gunicorn reads this file from the working directory (the checkout) at start and on SIGHUP.

The master imports the service's modules once, without building the app, so a worker
forked after a `kill -9`, `max_requests` or SIGHUP only builds the app (reads the flows,
or the last good set when they are broken) and answers within a fraction of a second,
instead of importing everything again while messages wait. Every other setting stays on
the Procfile's command line.

With gevent workers (the Procfile's), gevent must patch the standard library before
anything imports ssl or socket, or the workers run with half-patched modules (gevent's
MonkeyPatchWarning); so the master patches first, as gevent's and gunicorn's documentation
ask when modules are loaded before the fork.
"""

import os
import sys

_args = " ".join(sys.argv[1:]) + " " + os.environ.get("GUNICORN_CMD_ARGS", "")
if "gevent" in _args.split() or "--worker-class=gevent" in _args:
    from gevent import monkey

    monkey.patch_all()

import bot.web.app  # noqa: E402, F401  (imported for the forked workers; each builds the app)
