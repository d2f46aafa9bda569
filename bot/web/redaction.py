"""Keep phone numbers out of logs.

Code in this project never logs a number or a message body on purpose, but libraries and
tracebacks can (a Twilio error quoting the `To` number, an exception repr of a request).
`RedactingFilter`, installed on every handler by `install`, replaces anything that looks
like a phone number before a record is written anywhere.
"""

from __future__ import annotations

import logging
import re

# `+32 470 12 34 56`, `whatsapp:+32470123456`, `0470/12.34.56`, `(0470) 123-456`: seven or
# more digits, possibly split by spaces, dots, slashes, dashes or brackets.
_PHONE = re.compile(r"(?:whatsapp:)?\+?\(?\d(?:[\s./\-()]{0,2}\d){6,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REDACTED = "[number]"


def _replace(match: re.Match) -> str:
    return match.group(0) if _DATE.fullmatch(match.group(0)) else REDACTED


def redact(text: str) -> str:
    """The text with every phone-number-like run (not ISO dates) replaced by `[number]`."""
    return _PHONE.sub(_replace, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and exception text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (the root logger by default), once."""
    logger = logger or logging.getLogger()
    if not logger.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
