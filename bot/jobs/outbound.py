"""Messages sent through Twilio's REST API: each at most once, and only when it may be sent.

Replies that do not fit the TwiML answer, reminders and WhatsApp menus leave through here,
from background jobs (bot.jobs.tasks). Three rules:

- Once: `send_once` claims the message's id in the conversation's outbox hash (HSETNX)
  before calling Twilio and records the message SID after it. A job run again (an RQ retry,
  or a worker that died between the send and RQ's acknowledgement) finds the SID and does
  not send again. A claim without a SID means an earlier attempt died while sending (a
  worker killed, then its job retried): the job asks Twilio for the messages sent to that
  number from that sender since the claim (`sent_since`); if one has the same text it is
  recorded and not sent again, else it is sent. A send whose answer timed out (MaybeSent)
  is not retried: we would rather lose one message than send a person the same text twice.
- Errors: Twilio's 5xx and 429, and failures to connect at all, are transient (the job
  raises and RQ retries it with backoff). Every other Twilio error is permanent and never
  retried: 21610 (the person opted out with the carrier), 21211 (not a valid number),
  63016 (outside WhatsApp's 24-hour window).
- WhatsApp's 24-hour window: a free-form message to someone who has not written for 24
  hours is refused before it reaches Twilio; only a template (`content_sid`) may go.

Nothing here logs or raises with a number or a body: errors carry Twilio's status and code.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import redis as redis_lib
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bot.channels.message import Outgoing
from bot.core.state import State
from bot.settings import Settings
from bot.store import keys
from bot.store.wire import decoded

log = logging.getLogger(__name__)
_HTTP_LOG = logging.getLogger("bot.jobs.outbound.http")
_HTTP_LOG.setLevel(logging.WARNING)  # twilio logs every request at INFO: noise, not news

WINDOW = 24 * 3600
"""Seconds after a person's last message during which WhatsApp allows free-form messages."""
OUTBOX_TTL = 2 * 24 * 3600
"""Seconds the outbox remembers a sent message: longer than any job's retries."""
SEND_TIMEOUT = 10.0
"""Seconds to wait for Twilio's answer before the send counts as maybe-sent."""
SENDING = "sending"
"""Outbox value while a send is under way (or died under way), then `:` and the claim's
time (seconds since the epoch)."""
FAILED = "failed:"
"""Outbox value prefix of a message Twilio refused for good, followed by the error code."""


# --- errors ---------------------------------------------------------------------------


class SendError(Exception):
    """A message that did not go out; says why with Twilio's status and code, nothing else."""

    def __init__(self, reason: str, code: int = 0, status: int = 0):
        super().__init__(reason)
        self.code = code
        self.status = status


class TransientError(SendError):
    """Worth trying again later: Twilio overloaded or down, or we could not connect."""


class PermanentError(SendError):
    """Trying again would fail the same way (or could send twice): never retried."""


class OutsideWindow(PermanentError):
    """A free-form WhatsApp message more than 24 hours after the person last wrote."""


class MaybeSent(PermanentError):
    """Twilio may have accepted the message before the answer was lost: not sent again."""


def _never_connected(exc: BaseException) -> bool:
    """True when a requests error happened before anything reached Twilio."""
    current: Any = exc
    for _ in range(6):
        if isinstance(current, NewConnectionError | ConnectTimeoutError):
            return True
        reason = getattr(current, "reason", None)
        if reason is None and current.args and isinstance(current.args[0], BaseException):
            reason = current.args[0]
        if not isinstance(reason, BaseException):
            return False
        current = reason
    return False


def classify(exc: BaseException) -> SendError:
    """The SendError for an exception raised by twilio's client (see the module docstring)."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, TwilioRestException):
        status, code = int(exc.status or 0), int(exc.code or 0)
        reason = f"Twilio answered {status} (error {code or 'none'})"
        if status >= 500 or status == 429:
            return TransientError(reason, code, status)
        return PermanentError(reason, code, status)
    if isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and _never_connected(exc)
    ):
        return TransientError(f"could not connect to Twilio ({type(exc).__name__})")
    if isinstance(exc, requests.RequestException):
        return MaybeSent(f"no answer from Twilio ({type(exc).__name__}); it may have sent it")
    if isinstance(exc, TwilioException):
        return PermanentError(f"Twilio client error ({type(exc).__name__})")
    return PermanentError(f"unexpected {type(exc).__name__} while sending")


# --- the Twilio client ----------------------------------------------------------------


class RedirectingHttpClient(TwilioHttpClient):
    """twilio's HTTP client, sending every request to `base_url` instead of *.twilio.com.

    For tests and local simulators (BOT_TWILIO_API_URL); the path and query are kept, so
    `https://api.twilio.com/2010-04-01/...` becomes `<base_url>/2010-04-01/...`. This is
    the custom-client route twilio-python recommends for talking to a mock API
    (twilio/twilio-python#521).
    """

    def __init__(self, base_url: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        """Rewrite the scheme and host, then send as twilio's client does."""
        parts = urlsplit(url)
        target = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, target, *args, **kwargs)


def twilio_client(account_sid: str, auth_token: str, api_url: str = "") -> Client:
    """A twilio REST client with a timeout, quiet logs, and `api_url` instead of Twilio's."""
    if not account_sid or not auth_token:
        raise PermanentError(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set for the worker to send"
        )
    options: dict[str, Any] = {"timeout": SEND_TIMEOUT, "logger": _HTTP_LOG}
    http = RedirectingHttpClient(api_url, **options) if api_url else TwilioHttpClient(**options)
    return Client(account_sid, auth_token, http_client=http)


# --- the 24-hour window ---------------------------------------------------------------


def last_heard(client: redis_lib.Redis, pseudonym: str) -> int:
    """When the person last wrote (seconds since the epoch), 0 when we do not know.

    The engine stamps every inbound message into the state's `seen`; the state expires
    after BOT_STATE_TTL, and an expired state means we have not heard from them lately.
    """
    raw = client.get(keys.state_key(pseudonym))
    return State.from_json(raw).seen if raw else 0


def in_window(client: redis_lib.Redis, pseudonym: str, now: float | None = None) -> bool:
    """True while WhatsApp allows free-form messages to this person (24 h since they wrote)."""
    seen = last_heard(client, pseudonym)
    current = time.time() if now is None else now
    return bool(seen) and current - seen < WINDOW


# --- sending --------------------------------------------------------------------------


def send_once(
    client: redis_lib.Redis,
    twilio: Client,
    pseudonym: str,
    message_id: str,
    to: str,
    sender: str,
    message: Outgoing,
    status_callback: str = "",
    now: float | None = None,
) -> str:
    """Send `message` to `to` unless `message_id` was sent before; return the message SID.

    `sender` is the Twilio number (or `whatsapp:` address) the person wrote to, or a
    Messaging Service SID (MG...). Returns the SID recorded earlier for a message already
    sent. Raises TransientError (retry later), PermanentError (never retry; OutsideWindow
    and MaybeSent are kinds of it).
    """
    if to.startswith("whatsapp:") and message.free_form and not in_window(client, pseudonym, now):
        raise OutsideWindow("more than 24 hours since the person last wrote: templates only")
    name = keys.outbox_key(pseudonym)
    claim = f"{SENDING}:{int(time.time())}"
    pipe = client.pipeline(transaction=False)
    pipe.hsetnx(name, message_id, claim)
    pipe.hget(name, message_id)
    pipe.expire(name, OUTBOX_TTL)
    claimed, value, _ = pipe.execute()
    if not claimed:
        recorded = decoded(value)
        if recorded.startswith(SENDING) and message.content_sid:  # its text is Twilio's
            raise MaybeSent("an earlier attempt died while sending this template")
        if recorded.startswith(SENDING):
            since = int(recorded.partition(":")[2] or 0)
            sid = sent_since(twilio, to, sender, message, since)
            if sid:
                client.hset(name, message_id, sid)
                return sid
            # Twilio has no such message: the attempt died before it reached Twilio.
            if not _reclaim(client, name, message_id, recorded, claim):
                raise MaybeSent("another attempt is sending this message")
            recorded = ""
        if recorded.startswith(FAILED):
            code = int(recorded[len(FAILED) :] or 0)
            raise PermanentError(f"Twilio refused this message before (error {code})", code)
        if recorded:
            return recorded
    params: dict[str, Any] = {"to": to}
    if sender.startswith("MG"):
        params["messaging_service_sid"] = sender
    else:
        params["from_"] = sender
    if message.content_sid:
        params["content_sid"] = message.content_sid
        params["content_variables"] = json.dumps(dict(message.content_variables))
    else:
        params["body"] = message.body
    if status_callback:
        params["status_callback"] = status_callback
    try:
        sid = twilio.messages.create(**params).sid or ""
    except Exception as exc:
        error = classify(exc)
        if isinstance(error, TransientError):
            client.hdel(name, message_id)  # nothing was sent: the retry may claim it again
        elif not isinstance(error, MaybeSent):
            client.hset(name, message_id, f"{FAILED}{error.code}")
        raise error from None
    pipe = client.pipeline(transaction=False)
    pipe.hset(name, message_id, sid)
    pipe.expire(name, OUTBOX_TTL)
    pipe.execute()
    return sid


RECLAIM = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) * 0 + 1
end
return 0
"""
"""KEYS: outbox. ARGV: message id, the dead claim, our claim. Takes the claim over only if
it is still the dead one (two retries at once: one sends)."""


def _reclaim(client: redis_lib.Redis, name: str, message_id: str, old: str, new: str) -> bool:
    return bool(client.eval(RECLAIM, 1, name, message_id, old, new))


def sent_since(twilio: Client, to: str, sender: str, message: Outgoing, since: int) -> str:
    """The SID of a message Twilio holds to `to` from `sender`, created after `since`
    (seconds since the epoch, a minute of clock skew allowed) with the same text; "" when
    there is none. Raises TransientError when Twilio cannot tell."""
    options: dict[str, Any] = {"to": to, "limit": 50}
    if not sender.startswith("MG"):
        options["from_"] = sender
    try:
        found = twilio.messages.list(**options)
    except Exception as exc:
        error = classify(exc)
        raise (error if isinstance(error, TransientError) else TransientError(str(error))) from None
    for sent in found:
        created = sent.date_created.timestamp() if sent.date_created else 0
        if created < since - 60:
            continue
        if (sent.body or "") == message.body:
            return sent.sid or ""
    return ""


def twilio_from_settings(settings: Settings) -> Client:
    """The twilio REST client for the configured account (BOT_TWILIO_API_URL in tests)."""
    return twilio_client(
        settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url
    )


def twilio_or_none(settings: Settings) -> Client | None:
    """The client, or None (logged) when the worker has no credentials: retrying won't help."""
    try:
        return twilio_from_settings(settings)
    except PermanentError as exc:
        log.error("%s", exc)
        return None


def send_all(
    client: redis_lib.Redis,
    twilio,
    pseudonym: str,
    prefix: str,
    to: str,
    sender: str,
    messages: list[Outgoing],
    status_callback: str = "",
) -> str:
    """Send messages in order, each once (`send_once`); stop at a permanent error.

    A transient error is raised, for RQ to retry the job: the messages already sent are
    skipped then. Returns what happened, for the job's result (no number, no text).
    """
    for index, message in enumerate(messages, 1):
        message_id = f"{prefix}.{index}"
        try:
            send_once(client, twilio, pseudonym, message_id, to, sender, message, status_callback)
        except TransientError as exc:
            log.warning("send %s: %s; will retry", message_id, exc)
            raise
        except PermanentError as exc:
            log.warning("send %s: %s; not retried", message_id, exc)
            return f"stopped at {index} of {len(messages)}: {exc}"
    return f"sent {len(messages)}"
