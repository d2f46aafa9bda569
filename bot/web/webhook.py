"""Twilio webhooks (inbound SMS/WhatsApp, delivery status) and the health endpoints.

Inbound: check the signature, name the conversation by its pseudonym, run one engine turn
under the conversation lock (bot.store.conversations), hand the turn's events to
bot.web.events, answer
with TwiML. Whatever goes wrong after the signature check, Twilio gets a 200 with a short
multilingual "temporarily unavailable" reply, never an error page: a person who gets no
answer at all does not know whether to try again. Logs carry channel, counts and fault
types; never a number, a profile name or a message body.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# B406 is about parsing XML; escape() only writes our own replies.
from xml.sax.saxutils import escape  # nosec B406

import redis
from flask import Blueprint, Flask, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from bot.channels import render
from bot.core.engine import MAX_INBOUND_CHARS, Engine, Inbound, Reply, Turn
from bot.core.runtime import Runtime
from bot.core.state import State
from bot.i18n.detect import suggest_language
from bot.jobs import metrics, queues
from bot.jobs.whatsapp import default_map_path, load_map
from bot.settings import Settings
from bot.store import connections, keys, limits
from bot.store.conversations import Busy, ConversationStore, Handled
from bot.store.limits import Arrival
from bot.store.pseudonym import normalize, normalize_number, pseudonym, split_address
from bot.text import pricing
from bot.text.grouping import together
from bot.web.events import EventContext, handle_events
from bot.web.publishing import status_lines
from bot.web.signature import signature_ok

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

MAX_BODY_BYTES = 32 * 1024
"""Largest request body accepted, in bytes; a Twilio webhook is a few kilobytes."""
MAX_FORM_FIELDS = 100
"""Most form fields accepted in one request; Twilio sends about twenty."""
MEDIA_ONLY = "Sorry, this service can only read text. Please write your message as text."
"""Fallback for the `media_only` system text, until _config.yaml has one."""
BRAKE_NOTICE_UNITS = 1
"""Segments the notice of a braked new conversation may cost (it is counted in advance)."""
UNAVAILABLE_LANGUAGES = 3
"""How many languages the 'temporarily unavailable' reply is written in, at most."""
STATS_TTL = 90 * 24 * 3600
"""Seconds the daily delivery counters are kept."""
_SID = re.compile(r"^[A-Za-z]{2}[A-Za-z0-9]{1,62}$")
_WORD = re.compile(r"[^a-z0-9_-]")


@dataclass
class Service:
    """What the routes share: the flows, the store, the signature validator and a clock."""

    runtime: Runtime
    store: ConversationStore
    redis: redis.Redis
    validator: RequestValidator | None
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], float] = time.time
    templates_path: str = ""  # the WhatsApp template map, resolved once (not per message)
    queue: Any = None  # RQ's Redis: REDIS_QUEUE_URL's, else `redis` (bot.store.connections)
    queue_transaction: Callable[[Any], list] | None = None  # a pipeline's commands, one MULTI/EXEC


def init_app(app: Flask, runtime: Runtime, settings: Settings) -> Service:
    """Connect Redis, build the store and register the routes."""
    client = connections.web_client(settings)
    store = connections.conversation_store(client, settings)
    try:
        store.load_scripts()
    except redis.RedisError as exc:
        log.warning("Redis is not reachable at startup (%s); will retry", type(exc).__name__)
    token = settings.twilio_auth_token
    validator = RequestValidator(token) if token else None
    queue = connections.queue_client(settings)
    jobs, transaction = (
        (queue, connections.transaction_runner(queue)) if queue is not None
        else (client, store.transaction_of)
    )  # fmt: skip
    service = Service(
        runtime, store, client, validator, settings, queue=jobs, queue_transaction=transaction
    )
    service.templates_path = str(default_map_path(settings))
    app.extensions["bot"] = service
    app.register_blueprint(bp)

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        store.release_connection()  # the next request (thread or greenlet) reuses it

    return service


def _service() -> Service:
    return current_app.extensions["bot"]


# --- replies --------------------------------------------------------------------------


TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml_document(texts: list[str]) -> str:
    """The TwiML twilio's MessagingResponse writes for these texts, character for character.

    Why not MessagingResponse itself: it builds an ElementTree and serializes it, which
    cost about 6 % of a message's CPU time in the benchmark for a document that is always
    one <Response> of <Message>s. tests/test_webhook.py compares the two on every text of
    the flows in every language and on texts with markup characters.
    """
    if not texts:
        return TWIML_HEAD + "<Response />"
    messages = "".join(
        f"<Message>{escape(text)}</Message>" if text else "<Message />" for text in texts
    )
    return f"{TWIML_HEAD}<Response>{messages}</Response>"


def twiml(texts: list[str]) -> Response:
    """One <Message> per text (`deliver` chooses the texts; the rest go through a job)."""
    return Response(twiml_document(texts), status=200, mimetype="text/xml")


def status_callback_url() -> str:
    """Where Twilio reports the delivery of the messages the worker sends."""
    base = _service().settings.public_url.rstrip("/") or request.url_root.rstrip("/")
    return base + "/webhooks/twilio/status"


def plan_turn(service: Service, turn: Turn, channel: str) -> render.Plan:
    """How a turn's replies go out: TwiML texts now, the rest by a job (bot.channels.render).

    Without TWILIO_ACCOUNT_SID the worker cannot send, so every text goes in TwiML.
    """
    engine = service.runtime.engine
    max_segments = engine.settings.max_segments
    if not service.settings.twilio_account_sid:
        return render.Plan(together(list(turn.texts), channel, max_segments, pricing.segments))
    templates: Any = {}
    if channel == "whatsapp":
        templates = load_map(service.templates_path)
    sizes = {"max_segments": max_segments, "max_parts": service.settings.sms_max_parts}
    return render.plan(turn.replies, channel, templates=templates, finish=engine.tr.finish, **sizes)


def deliver(
    service: Service,
    key: str,
    channel: str,
    number: str,
    handled: Handled,
    sid: str,
    sender: str,
    plan: render.Plan | None = None,
) -> list[str]:
    """The texts of the TwiML answer; the other messages of the turn go to a job, in order.

    Short replies are joined where one message costs no more (bot.text.grouping). `plan`
    is the turn's plan (`plan_turn`), made under the conversation lock, whose TwiML count
    the store kept with the replies: every delivery of one MessageSid (Twilio retries it
    when the first try is slow) gets the same TwiML, and only the first, the one that ran
    the turn, queues the job that sends the rest, once, from `sender` (the number the
    person wrote to). So the person gets each message once, in TwiML or by REST.
    """
    settings = service.settings
    max_segments = service.runtime.engine.settings.max_segments
    sizes = {"max_segments": max_segments, "max_parts": settings.sms_max_parts}
    if handled.turn is None or plan is None:  # a retry: the answer the first delivery gave
        if handled.twiml is None:
            if not settings.twilio_account_sid:
                return together(handled.texts, channel, max_segments, pricing.segments)
            return render.text_parts(handled.texts, channel, **sizes)
        return render.replan(handled.texts, channel, handled.twiml, **sizes)
    if not plan.rest:
        return plan.twiml
    to = f"whatsapp:{number}" if channel == "whatsapp" else number
    delay = settings.parts_delay if plan.twiml else 0
    try:
        pipe = service.queue.pipeline()  # RQ writes the job's commands into it
        queues.enqueue_reply(
            service.queue, key, to, sender, plan.rest, sid, status_callback_url(), delay, pipe
        )
        # The job in one MULTI/EXEC, one round trip, on the store's connection or the
        # queue Redis's (pipe.execute() parsed each reply in Python: as costly as building
        # the job). After COMMIT, never with it: see bot.jobs.queues.enqueue_reply.
        service.queue_transaction(pipe)
        log.info("inbound %s: %d more message(s) queued", channel, len(plan.rest))
    except redis.RedisError as exc:
        # The TwiML count is stored already: answer what it says, the rest is lost.
        log.error("inbound %s: could not queue the rest (%s: %s)", channel, type(exc).__name__, exc)
    return plan.twiml


def _translated(engine: Engine, lang: str, key: str, fallback: str = "") -> str:
    text = engine.flows.system.get(key)
    msgid = text.msgid if text is not None else fallback
    return engine.tr.finish(lang, engine.tr.gettext(lang, msgid))


def unavailable_text(engine: Engine, hint: str | None, key: str = "unavailable") -> str:
    """The `unavailable` system text in the hinted, the default and the first languages.

    Without Redis we do not know the person's language, so we write a few, most likely
    first; identical texts (languages not translated yet) are said once.
    """
    settings = engine.settings
    langs = [hint, settings.default_language, *settings.languages]
    texts: list[str] = []
    for lang in dict.fromkeys(x for x in langs if x in settings.languages):
        text = _translated(engine, lang, key)
        if text not in texts:
            texts.append(text)
        if len(texts) >= UNAVAILABLE_LANGUAGES:
            break
    return "\n".join(texts)


def media_only_turn(engine: Engine, state: State | None, hint: str | None) -> Turn:
    """A picture or voice note without text: say we read only text; nothing else changes."""
    settings = engine.settings
    lang = state.lang if state and state.lang else hint
    if lang not in settings.languages:
        lang = settings.default_language
    text = _translated(engine, lang, "media_only", MEDIA_ONLY)
    return Turn(state.copy() if state else State(), (Reply(text, lang=lang),), ())


def lang_hint(text: str, number: str, languages) -> str | None:
    """The language suggested for a first message; a failing guess never blocks a reply."""
    try:
        return suggest_language(text, number, languages)
    except Exception as exc:
        log.warning("language suggestion failed: %s", type(exc).__name__)
        return None


# --- checks ---------------------------------------------------------------------------


def signed_url(settings: Settings) -> str:
    """The URL Twilio signed: PUBLIC_URL + path (and query) when set, else this request's."""
    public = settings.public_url.rstrip("/")
    if not public:
        return request.url
    query = request.query_string.decode("latin-1")
    return public + request.path + (f"?{query}" if query else "")


def check_request(service: Service) -> dict[str, str]:
    """Abort 413 on too many fields and 403 on a bad or missing signature or account.

    Returns the form's fields (the first value of each) as a plain dict: werkzeug's
    MultiDict raises and catches an exception for every `get` of a field Twilio did not
    send (WaId on SMS, ButtonPayload on most messages), several per message.
    """
    form = request.form  # parsing enforces MAX_CONTENT_LENGTH (413)
    lists = dict(form.lists())
    if sum(map(len, lists.values())) > MAX_FORM_FIELDS:
        abort(413, f"too many form fields (more than {MAX_FORM_FIELDS})")
    settings = service.settings
    if not settings.dev_skip_signature:
        signature = request.headers.get("X-Twilio-Signature", "")
        validator = service.validator
        if (
            not signature
            or validator is None
            or not signature_ok(validator, signed_url(settings), lists, signature)
        ):
            log.warning("rejected a request to %s: bad or missing signature", request.path)
            abort(
                403,
                "invalid or missing X-Twilio-Signature: the request must be signed with "
                "TWILIO_AUTH_TOKEN for the URL in PUBLIC_URL (or this request's URL)",
            )
    fields = {name: values[0] for name, values in lists.items() if values}
    account = settings.twilio_account_sid
    if account and fields.get("AccountSid") and fields["AccountSid"] != account:
        log.warning("rejected a request for another Twilio account")
        abort(403, "this request is for another Twilio account")
    return fields


# --- limits ---------------------------------------------------------------------------


def brake_notice(engine: Engine, lang: str | None, channel: str) -> list[str]:
    """The short fixed notice of a braked new conversation: one segment, or nothing.

    The `unavailable` system text in the person's language when known (else the default
    language), if it fits in one SMS segment; else in the default language, if that fits.
    """
    settings = engine.settings
    for choice in dict.fromkeys(
        x for x in (lang, settings.default_language) if x in settings.languages
    ):
        text = _translated(engine, choice, "unavailable")
        if pricing.outbound_units(channel, [text]) <= BRAKE_NOTICE_UNITS:
            return [text]
    return []


def refusal(service: Service, handled: Handled, channel: str, now: float) -> Response:
    """A message refused by a limit gets one polite notice (the first over the rate limit,
    or a new conversation while a global brake holds) or no reply at all: a reply to an
    automated sender would only feed the loop."""
    engine = service.runtime.engine
    if handled.refused == limits.BRAKE:
        check_budget(service, handled, now)
        log.warning("inbound %s: new conversation braked (%s)", channel, "global limit")
        return twiml(brake_notice(engine, handled.lang, channel))
    if handled.refused == limits.RATE_NOTICE:
        lang = handled.lang
        if lang not in engine.settings.languages:
            lang = engine.settings.default_language
        text = _translated(engine, lang, "rate_limited")
        log.warning("inbound %s: over the rate limit; one notice, then no reply", channel)
        units = pricing.outbound_units(channel, [text])
        metrics.outbound(channel, units)
        try:
            service.store.count_outbound(units, now)
        except redis.RedisError as exc:
            log.error("rate-limit notice not counted: Redis unavailable (%s)", type(exc).__name__)
        return twiml([text])
    if handled.refused == limits.LOOP:
        mute = service.store.limits.mute
        log.warning("inbound %s: automated replies going round; no reply for %d s", channel, mute)
    return twiml([])


def check_budget(service: Service, handled: Handled, now: float) -> None:
    """Tell staff, once a day each, when this message's replies reached 80 % and 100 % of
    the outbound budget: an ERROR line in the log and the staff channels (a job)."""
    store = service.store
    if handled.spent < 0:
        return
    for share in limits.budget_crossed(handled.spent, handled.units, store.limits):
        try:
            if not store.alert_once(now, share):
                continue
            text = limits.budget_message(handled.spent, store.limits, share)
            log.error("%s", text)
            day = limits.day(int(now * 1000))
            subject = f"Information line: {share} % of the daily SMS budget spent ({day})"
            queues.enqueue_alert(service.queue, day, share, subject, text)
        except redis.RedisError as exc:
            log.error("budget alert not recorded: Redis unavailable (%s)", type(exc).__name__)


# --- routes ---------------------------------------------------------------------------


@bp.post("/webhooks/twilio", provide_automatic_options=False)
def inbound() -> Response:
    """An SMS or WhatsApp message from a person; the reply is TwiML (its time measured)."""
    start = time.perf_counter()
    try:
        return _inbound()
    finally:
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - start)


def _inbound() -> Response:
    service = _service()
    form = check_request(service)
    sender = (form.get("From") or "").strip()
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sender or not sid:
        abort(400, "a Twilio message needs From and MessageSid")
    if not _SID.match(sid):
        abort(400, "MessageSid must look like SM followed by letters and digits")
    channel, number = normalize(sender)
    metrics.inbound(channel)
    wa_id = (form.get("WaId") or "").strip()
    if channel == "whatsapp" and not number.startswith("+") and wa_id.isdigit():
        number = normalize_number("+" + wa_id)
    # ProfileName is the person's own name on WhatsApp: never read, stored or logged.
    body = (form.get("Body") or "")[:MAX_INBOUND_CHARS]
    # A tapped WhatsApp button sends ButtonPayload, a chosen list row ListId: the option.
    payload = (form.get("ButtonPayload") or form.get("ListId") or "").strip()[:256] or None
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    engine = service.runtime.engine
    now = service.clock()
    hint: list[str | None] = [None]
    planned: list[render.Plan | None] = [None]

    def step(state: State | None) -> Turn:
        if state is None or state.lang is None:
            hint[0] = lang_hint(body, number, engine.settings.languages)
        if num_media > 0 and not body.strip() and not payload:
            return media_only_turn(engine, state, hint[0])
        inbound = Inbound(body, channel=channel, payload=payload, lang_hint=hint[0])
        return engine.step(state, inbound, int(now))

    def parts(turn: Turn) -> tuple[int | None, int]:
        """Plan the turn under the lock: how many messages go in TwiML (None: all), which
        the store keeps with the replies, and what the plan costs, which it charges."""
        plan = planned[0] = plan_turn(service, turn, channel)
        return (len(plan.twiml) if plan.rest else None), plan.units(channel)

    def sorry(key: str = "unavailable") -> Response:
        guess = hint[0] or lang_hint(body, number, engine.settings.languages)
        return twiml([unavailable_text(engine, guess, key)])

    try:
        secret = service.settings.secret_key
        key = pseudonym(secret, channel, number, normalized=True)
        arrival = Arrival(limits.text_digest(secret, body), int(now * 1000), channel)
        max_segments = engine.settings.max_segments
        handled = service.store.handle(
            key, sid, step, arrival, max_segments, parts, BRAKE_NOTICE_UNITS
        )
    except Busy:
        log.warning("inbound %s: conversation busy, asked to try again", channel)
        return sorry("busy")
    except redis.RedisError as exc:
        log.error("inbound %s: Redis unavailable (%s)", channel, type(exc).__name__)
        return sorry()
    except Exception as exc:
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("inbound %s: turn failed with %s\n%s", channel, type(exc).__name__, frames)
        return sorry()
    if handled.refused:
        metrics.refused(handled.refused)
        return refusal(service, handled, channel, now)
    metrics.outbound(channel, handled.units)
    our_number = (form.get("To") or "").strip()  # the one the person wrote to
    if handled.turn is not None and handled.turn.events:
        ctx = EventContext(
            service.store, channel, service.settings, sender=our_number,
            status_callback=status_callback_url(), max_segments=engine.settings.max_segments,
            queue=service.queue,
        )  # fmt: skip
        handle_events(ctx, key, number, handled.turn.events)
    check_budget(service, handled, now)
    log.debug(
        "inbound %s: %d repl%s%s",
        channel,
        len(handled.texts),
        "y" if len(handled.texts) == 1 else "ies",
        " (repeated for a Twilio retry)" if handled.duplicate else "",
    )
    return twiml(deliver(service, key, channel, number, handled, sid, our_number, planned[0]))


@bp.post("/webhooks/twilio/status", provide_automatic_options=False)
def delivery_status() -> Response:
    """A delivery status callback: counted per day, channel and status; nothing else kept."""
    form = check_request(_service())
    status = _WORD.sub("", (form.get("MessageStatus") or form.get("SmsStatus") or "").lower())
    channel = split_address(form.get("To") or "")[0]
    channel = channel if channel in ("sms", "whatsapp") else "other"
    error = "".join(c for c in (form.get("ErrorCode") or "") if c.isdigit())[:8]
    name = keys.delivery_stats_key(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))
    try:
        pipe = _service().redis.pipeline(transaction=False)
        pipe.hincrby(name, f"{channel}:{status[:20] or 'unknown'}", 1)
        if error:
            pipe.hincrby(name, f"{channel}:error:{error}", 1)
        pipe.expire(name, STATS_TTL)
        pipe.execute()
    except redis.RedisError as exc:
        log.error("status callback not counted: Redis unavailable (%s)", type(exc).__name__)
    return Response("", status=204)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive (it does not look at Redis)."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/readyz")
def readyz() -> Response:
    """Ready to answer messages: flows loaded and the state Redis answering; what else is
    wrong (flows refused, a queue Redis down) in the lines after "ready"."""
    service = _service()
    if not service.runtime.engine.flows.flows:
        return Response("not ready: no flows loaded\n", status=503, mimetype="text/plain")
    try:
        service.redis.ping()
    except redis.RedisError as exc:
        text = f"not ready: Redis unreachable ({type(exc).__name__})\n"
        return Response(text, status=503, mimetype="text/plain")
    lines = ["ready", *status_lines(service.runtime, service.redis)]
    if service.queue is not service.redis:
        # Still ready: messages are answered without it; their later parts, reminders and
        # callbacks wait (bot_redis_up says 0, and its alert fires).
        try:
            service.queue.ping()
        except redis.RedisError as exc:
            lines.append(
                f"the queue Redis (REDIS_QUEUE_URL) is unreachable ({type(exc).__name__}): "
                "later parts of replies, reminders and callbacks cannot be queued"
            )
    return Response("\n".join(lines) + "\n", mimetype="text/plain")
