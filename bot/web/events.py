"""What the service does with the events of a turn (erase, call back, remind, opt out).

The engine only emits events; this is the one place that turns them into effects, after
the turn's state is saved:

- `callback`: store the request (only with the person's consent) and queue its delivery
  to staff (bot.jobs.callbacks, bot.jobs.queues);
- `remind`: schedule the reminder (bot.jobs.reminders);
- `opt_out` (STOP): cancel the person's scheduled reminders;
- `forget` (FORGET confirmed): cancel reminders, delete the callback request and every
  queued or failed job of the conversation, then every key of the conversation, then ask
  Redis to rewrite its files so the erased values leave the disk too
  (bot.store.persistence).

Other types are only logged. Logs name the event type, never a number, a body or an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

from bot.channels import render
from bot.jobs import callbacks, queues, reminders
from bot.settings import Settings
from bot.store import persistence
from bot.store.conversations import ConversationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventContext:
    """What event handlers may use: the store, the channel of the message, the settings.

    `sender` is the Twilio address the person wrote to (later messages come from it),
    `status_callback` the delivery-status URL, `max_segments` the flows' SMS segment limit,
    `queue` RQ's Redis (REDIS_QUEUE_URL's; None: the store's, which then holds the queues).
    """

    store: ConversationStore
    channel: str
    settings: Settings = field(default_factory=Settings)
    sender: str = ""
    status_callback: str = ""
    max_segments: int = 3
    queue: Any = None

    @property
    def jobs(self) -> Any:
        """The Redis of the queues, of the person's job ids (reply parts, reminders) and jobs."""
        return self.queue if self.queue is not None else self.store.redis


Handler = Callable[[EventContext, str, str, Any], None]


def _forget(ctx: EventContext, pseudonym: str, clear_number: str, event: Any) -> None:
    """FORGET confirmed: reminders, callback request, jobs and every key go, whatever TTL.

    With REDIS_QUEUE_URL the jobs and their ids are erased on the queue Redis, the rest on
    the state Redis (on a Cluster, each key on its node), and both rewrite their files. The
    state Redis's part never waits on the queue Redis: with the queue Redis down, the keys,
    the callback request and the state Redis's files are still erased, and what is left on
    the queue Redis is logged as an error (jobs and their ids expire by their TTLs).
    """
    client, jobs = ctx.store.redis, ctx.jobs
    cancelled = other = 0
    queue_error = None
    try:  # first, so that no reminder fires after the erasure
        cancelled = reminders.cancel_all(jobs, pseudonym)
    except redis.RedisError as exc:
        queue_error = exc
    try:
        callbacks.forget(client, pseudonym)
    finally:  # whatever failed above, the conversation's keys go, then leave the files
        deleted = ctx.store.forget(pseudonym)
        try:
            other = queues.forget_jobs(jobs, pseudonym)
            other += _after_running_jobs(jobs, pseudonym)
        except redis.RedisError as exc:
            queue_error = queue_error or exc
        # Last, after every deletion: a DEL written after the rewrite began names its key
        # (the pseudonym) in the new file.
        persistence.after_erasure(client)
        if jobs is not client and queue_error is None:
            persistence.after_erasure(jobs)
    if queue_error is not None:
        log.error(
            "forget: the queue Redis failed (%s): this person's reminders and jobs may be "
            "left there until they expire; their state and keys are erased",
            type(queue_error).__name__,
        )
    log.info("forget: %d key(s), %d reminder(s), %d job(s) deleted", deleted, cancelled, other)


RUNNING_WAIT = 1.0
"""Seconds FORGET waits for a job of the person that a worker is running (it writes its
result when it ends), before deleting the jobs once more."""


def _after_running_jobs(client: Any, pseudonym: str) -> int:
    """Jobs running during the erasure leave a result behind: wait for them, delete again."""
    deadline = time.monotonic() + RUNNING_WAIT
    running = queues.running_jobs(client, pseudonym)
    if not running:
        return 0
    while running and time.monotonic() < deadline:
        time.sleep(0.05)
        running = queues.running_jobs(client, pseudonym)
    if running:
        log.warning("forget: %d job(s) still running; their results expire", len(running))
    return queues.forget_jobs(client, pseudonym)


def _opt_out(ctx: EventContext, pseudonym: str, clear_number: str, event: Any) -> None:
    """STOP: no reminder may reach the person any more."""
    log.info("opt_out: %d reminder(s) cancelled", reminders.cancel_all(ctx.jobs, pseudonym))


def _callback(ctx: EventContext, pseudonym: str, clear_number: str, event: Any) -> None:
    """A callback request: stored with the number only after an explicit yes, then sent on."""
    data = event.data
    answers = data.get("vars") or {}
    if not callbacks.consented(answers):
        log.warning("callback: no consent answer in the flow; nothing stored")
        return
    request = callbacks.open_request(
        ctx.store.redis,
        pseudonym,
        clear_number,
        ctx.channel,
        str(data.get("lang") or ""),
        str(data.get("topic") or ""),
        str(answers.get(callbacks.TIME_VARIABLE) or ""),
        callbacks.ttl_from(ctx.settings.callback_ttl),
    )
    queues.enqueue_callback(ctx.jobs, pseudonym)
    log.info("callback: request %s stored and queued for staff", request.id)


def _remind(ctx: EventContext, pseudonym: str, clear_number: str, event: Any) -> None:
    """A reminder the flow scheduled: its text is already in the person's language."""
    data = event.data
    to = f"whatsapp:{clear_number}" if ctx.channel == "whatsapp" else clear_number
    parts = render.text_parts(
        [str(data.get("text") or "")],
        ctx.channel,
        ctx.max_segments,
        ctx.settings.sms_max_parts,
    )
    if not parts or not ctx.sender:
        log.warning("remind: nothing to send or no sender; not scheduled")
        return
    after = int(data.get("after_seconds") or 0)
    reminders.schedule(ctx.jobs, pseudonym, to, ctx.sender, parts, after, ctx.status_callback)
    log.info("remind: scheduled in %d s", after)


HANDLERS: dict[str, Handler] = {
    "forget": _forget,
    "opt_out": _opt_out,
    "callback": _callback,
    "remind": _remind,
}
"""Event type -> handler; the others (`set`, `language`, `opt_in`...) need no action from
the service and are logged at DEBUG only."""


def handle_events(
    ctx: EventContext, pseudonym: str, clear_number: str, events: Iterable[Any]
) -> None:
    """Act on a turn's events in order; one failing handler does not stop the others.

    `clear_number` is the person's E.164 number, for handlers that must send to it later
    (reminders, callbacks); it must never be logged or used in a key.
    """
    for event in events:
        handler = HANDLERS.get(event.type)
        if handler is None:
            log.debug("event %s: nothing to do", event.type)
            continue
        try:
            handler(ctx, pseudonym, clear_number, event)
        except Exception as exc:
            log.error("event %s failed: %s", event.type, type(exc).__name__)
