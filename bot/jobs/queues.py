"""How background work is queued: the queues, retry and expiry rules, and job ids.

The job functions themselves are in bot.jobs.tasks; they are queued here by their dotted
path (RQ stores the path and imports it in the worker), so the code that queues work never
imports the code that does it. A job carries no more personal data than it needs: a reply
or reminder carries the number and the text it sends, a callback job only the pseudonym.
Every job keeps its result for RESULT_TTL and a failure for FAILURE_TTL only (RQ's default
is a year), and its id names the conversation's pseudonym so that FORGET can delete it
(`forget_jobs`). Job ids, never arguments, appear in the worker's log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis as redis_lib
from rq import Queue, Retry
from rq.job import Job

from bot.channels.message import Outgoing, dump_messages
from bot.jobs import logs

SEND_REPLY = "bot.jobs.tasks.send_reply"
"""The job that sends the parts of an answer after the TwiML part."""
SEND_REMINDER = "bot.jobs.tasks.send_reminder"
"""The job that sends a reminder the person asked for."""
DELIVER_CALLBACK = "bot.jobs.tasks.deliver_callback"
"""The job that tells staff about a callback request."""

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
    args = (pseudonym, to, sender, dump_messages(messages), key, status_callback)
    options: dict[str, Any] = {
        "job_id": reply_job_id(pseudonym, key),
        "description": "send_reply",  # RQ's default spells out the arguments, number included
        "retry": Retry(max=len(SEND_BACKOFF), interval=list(SEND_BACKOFF)),
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "ttl": REPLY_TTL,
        "pipeline": pipeline,
        "meta": logs.job_meta(),
    }
    if delay > 0:
        return queue.enqueue_in(dt.timedelta(seconds=delay), SEND_REPLY, *args, **options)
    return queue.enqueue(SEND_REPLY, *args, **options)


def enqueue_callback(connection: redis_lib.Redis, pseudonym: str) -> Job:
    """Queue `deliver_callback`; retried with backoff while the staff channel fails."""
    return Queue(QUEUE_DEFAULT, connection=connection).enqueue(
        DELIVER_CALLBACK,
        pseudonym,
        job_id=f"callback-{pseudonym}",
        description="deliver_callback",
        retry=Retry(max=len(DELIVERY_BACKOFF), interval=list(DELIVERY_BACKOFF)),
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        ttl=CALLBACK_JOB_TTL,
        meta=logs.job_meta(),
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
