"""Log lines as text or JSON, with a request id that follows a message into its jobs.

The webhook gives each request an id (`begin_request`); the jobs it queues carry it in
their RQ meta (`job_meta`), and the work horse takes it back (`resume_job`), so one
`request_id` finds a message's webhook line and the lines of its later parts, reminder or
callback. The id is random: it names no person and no message at Twilio.

`BOT_LOG_FORMAT=json` writes one JSON object per line (python-json-logger). The redaction
filter (bot.web.redaction) rewrites a record's message and exception text before any
formatter sees it; `JsonFormatter` uses that redacted exception text rather than
formatting the exception again.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import os
import re
import secrets
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
"""The plain log line."""
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
"""The fields of every JSON line (plus exc_info when there is an exception)."""
META_KEY = "request_id"
"""The key of the request id in an RQ job's meta."""
_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_prefix = secrets.token_hex(5)
_serial = itertools.count(1)


def _after_fork() -> None:
    global _prefix, _serial
    _prefix, _serial = secrets.token_hex(5), itertools.count(1)


os.register_at_fork(after_in_child=_after_fork)


def new_request_id() -> str:
    """A random prefix per process and a serial number: unique, and cheap per message."""
    return f"{_prefix}-{next(_serial):x}"


def begin_request(given: str | None = None) -> str:
    """Set this request's id: `given` (a proxy's X-Request-Id) when well formed, else new."""
    request_id = given if given and _ID.match(given) else new_request_id()
    _request_id.set(request_id)
    return request_id


def request_id() -> str:
    """The id of the request or job being handled ("" outside one)."""
    return _request_id.get()


def job_meta() -> dict[str, Any]:
    """The RQ meta that carries the current request id into a job."""
    current = _request_id.get()
    return {META_KEY: current} if current else {}


def resume_job(meta: dict[str, Any] | None) -> str:
    """In a job: take up the request id its meta carries (a new one for jobs without)."""
    given = (meta or {}).get(META_KEY)
    return begin_request(given if isinstance(given, str) else None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, using the exception text the filters left."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_text:  # rendered (and redacted) by the redaction filter
            record.exc_info = None
        return super().format(record)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of BOT_LOG_FORMAT (`text` or `json`)."""
    if log_format == "json":
        return JsonFormatter(list(JSON_FIELDS), rename_fields={"asctime": "time"})
    return logging.Formatter(TEXT_FORMAT)


def configure(log_format: str, level: int | str = logging.INFO) -> None:
    """Log on stderr in `log_format` unless the host configured logging; request ids on."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=TEXT_FORMAT)
        if log_format == "json":
            for handler in root.handlers:
                handler.setFormatter(formatter(log_format))
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
