"""Keep phone numbers out of logs.

Code in this project never logs a number or a message body on purpose, but libraries and
tracebacks can (a Twilio error quoting the `To` number, an exception repr of a request).
`RedactingFilter`, installed on every handler by `install`, replaces every phone number
before a record is written anywhere, and keeps the numbers an operator reads the logs for
(worker ids, MessageSids, durations, times, ids).
"""

from __future__ import annotations

import logging
import re

# A candidate: an optional `whatsapp:` prefix, then `+` (`%2B` in a URL), `00` or `0` (or a
# bracket before it), then digits split by at most two spaces, dots, slashes, dashes or
# brackets. It must stand alone: not glued to letters, digits, `:` or `.` before it (a
# worker id, a SID, a UUID, a clock time, a duration), nor to letters or digits after it.
_CANDIDATE = re.compile(
    r"(?<![\w:.+/-])(?P<wa>whatsapp:)?(?P<lead>\(?(?:\+|%2B|0))\d(?:[ ./()\-]{0,2}\d)+(?![\w])"
)
_FOLLOWED_BY = re.compile(r"[.:]\d")  # `12.5`, `10:30`: part of a decimal or a time
REDACTED = "[number]"
E164_DIGITS = (7, 15)
"""Digits of a number written with `+` or `00` (ITU E.164 allows up to 15)."""
NATIONAL_DIGITS = (8, 11)
"""Digits of a national number written with its leading 0 (`0470 12 34 56`: 10)."""


def _is_phone(match: re.Match) -> bool:
    """Is the candidate a phone number, by its prefix and count of digits?"""
    text = match.group(0)
    if _FOLLOWED_BY.match(match.string, match.end()):
        return False
    digits = sum(c.isdigit() for c in text)
    lead = match.group("lead").lstrip("(").replace("%2B", "+")
    if match.group("wa") or lead == "+" or text.lstrip("(").startswith("00"):
        return E164_DIGITS[0] <= digits - (2 if lead == "0" else 0) <= E164_DIGITS[1]
    return NATIONAL_DIGITS[0] <= digits <= NATIONAL_DIGITS[1]


def _replace(match: re.Match) -> str:
    return REDACTED if _is_phone(match) else match.group(0)


def redact(text: str) -> str:
    """The text with every phone number replaced by `[number]`; other numbers kept.

    Redacted: E.164 (`+32470123456`), with spaces, dots, dashes or slashes, `whatsapp:`
    prefixed, `00` international, and national numbers with their leading 0. Kept: worker
    ids, SIDs, UUIDs, durations, clock times, dates, counts and ids, which an operator needs
    (tests/data/redaction/ holds a corpus of both kinds).
    """
    return _CANDIDATE.sub(_replace, text)


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
