"""Counsellor callback requests: stored with the person's consent, delivered to staff, closed.

A flow emits the `callback` action only after an explicit yes to a consent question; the
service checks that answer again (`CONSENT_VARIABLE`) before it stores anything. The request
is the one place the service keeps a clear phone number, because calling back needs it:
a Redis hash per conversation (bot.store.keys `callback_key`) holding the number, channel,
language, topic and preferred time, with its own expiry (`BOT_CALLBACK_TTL`, never more than
MAX_TTL) until staff mark it done (`bot callbacks done ID`), which deletes it, or the person
sends FORGET. A person has at most one open request: asking again updates it.

Staff learn about it through the configured channels (the job `bot.jobs.tasks.deliver_callback`):
a JSON POST to `BOT_STAFF_WEBHOOK_URL` (signed with `BOT_STAFF_WEBHOOK_SECRET` when set),
an e-mail through `BOT_SMTP_URL` to `BOT_STAFF_EMAIL`, or both; and always `bot callbacks
list`. Logs name the request's id, never the number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import redis as redis_lib
import requests
from babel import Locale, UnknownLocaleError

from bot.settings import Settings
from bot.store import keys
from bot.store.cluster import clustered
from bot.store.wire import decoded

log = logging.getLogger(__name__)

CONSENT_VARIABLE = "callback_consent"
"""The flow variable that must hold "yes" (the answer to the consent question)."""
TIME_VARIABLE = "callback_time"
"""The flow variable holding the preferred time of day (a choice value)."""
MAX_TTL = 30 * 24 * 3600
"""Seconds a request is kept at most, whatever BOT_CALLBACK_TTL says."""
DEFAULT_TTL = 14 * 24 * 3600
"""Seconds a request is kept when BOT_CALLBACK_TTL is not set."""
POST_TIMEOUT = 10.0
"""Seconds to wait for the staff webhook or the SMTP server."""
SIGNATURE_HEADER = "X-Bot-Signature"
"""Header of the staff webhook POST: `sha256=` + hex HMAC of the body with the secret."""
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
"""SMTP hosts that may be reached without TLS (a relay on the same machine)."""


CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local owner = redis.call('HGET', KEYS[1], 'claimed_by')
if ARGV[2] == 'claim' then
  if owner and owner ~= '' and owner ~= ARGV[1] then return -1 end
  redis.call('HSET', KEYS[1], 'claimed_by', ARGV[1])
  return 1
end
if owner ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'claimed_by', '')
if ARGV[2] == 'retry' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
return 1
"""
"""KEYS: the request. ARGV: staff name, claim/retry/give_back. 1 done, 0 no such request,
-1 claimed by someone else. The request keeps its expiry: a claim never extends it."""

MARK_DELIVERED = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'delivered', ARGV[1]) end
return 0
"""
"""KEYS: the request. ARGV: channels. Never recreates a request deleted meanwhile."""


class DeliveryError(Exception):
    """A staff channel did not take the request; the job is retried."""


@dataclass(frozen=True)
class Request:
    """One open callback request."""

    id: str
    pseudonym: str
    number: str
    channel: str
    lang: str
    topic: str
    preferred_time: str
    created: int
    expires: int
    delivered: str = ""  # channels that took it: "webhook", "email", comma-separated
    claimed_by: str = ""  # the counsellor working on it in the console (bot.web.console)
    attempts: int = 0  # calls that did not reach the person

    def to_fields(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_fields(cls, fields: Mapping[bytes | str, bytes | str]) -> Request:
        doc = {decoded(k): decoded(v) for k, v in fields.items()}
        return cls(
            id=doc.get("id", ""),
            pseudonym=doc.get("pseudonym", ""),
            number=doc.get("number", ""),
            channel=doc.get("channel", ""),
            lang=doc.get("lang", ""),
            topic=doc.get("topic", ""),
            preferred_time=doc.get("preferred_time", ""),
            created=int(doc.get("created") or 0),
            expires=int(doc.get("expires") or 0),
            delivered=doc.get("delivered", ""),
            claimed_by=doc.get("claimed_by", ""),
            attempts=int(doc.get("attempts") or 0),
        )

    @property
    def language_name(self) -> str:
        """The language's English name, for staff ("Persian (fa)")."""
        try:
            name = Locale.parse(self.lang).get_display_name("en")
        except (ValueError, UnknownLocaleError):
            name = None
        return f"{name} ({self.lang})" if name else self.lang

    def to_json(self) -> dict[str, Any]:
        """What the staff webhook receives."""
        return {
            "id": self.id,
            "number": self.number,
            "channel": self.channel,
            "language": self.lang,
            "language_name": self.language_name,
            "topic": self.topic,
            "preferred_time": self.preferred_time,
            "created_at": _iso(self.created),
            "expires_at": _iso(self.expires),
            "close_with": f"bot callbacks done {self.id}",
        }


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def consented(variables: Mapping[str, Any]) -> bool:
    """True only when the person answered yes to the consent question."""
    return str(variables.get(CONSENT_VARIABLE, "")).strip().lower() == "yes"


def ttl_from(setting: Any) -> int:
    """Seconds a request is kept: BOT_CALLBACK_TTL, within (0, MAX_TTL]."""
    seconds = int(setting or DEFAULT_TTL)
    return min(max(seconds, 1), MAX_TTL)


# --- storage --------------------------------------------------------------------------


def open_request(
    client: redis_lib.Redis,
    pseudonym: str,
    number: str,
    channel: str,
    lang: str,
    topic: str,
    preferred_time: str,
    ttl: int,
    now: float | None = None,
) -> Request:
    """Store (or update) the person's request; it expires after `ttl` seconds."""
    created = int(time.time() if now is None else now)
    ttl = ttl_from(ttl)
    name = keys.callback_key(pseudonym)
    known = client.hget(name, "id")
    request = Request(
        id=decoded(known) if known else secrets.token_hex(4),
        pseudonym=pseudonym,
        number=number,
        channel=channel,
        lang=lang,
        topic=topic,
        preferred_time=preferred_time,
        created=created,
        expires=created + ttl,
    )
    index = keys.callbacks_index_key()
    # One transaction, except on a Cluster: the request and the index are in two slots.
    pipe = client.pipeline(transaction=not clustered(client))
    pipe.delete(name)
    pipe.hset(name, mapping=request.to_fields())
    pipe.expire(name, ttl)
    pipe.zadd(index, {pseudonym: request.expires})
    pipe.expire(index, MAX_TTL)
    pipe.execute()
    return request


def get(client: redis_lib.Redis, pseudonym: str) -> Request | None:
    """The person's open request, or None."""
    fields = client.hgetall(keys.callback_key(pseudonym))
    return Request.from_fields(fields) if fields else None


def open_requests(client: redis_lib.Redis, now: float | None = None) -> list[Request]:
    """Every open request, oldest first; expired or deleted ones leave the index."""
    index = keys.callbacks_index_key()
    client.zremrangebyscore(index, "-inf", int(time.time() if now is None else now))
    members = [decoded(m) for m in client.zrange(index, 0, -1)]
    pipe = client.pipeline(transaction=False)
    for pseudonym in members:
        pipe.hgetall(keys.callback_key(pseudonym))
    found, gone = [], []
    for pseudonym, fields in zip(members, pipe.execute(), strict=True):
        if fields:
            found.append(Request.from_fields(fields))
        else:
            gone.append(pseudonym)
    if gone:
        client.zrem(index, *gone)
    return sorted(found, key=lambda r: (r.created, r.id))


def close(client: redis_lib.Redis, request_id: str) -> Request | None:
    """Staff handled it: delete the request (and the number); None when no such request."""
    for request in open_requests(client):
        if request.id == request_id:
            forget(client, request.pseudonym)
            return request
    return None


def find(client: redis_lib.Redis, request_id: str) -> Request | None:
    """The open request with this id, or None."""
    for request in open_requests(client):
        if request.id == request_id:
            return request
    return None


class ClaimedByOther(Exception):
    """Another counsellor claimed this request: only they see the number and close it."""


def claim(client: redis_lib.Redis, request_id: str, staff: str) -> Request | None:
    """`staff` takes the request (and may now see its number); None when it is gone."""
    return _claim_step(client, request_id, staff, "claim")


def release(client: redis_lib.Redis, request_id: str, staff: str, tried: bool) -> Request | None:
    """The claimer gives the request back to the queue, counting a failed call if `tried`."""
    return _claim_step(client, request_id, staff, "retry" if tried else "give_back")


def reached(client: redis_lib.Redis, request_id: str, staff: str) -> Request | None:
    """The claimer reached the person: the request and its number are erased."""
    request = find(client, request_id)
    if request is None:
        return None
    if request.claimed_by != staff:
        raise ClaimedByOther(request_id)
    forget(client, request.pseudonym)
    return request


def _claim_step(client: redis_lib.Redis, request_id: str, staff: str, step: str):
    request = find(client, request_id)
    if request is None:
        return None
    done = int(client.eval(CLAIM, 1, keys.callback_key(request.pseudonym), staff, step))
    if done == -1:
        raise ClaimedByOther(request_id)
    return find(client, request_id) if done == 1 else None


def forget(client: redis_lib.Redis, pseudonym: str) -> None:
    """Delete the person's request, if any (FORGET, or closed by staff)."""
    pipe = client.pipeline(transaction=not clustered(client))  # two slots on a Cluster
    pipe.delete(keys.callback_key(pseudonym))
    pipe.zrem(keys.callbacks_index_key(), pseudonym)
    pipe.execute()


# --- delivery to staff ----------------------------------------------------------------


def email_text(request: Request) -> tuple[str, str]:
    """(subject, body) of the staff e-mail; the subject, often shown in lists, has no number."""
    subject = f"Callback request {request.id}: {request.language_name}, {request.topic}"
    body = "\n".join(
        [
            "A person asked a counsellor to call them back, and agreed to give their number.",
            "",
            f"Number:          {request.number}",
            f"Channel:         {request.channel}",
            f"Language:        {request.language_name}",
            f"Topic:           {request.topic}",
            f"Preferred time:  {request.preferred_time or 'not given'}",
            f"Asked at:        {_iso(request.created)}",
            f"Erased on:       {_iso(request.expires)} at the latest",
            "",
            "When it is handled, close it (this erases the number):",
            f"    bot callbacks done {request.id}",
        ]
    )
    return subject, body


def post_webhook(url: str, secret: str, request: Request) -> None:
    """POST the request as JSON; raises DeliveryError unless the answer is 2xx."""
    post_json(url, secret, request.to_json())


def post_json(url: str, secret: str, payload: dict[str, Any]) -> None:
    """POST `payload` as JSON, signed when `secret` is set; DeliveryError unless 2xx."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    try:
        response = requests.post(url, data=body, headers=headers, timeout=POST_TIMEOUT)
    except requests.RequestException as exc:
        raise DeliveryError(f"staff webhook unreachable ({type(exc).__name__})") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"staff webhook answered {response.status_code}")


def send_email(smtp_url: str, sender: str, recipients: str, request: Request) -> None:
    """Send the staff e-mail of a callback request; raises DeliveryError on any failure."""
    send_text(smtp_url, sender, recipients, *email_text(request))


def send_text(smtp_url: str, sender: str, recipients: str, subject: str, body: str) -> None:
    """Send a staff e-mail through `smtp_url`; raises DeliveryError on any failure.

    `smtps://user:password@host:465` uses TLS from the start; `smtp://user:password@host:587`
    upgrades with STARTTLS, and refuses to send in clear text except to a local relay.
    """
    url = urlsplit(smtp_url)
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise DeliveryError("BOT_SMTP_URL must look like smtp://user:password@host:587")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender or (
        f"{unquote(url.username)}" if url.username else "avrr-bot@localhost"
    )
    message["To"] = recipients
    message.set_content(body)
    context = ssl.create_default_context()
    try:
        if url.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                url.hostname, url.port or 465, timeout=POST_TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(url.hostname, url.port or 587, timeout=POST_TIMEOUT)
        with smtp:
            if url.scheme == "smtp":
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif url.hostname not in LOCAL_HOSTS:
                    raise DeliveryError(
                        "the SMTP server offers no STARTTLS: use smtps:// or a local relay"
                    )
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"e-mail not sent ({type(exc).__name__})") from None


def deliver(client: redis_lib.Redis, settings: Settings, pseudonym: str) -> str:
    """The body of the callback job: tell staff on every configured channel not told yet."""
    request = get(client, pseudonym)
    if request is None:
        return "no open request (closed, expired or forgotten)"
    done = set(filter(None, request.delivered.split(",")))
    channels = []
    if settings.staff_webhook_url:
        channels.append("webhook")
    if settings.smtp_url and settings.staff_email:
        channels.append("email")
    if not channels:
        log.warning(
            "callback %s: no staff channel configured; see `bot callbacks list`", request.id
        )
        return "stored only: no staff channel configured"
    name = keys.callback_key(pseudonym)
    for channel in channels:
        if channel in done:
            continue
        if channel == "webhook":
            post_webhook(settings.staff_webhook_url, settings.staff_webhook_secret, request)
        else:
            send_email(settings.smtp_url, settings.smtp_from, settings.staff_email, request)
        done.add(channel)
        # FORGET may have come meanwhile: mark the hash only if it still exists.
        client.eval(MARK_DELIVERED, 1, name, ",".join(sorted(done)))
        log.info("callback %s delivered by %s", request.id, channel)
    return f"delivered by {', '.join(channels)}"


def notify_staff(settings: Settings, payload: dict[str, Any], subject: str, body: str) -> list[str]:
    """Send a staff notice (no personal data) on every configured channel: `payload` as JSON
    to the staff webhook, `subject` and `body` by e-mail. Returns the channels used;
    DeliveryError when one fails."""
    channels = []
    if settings.staff_webhook_url:
        post_json(settings.staff_webhook_url, settings.staff_webhook_secret, payload)
        channels.append("webhook")
    if settings.smtp_url and settings.staff_email:
        send_text(settings.smtp_url, settings.smtp_from, settings.staff_email, subject, body)
        channels.append("email")
    return channels


def deliver_alert(settings: Settings, subject: str, text: str) -> str:
    """The body of the alert job: an operational alert (the budget) on every staff channel.

    Alerts hold no personal data: counts and what to do. Raises DeliveryError (the job is
    retried) when a channel fails; a channel that took it may get it again on the retry.
    """
    payload = {"type": "alert", "subject": subject, "text": text}
    channels = notify_staff(settings, payload, subject, text)
    if not channels:
        return "logged only: no staff channel configured"
    log.info("alert delivered by %s: %s", ", ".join(channels), subject)
    return f"delivered by {', '.join(channels)}"
