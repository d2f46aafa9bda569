"""No phone number reaches a log line."""

import logging

import pytest

from bot.web.redaction import RedactingFilter, install, redact


@pytest.mark.parametrize(
    "number",
    [
        "+32470123456",
        "+32 470 12 34 56",
        "whatsapp:+995599123456",
        "0470/12.34.56",
        "(0470) 123-456",
        "+98 912 345 6789",
        "+374-91-234567",
    ],
)
def test_numbers_are_redacted(number):
    assert redact(f"sending to {number} failed") == "sending to [number] failed"


@pytest.mark.parametrize("text", ["status 429", "code 21610", "EUR 350", "port 6379", "2026-11-23"])
def test_short_numbers_stay(text):
    assert redact(text) == text


def test_filter_redacts_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("test.redact")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("to %s: %s", "+32470123456", {"To": "whatsapp:+32470123456"})
        try:
            raise ValueError("bad number +32 470 12 34 56")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert "+3247" not in records[0].getMessage()
    assert records[0].getMessage() == "to [number]: {'To': '[number]'}"
    assert "470 12" not in records[1].exc_text
    assert "[number]" in records[1].exc_text


def test_install_is_idempotent():
    logger = logging.getLogger("test.install")
    logger.addHandler(logging.NullHandler())
    install(logger)
    install(logger)
    assert sum(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters) == 1
