"""No phone number reaches a log line."""

import logging
from pathlib import Path

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


# --- the corpus (issue 17 item 5) -------------------------------------------------------

CORPUS = Path(__file__).parent / "data" / "redaction"


def _lines(name: str) -> list[str]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_corpus_is_large_enough():
    assert len(_lines("phone_lines.tsv")) >= 50
    assert len(_lines("kept_lines.txt")) >= 50


@pytest.mark.parametrize("line", _lines("phone_lines.tsv"))
def test_every_phone_number_of_the_corpus_is_redacted(line):
    source, expected = line.split("\t")
    assert redact(source) == expected
    assert "[number]" in expected


@pytest.mark.parametrize("line", _lines("kept_lines.txt"))
def test_ids_sids_uuids_durations_and_times_are_kept(line):
    assert redact(line) == line
