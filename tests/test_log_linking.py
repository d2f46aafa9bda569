"""Issue 17 item 4: no log line carries both a person's pseudonym and a MessageSid, nor a
phone number. Real conversations (webhook, a real RQ worker in burst mode: delayed parts,
a reminder, a callback request, FORGET, a Twilio retry of one MessageSid) with every
logger at DEBUG, each line formatted as BOT_LOG_FORMAT=text and =json would write it."""

import io
import logging
import re

import pytest
from conftest import SENDER, TwilioHelper

from bot.jobs import logs
from bot.store.pseudonym import pseudonym
from bot.web.redaction import RedactingFilter

SID = re.compile(r"\b(?:SM|MM|MG)[0-9a-fA-F]{32}\b")


@pytest.fixture
def captured():
    """Two handlers on the root logger, text and JSON, with the service's filters."""
    streams = {"text": io.StringIO(), "json": io.StringIO()}
    root = logging.getLogger()
    handlers = []
    for fmt, stream in streams.items():
        handler = logging.StreamHandler(stream)
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(logs.formatter(fmt))
        handler.addFilter(logs.RequestIdFilter())
        handler.addFilter(RedactingFilter())
        handlers.append(handler)
        root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in ("", "bot", "rq")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield streams
    for handler in handlers:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_no_line_links_a_person_to_a_message(jobs_app, run_jobs, captured):
    twilio = TwilioHelper(jobs_app.test_client())
    secret = jobs_app.extensions["bot.settings"].secret_key
    other = "+32470999888"
    people = {n: pseudonym(secret, "sms", n) for n in (SENDER, other)}
    sids = []

    def say(body, sender=SENDER, sid=None):
        params = twilio.message(body, sender=sender, sid=sid)
        sids.append(params["MessageSid"])
        response = twilio.post("/webhooks/twilio", params)
        assert response.status_code == 200
        run_jobs()
        return params["MessageSid"]

    first = say("hi")  # a long welcome: parts sent by the worker
    say("hi", sid=first)  # Twilio retries the same MessageSid
    say("1")  # a reminder is scheduled
    say("2")
    say("yes")
    say("1")  # a callback request, delivered to staff by a job
    say("hello", sender=other)
    say("FORGET", sender=other)
    say("YES", sender=other)
    lines = [line for s in captured.values() for line in s.getvalue().splitlines()]
    assert len(lines) > 20  # the conversations were logged, at DEBUG
    for line in lines:
        named = [p for p in people.values() if p in line]
        assert not (named and (SID.search(line) or any(s in line for s in sids))), line
        for number in (SENDER, other):
            assert number.lstrip("+") not in line.replace(" ", ""), line
    # Pseudonyms are logged (14 lines in this run), MessageSids on none: the check above
    # is not empty, and a line that ever names both fails it.
    assert any(any(p in line for p in people.values()) for line in lines)
