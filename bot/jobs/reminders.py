"""Reminders: a message a flow schedules for later (`do: remind`), cancelled by STOP or FORGET.

The engine renders the reminder's text in the person's language when the flow asks for it;
`schedule` splits it as any reply and queues `bot.jobs.tasks.send_reminder` with RQ's
`enqueue_in`. Each reminder's job id is kept in a set per pseudonym (bot.store.keys
`reminders_key`), so that STOP and FORGET can delete the jobs before they fire.

When it fires, the job checks again what may have changed since: a STOP sent through
another path, WhatsApp's 24-hour window (a reminder days later on WhatsApp finds it closed
unless the person wrote since; it is then dropped, not sent as a template), and the day's
outbound budget (past it, proactive messages wait until the next day, bot.store.limits).

The jobs and the set of their ids are on RQ's Redis (`connection`); the state, preferences,
outbox and budget a reminder checks are on the state Redis (`state`: REDIS_QUEUE_URL's
split, bot.store.connections), the same server unless REDIS_QUEUE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

import redis as redis_lib
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from bot.channels.message import Outgoing, dump_messages, load_messages
from bot.jobs import logs, metrics, outbound, queues
from bot.settings import Settings
from bot.store import connections, keys
from bot.text import pricing

log = logging.getLogger(__name__)

KEEP_AFTER_DUE = 24 * 3600
"""Seconds a reminder's job and record outlive its due time (retries, a stopped worker)."""
POSTPONE_HOUR = 8
"""UTC hour a reminder held back by the daily budget is sent the next day."""


def job_id(pseudonym: str) -> str:
    """A new reminder's job id: names the conversation, so FORGET finds it."""
    return f"remind-{pseudonym}-{secrets.token_hex(6)}"


def _enqueue(
    connection: redis_lib.Redis,
    pseudonym: str,
    at: dt.datetime,
    to: str,
    sender: str,
    messages: str,
    status_callback: str,
) -> str:
    reminder_id = job_id(pseudonym)
    wait = max(0, int((at - dt.datetime.now(dt.UTC)).total_seconds()))
    Queue(queues.QUEUE_DEFAULT, connection=connection).enqueue_at(
        at,
        queues.SEND_REMINDER,
        pseudonym, reminder_id, to, sender, messages, status_callback,
        job_id=reminder_id,
        description="send_reminder",  # not RQ's default, which spells out the arguments
        retry=Retry(max=len(queues.SEND_BACKOFF), interval=list(queues.SEND_BACKOFF)),
        result_ttl=queues.RESULT_TTL,
        failure_ttl=queues.FAILURE_TTL,
        ttl=wait + KEEP_AFTER_DUE,
        meta=logs.job_meta(),
    )  # fmt: skip
    name = keys.reminders_key(pseudonym)
    keep = max(wait + KEEP_AFTER_DUE, connection.ttl(name))  # a reminder may be due later
    pipe = connection.pipeline(transaction=False)
    pipe.sadd(name, reminder_id)
    pipe.expire(name, keep)
    pipe.execute()
    return reminder_id


def schedule(
    connection: redis_lib.Redis,
    pseudonym: str,
    to: str,
    sender: str,
    parts: list[str],
    after_seconds: int,
    status_callback: str = "",
) -> str:
    """Queue a reminder of `parts` (its text, already split) in `after_seconds`; its job id."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max(0, int(after_seconds)))
    messages = dump_messages([Outgoing(body=p) for p in parts])
    return _enqueue(connection, pseudonym, at, to, sender, messages, status_callback)


def pending(connection: redis_lib.Redis, pseudonym: str) -> list[str]:
    """The job ids of the person's reminders not yet sent."""
    return sorted(m.decode() for m in connection.smembers(keys.reminders_key(pseudonym)))


def cancel_all(connection: redis_lib.Redis, pseudonym: str) -> int:
    """Delete every scheduled reminder of the person (STOP, FORGET); return how many."""
    name = keys.reminders_key(pseudonym)
    cancelled = 0
    for reminder_id in pending(connection, pseudonym):
        try:
            Job.fetch(reminder_id, connection=connection).delete()
            cancelled += 1
        except NoSuchJobError:
            pass
    connection.delete(name)
    return cancelled


def next_send_time(now: dt.datetime) -> dt.datetime:
    """When a reminder held back by today's budget goes: tomorrow at POSTPONE_HOUR UTC."""
    tomorrow = (now + dt.timedelta(days=1)).date()
    return dt.datetime.combine(tomorrow, dt.time(POSTPONE_HOUR), tzinfo=dt.UTC)


def fire(
    connection: redis_lib.Redis,
    settings: Settings,
    pseudonym: str,
    reminder_id: str,
    to: str,
    sender: str,
    messages: str,
    status_callback: str = "",
    state: redis_lib.Redis | None = None,
) -> str:
    """The body of the reminder job; returns what happened (no number, no text).

    `connection` is RQ's Redis (the job, its id's set, a postponed job), `state` the state
    Redis when it is another (REDIS_QUEUE_URL).
    """
    state = connection if state is None else state
    store = connections.conversation_store(state, settings)
    name = keys.reminders_key(pseudonym)
    if store.opted_out(pseudonym):
        connection.srem(name, reminder_id)
        return "not sent: the person sent STOP"
    outgoing = load_messages(messages)
    if to.startswith("whatsapp:") and not outbound.in_window(state, pseudonym):
        connection.srem(name, reminder_id)
        log.info("reminder %s dropped: outside WhatsApp's 24-hour window", reminder_id)
        return "not sent: outside WhatsApp's 24-hour window"
    channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
    units = pricing.outbound_units(channel, [m.body for m in outgoing])
    outbox = keys.outbox_key(pseudonym)
    if state.hsetnx(outbox, f"{reminder_id}.budget", 1):  # spend once, not per retry
        state.expire(outbox, outbound.OUTBOX_TTL)
        if not store.spend(units):
            state.hdel(outbox, f"{reminder_id}.budget")
            connection.srem(name, reminder_id)
            later = next_send_time(dt.datetime.now(dt.UTC))
            _enqueue(connection, pseudonym, later, to, sender, messages, status_callback)
            log.warning("reminder %s postponed: today's outbound budget is spent", reminder_id)
            return f"postponed to {later.isoformat()}: daily budget spent"
        metrics.outbound(channel, units)
    twilio = outbound.twilio_or_none(settings)
    if twilio is None:
        return "not sent: no Twilio credentials"
    result = outbound.send_all(
        state, twilio, pseudonym, reminder_id, to, sender, outgoing, status_callback
    )
    connection.srem(name, reminder_id)
    return result
