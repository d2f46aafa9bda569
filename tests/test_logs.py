"""bot/jobs/logs.py: JSON lines, redaction kept, a request id from the webhook into its jobs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from conftest import TwilioHelper

from bot.jobs import logs, queues
from bot.web.redaction import RedactingFilter

NUMBER = "+32470123456"


@pytest.fixture
def json_lines():
    """A JSON handler on the root logger, as `configure("json")` and `install()` set it up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(logs.RequestIdFilter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_one_json_object_per_line_with_the_request_id(json_lines):
    logs.begin_request("abcdef0123456789")
    logging.getLogger("bot.test").warning("sent %d part(s) to %s", 2, NUMBER)
    [line] = json_lines()
    assert line["message"] == "sent 2 part(s) to [number]"
    assert line["request_id"] == "abcdef0123456789"
    assert line["levelname"] == "WARNING" and line["name"] == "bot.test"
    assert "time" in line


def test_an_exception_in_json_is_redacted_too(json_lines):
    try:
        raise RuntimeError(f"Twilio refused To={NUMBER}")
    except RuntimeError:
        logging.getLogger("bot.test").exception("send failed")
    [line] = json_lines()
    assert "RuntimeError" in line["exc_info"]
    assert NUMBER not in json.dumps(line) and "32470123456" not in json.dumps(line)
    assert "[number]" in line["exc_info"]


def test_a_proxy_request_id_is_taken_only_when_well_formed():
    assert logs.begin_request("req-0123456789") == "req-0123456789"
    made = logs.begin_request("bad id\nwith a newline")
    assert made != "bad id\nwith a newline" and logs.request_id() == made
    assert logs.new_request_id() != logs.new_request_id()


def test_the_webhook_request_id_follows_into_the_job(make_app, redis, worker_env, run_jobs):
    from rq import Queue

    logs.begin_request("webhook-id-000001")
    queues.enqueue_callback(redis, "pseudonym1")
    [job] = Queue(queues.QUEUE_DEFAULT, connection=redis).get_jobs()
    assert job.meta == {"request_id": "webhook-id-000001"}
    logs.begin_request("some-other-request")
    run_jobs()  # a SimpleWorker: the job runs in this process and resumes the id
    assert logs.request_id() == "webhook-id-000001"


def test_the_webhook_takes_x_request_id(make_app, redis):
    app = make_app()
    twilio = TwilioHelper(app.test_client())
    params = twilio.message("hello")
    signature = twilio.sign("https://bot.example.org/webhooks/twilio", params)
    headers = {"X-Twilio-Signature": signature, "X-Request-Id": "proxy-req-12345678"}
    response = app.test_client().post("/webhooks/twilio", data=params, headers=headers)
    assert response.status_code == 200
    assert logs.request_id() == "proxy-req-12345678"


def test_log_format_setting_is_checked():
    from bot.settings import ConfigError, Settings

    assert Settings.from_environ({"BOT_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="BOT_LOG_FORMAT"):
        Settings.from_environ({"BOT_LOG_FORMAT": "xml"})
