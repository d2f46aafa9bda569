"""Background jobs (RQ): plain importable functions of ids and strings, and how to queue them.

The worker (`bot worker`, the Procfile's `worker`) runs them with RQ's scheduler on:

- `send_reply`: the parts of a turn's answer that did not go in the TwiML response, in
  order (queue `replies`);
- `send_reminder`: a message the person asked for, later (queue `default`, scheduled);
- `deliver_callback`: a callback request to staff (queue `default`).

A job carries no more personal data than it needs: a reply or reminder carries the number
and the text it sends, a callback job only the pseudonym (the request, with the number, is
read from Redis and is gone once staff close it or the person sends FORGET). Every job
keeps its result for RESULT_TTL and a failure for FAILURE_TTL only (RQ's default is a
year), and its id names the conversation's pseudonym so that FORGET can delete it
(`forget_jobs`). Job ids, never arguments, appear in the worker's log.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

import redis as redis_lib
from rq import Queue, Retry, get_current_job
from rq.job import Job

from bot.jobs import outbound
from bot.jobs.outbound import Outgoing, PermanentError, TransientError

log = logging.getLogger(__name__)

QUEUE_REPLIES = "replies"
"""Queue of the parts of answers: someone is waiting for them."""
QUEUE_DEFAULT = "default"
"""Queue of reminders and staff notifications."""
QUEUES = (QUEUE_REPLIES, QUEUE_DEFAULT)
"""What the worker listens on, most urgent first."""
SEND_BACKOFF = (5, 30, 120, 600, 1800)
"""Seconds before each retry of a send that failed for a transient reason (5xx, 429)."""
DELIVERY_BACKOFF = (30, 120, 600, 1800, 3600)
"""Seconds before each retry of a staff notification that failed."""
RESULT_TTL = 60
"""Seconds a finished job (and its arguments) is kept."""
FAILURE_TTL = 24 * 3600
"""Seconds a failed job (and its arguments, which may hold a number) is kept."""
REPLY_TTL = 3600
"""Seconds a queued part of an answer may wait before it is dropped as too late."""
CALLBACK_JOB_TTL = 24 * 3600
"""Seconds a queued staff notification may wait for a worker."""


def settings() -> dict[str, Any]:
    """The service settings from the worker's environment (bot.web.app.SETTINGS)."""
    from bot.web.app import read_settings

    return read_settings(dict(os.environ))


def _connection() -> redis_lib.Redis:
    job = get_current_job()
    if job is None:
        raise RuntimeError("bot.jobs.tasks functions run inside an RQ worker")
    return job.connection


def twilio_from_settings(values: dict[str, Any]):
    """The twilio REST client for the configured account (BOT_TWILIO_API_URL in tests)."""
    return outbound.twilio_client(
        values["TWILIO_ACCOUNT_SID"], values["TWILIO_AUTH_TOKEN"], values["BOT_TWILIO_API_URL"]
    )


def twilio_or_none(values: dict[str, Any]):
    """The client, or None (logged) when the worker has no credentials: retrying won't help."""
    try:
        return twilio_from_settings(values)
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
    """Send messages in order, each once (bot.jobs.outbound.send_once); stop at a permanent error.

    A transient error is raised, for RQ to retry the job: the messages already sent are
    skipped then. Returns what happened, for the job's result (no number, no text).
    """
    for index, message in enumerate(messages, 1):
        message_id = f"{prefix}.{index}"
        try:
            outbound.send_once(
                client, twilio, pseudonym, message_id, to, sender, message, status_callback
            )
        except TransientError as exc:
            log.warning("send %s: %s; will retry", message_id, exc)
            raise
        except PermanentError as exc:
            log.warning("send %s: %s; not retried", message_id, exc)
            return f"stopped at {index} of {len(messages)}: {exc}"
    return f"sent {len(messages)}"


# --- replies --------------------------------------------------------------------------


def send_reply(
    pseudonym: str, to: str, sender: str, messages: str, key: str, status_callback: str = ""
) -> str:
    """Job: the messages (JSON, bot.jobs.outbound.dump_messages) after the TwiML answer to `key`."""
    twilio = twilio_or_none(settings())
    if twilio is None:
        return "not sent: no Twilio credentials"
    return send_all(
        _connection(), twilio, pseudonym, key, to, sender,
        outbound.load_messages(messages), status_callback,
    )  # fmt: skip


def reply_job_id(pseudonym: str, key: str) -> str:
    """One job per answered message, so a Twilio retry of the webhook queues it only once."""
    return f"reply-{pseudonym}-{key}"


def enqueue_reply(
    connection: redis_lib.Redis,
    pseudonym: str,
    to: str,
    sender: str,
    messages: list[Outgoing],
    key: str,
    status_callback: str = "",
    delay: float = 0,
    pipeline: redis_lib.client.Pipeline | None = None,
) -> Job:
    """Queue `send_reply`; with `delay` (seconds) it runs after the TwiML answer went out.

    With a `pipeline` the job is written when the caller executes it (one round trip).
    """
    queue = Queue(QUEUE_REPLIES, connection=connection)
    args = (pseudonym, to, sender, outbound.dump_messages(messages), key, status_callback)
    options: dict[str, Any] = {
        "job_id": reply_job_id(pseudonym, key),
        "description": "send_reply",  # RQ's default spells out the arguments, number included
        "retry": Retry(max=len(SEND_BACKOFF), interval=list(SEND_BACKOFF)),
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "ttl": REPLY_TTL,
        "pipeline": pipeline,
    }
    if delay > 0:
        return queue.enqueue_in(dt.timedelta(seconds=delay), send_reply, *args, **options)
    return queue.enqueue(send_reply, *args, **options)


# --- reminders and callbacks (bodies in bot.jobs.reminders and bot.jobs.callbacks) --------------


def send_reminder(
    pseudonym: str, reminder_id: str, to: str, sender: str, messages: str, status_callback: str = ""
) -> str:
    """Job: a reminder, if the person has not sent STOP and WhatsApp's window allows it."""
    from bot.jobs import reminders

    return reminders.fire(
        _connection(), settings(), pseudonym, reminder_id, to, sender, messages, status_callback
    )


def deliver_callback(pseudonym: str) -> str:
    """Job: tell staff about the person's open callback request (webhook and/or e-mail)."""
    from bot.jobs import callbacks

    return callbacks.deliver(_connection(), settings(), pseudonym)


def enqueue_callback(connection: redis_lib.Redis, pseudonym: str) -> Job:
    """Queue `deliver_callback`; retried with backoff while the staff channel fails."""
    return Queue(QUEUE_DEFAULT, connection=connection).enqueue(
        deliver_callback,
        pseudonym,
        job_id=f"callback-{pseudonym}",
        description="deliver_callback",
        retry=Retry(max=len(DELIVERY_BACKOFF), interval=list(DELIVERY_BACKOFF)),
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        ttl=CALLBACK_JOB_TTL,
    )


# --- clean-up -------------------------------------------------------------------------


def forget_jobs(connection: redis_lib.Redis, pseudonym: str) -> int:
    """Delete every queued, scheduled or failed job of this conversation; return how many."""
    mark = f"-{pseudonym}-"
    deleted = 0
    for name in QUEUES:
        queue = Queue(name, connection=connection)
        ids = set(queue.get_job_ids())
        registries = (
            queue.scheduled_job_registry,
            queue.failed_job_registry,
            queue.finished_job_registry,
            queue.deferred_job_registry,
        )
        for registry in registries:
            ids.update(registry.get_job_ids())
        for job_id in ids:
            if mark not in job_id and not job_id.endswith(f"-{pseudonym}"):
                continue
            job = Job.fetch_many([job_id], connection=connection)[0]
            if job is not None:
                job.delete()
                deleted += 1
    return deleted
