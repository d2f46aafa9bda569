"""Background work (RQ): sending replies, reminders and callback requests, and queuing it.

Jobs queued before the package layout (functions named `bot.jobs.send_reply` and the like)
still run: RQ looks the function up by its dotted path, and `__getattr__` below hands those
names to bot.jobs.compat.
"""


def __getattr__(name: str):
    """Old job paths (`bot.jobs.send_reply`...) for jobs waiting in Redis since before."""
    import importlib

    return importlib.import_module("bot.jobs.compat").resolve(name)
