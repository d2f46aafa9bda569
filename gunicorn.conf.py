"""Gunicorn reads this file from the working directory (the checkout) at start and on SIGHUP.

The master imports the service's modules once, without building the app, so a worker
forked after a `kill -9`, `max_requests` or SIGHUP only builds the app (reads the flows,
or the last good set when they are broken) and answers within a fraction of a second,
instead of importing everything again while messages wait. Every other setting stays on
the Procfile's command line.
"""

import bot.web.app  # noqa: F401  (imported for the forked workers; the app is built in each)
