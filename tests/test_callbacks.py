"""Callback requests: stored only with consent, delivered to a local staff webhook and SMTP
server by a real RQ worker, listed and closed with `bot callbacks`, erased by FORGET."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socketserver
import threading
import time

import pytest
from click.testing import CliRunner
from conftest import SENDER, TEST_SECRET, TwilioHelper
from rq.job import Job, JobStatus

from bot.cli import main
from bot.core.engine import Event
from bot.jobs import callbacks
from bot.jobs import queues as jobs
from bot.store import keys
from bot.store.pseudonym import pseudonym
from bot.web.events import EventContext, handle_events

P = pseudonym(TEST_SECRET, "sms", SENDER)


def ask_for_a_callback(app, consent: str = "yes") -> TwilioHelper:
    twilio = TwilioHelper(app.test_client())
    for text in ("hi", "2", consent):  # "Call me back", then the consent question
        twilio.sms(text)
    if consent == "yes":
        assert twilio.texts(twilio.sms("1")) == ["Your request is sent."]  # morning
    return twilio


# --- a local SMTP server --------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT; no STARTTLS."""

    def reply(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")

    def handle(self):
        self.reply(b"220 sink ESMTP")
        lines: list[bytes] | None = None
        while line := self.rfile.readline():
            if lines is not None:
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append(b"".join(lines))
                    lines = None
                    self.reply(b"250 OK")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                self.reply(b"250-sink")
                self.reply(b"250 8BITMIME")
            elif command == b"DATA":
                lines = []
                self.reply(b"354 go on")
            elif command == b"QUIT":
                self.reply(b"221 bye")
                return
            else:
                self.reply(b"250 OK")


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# --- storing --------------------------------------------------------------------------


def test_a_consented_request_is_stored_with_what_staff_need(jobs_app, redis):
    ask_for_a_callback(jobs_app)
    request = callbacks.get(redis, P)
    assert request is not None
    assert (request.number, request.channel, request.lang) == (SENDER, "sms", "en")
    assert (request.topic, request.preferred_time) == ("counsellor", "morning")
    ttl = redis.ttl(keys.callback_key(P))
    assert 0 < ttl <= jobs_app.extensions["bot.settings"].callback_ttl <= callbacks.MAX_TTL
    assert redis.zscore(keys.callbacks_index_key(), P) == request.expires


def test_without_consent_nothing_is_stored(jobs_app, redis):
    ask_for_a_callback(jobs_app, consent="no")
    assert not redis.exists(keys.callback_key(P))
    assert len(redis.keys("rq:job:callback-*")) == 0


def test_the_event_handler_checks_consent_itself(app, redis):
    store = app.extensions["bot"].store
    event = Event("callback", {"topic": "x", "lang": "en", "vars": {"callback_time": "any"}})
    handle_events(EventContext(store, "sms", app.extensions["bot.settings"]), P, SENDER, [event])
    assert not redis.exists(keys.callback_key(P))


def test_asking_again_updates_the_one_open_request(redis):
    first = callbacks.open_request(redis, P, SENDER, "sms", "en", "a", "morning", 3600)
    again = callbacks.open_request(redis, P, SENDER, "sms", "fr", "b", "any", 3600)
    assert again.id == first.id
    assert [r.lang for r in callbacks.open_requests(redis)] == ["fr"]


def test_expiry_is_never_above_the_hard_maximum():
    assert callbacks.ttl_from(90 * 86400) == callbacks.MAX_TTL
    assert callbacks.ttl_from(None) == callbacks.DEFAULT_TTL
    assert callbacks.ttl_from(60) == 60


def test_expired_requests_leave_the_list(redis):
    callbacks.open_request(redis, P, SENDER, "sms", "en", "a", "", 60, now=time.time() - 120)
    assert callbacks.open_requests(redis) == []
    assert redis.zcard(keys.callbacks_index_key()) == 0


# --- delivery to staff ----------------------------------------------------------------


def test_the_request_reaches_the_staff_webhook_signed(
    jobs_app, redis, run_jobs, worker_env, monkeypatch
):
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_URL", worker_env.url + "/staff")
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_SECRET", "staff-secret")
    ask_for_a_callback(jobs_app)
    run_jobs()
    [post] = worker_env.staff
    doc = json.loads(post.raw)
    request = callbacks.get(redis, P)
    assert doc["id"] == request.id and doc["number"] == SENDER
    assert (doc["language"], doc["topic"], doc["preferred_time"]) == ("en", "counsellor", "morning")
    assert doc["close_with"] == f"bot callbacks done {request.id}"
    expected = hmac.new(b"staff-secret", post.raw, hashlib.sha256).hexdigest()
    assert post.headers[callbacks.SIGNATURE_HEADER] == f"sha256={expected}"
    assert request.delivered == "webhook"


def test_a_failing_staff_webhook_is_retried(jobs_app, redis, run_jobs, worker_env, monkeypatch):
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_URL", worker_env.url + "/staff")
    worker_env.staff_script = [500, 503]
    ask_for_a_callback(jobs_app)
    run_jobs()
    assert len(worker_env.staff) == 3
    assert callbacks.get(redis, P).delivered == "webhook"


def test_the_request_is_emailed_without_the_number_in_the_subject(
    jobs_app, redis, run_jobs, worker_env, monkeypatch, smtp_sink
):
    port = smtp_sink.server_address[1]
    monkeypatch.setenv("BOT_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("BOT_STAFF_EMAIL", "counsellors@example.org")
    ask_for_a_callback(jobs_app)
    run_jobs()
    [raw] = smtp_sink.messages
    message = email.message_from_bytes(raw)
    assert message["To"] == "counsellors@example.org"
    assert SENDER not in message["Subject"] and "English (en)" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert SENDER in body and "morning" in body and "bot callbacks done" in body


def test_a_failing_email_does_not_post_the_webhook_again(
    jobs_app, redis, run_jobs, worker_env, monkeypatch
):
    from bot.store.embedded import free_port

    monkeypatch.setenv("BOT_STAFF_WEBHOOK_URL", worker_env.url + "/staff")
    monkeypatch.setenv("BOT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody there
    monkeypatch.setenv("BOT_STAFF_EMAIL", "counsellors@example.org")
    ask_for_a_callback(jobs_app)
    run_jobs()
    assert len(worker_env.staff) == 1  # four attempts for the e-mail, one POST
    job = Job.fetch(f"callback-{P}", connection=redis)
    assert job.get_status() == JobStatus.FAILED
    assert 0 < redis.ttl(job.key) <= jobs.FAILURE_TTL


def test_clear_text_smtp_is_refused_off_this_machine():
    request = callbacks.Request("id", P, SENDER, "sms", "en", "t", "", 0, 0)
    with pytest.raises(callbacks.DeliveryError, match="smtp://"):
        callbacks.send_email("http://mail.example.org", "", "x@example.org", request)


def test_without_a_staff_channel_the_request_waits_in_the_list(
    jobs_app, redis, run_jobs, worker_env
):
    ask_for_a_callback(jobs_app)
    run_jobs()
    assert worker_env.staff == []
    assert callbacks.get(redis, P).delivered == ""


def test_a_delivery_after_forget_recreates_nothing(redis):
    callbacks.open_request(redis, P, SENDER, "sms", "en", "t", "", 3600)
    callbacks.forget(redis, P)
    values = {"BOT_STAFF_WEBHOOK_URL": "http://127.0.0.1:1/staff"}
    assert "no open request" in callbacks.deliver(redis, values, P)
    assert not redis.exists(keys.callback_key(P))


# --- staff commands and FORGET --------------------------------------------------------


def test_staff_list_and_close_requests(jobs_app, redis, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    ask_for_a_callback(jobs_app)
    request = callbacks.get(redis, P)
    runner = CliRunner()
    listed = runner.invoke(main, ["callbacks", "list"])
    assert listed.exit_code == 0, listed.output
    assert request.id in listed.output and SENDER in listed.output
    assert "English (en)" in listed.output and "morning" in listed.output
    as_json = runner.invoke(main, ["callbacks", "list", "--json"])
    assert json.loads(as_json.output)["number"] == SENDER
    closed = runner.invoke(main, ["callbacks", "done", request.id])
    assert closed.exit_code == 0 and "erased" in closed.output
    assert not redis.exists(keys.callback_key(P))
    assert "No open callback requests." in runner.invoke(main, ["callbacks", "list"]).output
    unknown = runner.invoke(main, ["callbacks", "done", request.id])
    assert unknown.exit_code != 0 and "bot callbacks list" in unknown.output


def test_forget_erases_the_request_and_its_job(jobs_app, redis):
    twilio = ask_for_a_callback(jobs_app)
    assert redis.exists(f"rq:job:callback-{P}")
    twilio.sms("FORGET")
    twilio.sms("yes")
    assert not redis.exists(keys.callback_key(P))
    assert redis.zscore(keys.callbacks_index_key(), P) is None
    assert not redis.exists(f"rq:job:callback-{P}")
    assert jobs.forget_jobs(redis, P) == 0
