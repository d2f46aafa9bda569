"""How background work is queued: the queues, retry and expiry rules, and job ids.

The job functions themselves are in bot.jobs.tasks; they are queued here by their dotted
path (RQ stores the path and imports it in the worker), so the code that queues work never
imports the code that does it. A job carries no more personal data than it needs: a reply
or reminder carries the number and the text it sends, a callback job only the pseudonym.
Every job keeps its result for RESULT_TTL and a failure for FAILURE_TTL only (RQ's default
is a year), and FORGET can delete it (`forget_jobs`): a reply job's id is random and
listed in a set under the person's pseudonym, other jobs' ids name the pseudonym but never
a MessageSid. Job ids, never arguments, appear in the worker's log: no log line joins a
person and a message.

Every function here takes RQ's Redis: `REDIS_QUEUE_URL`'s when set, else the state Redis
(bot.store.connections). The sets of a person's job ids (bot.store.keys `reply_jobs_key`,
`reminders_key`) live there too, beside the jobs they list, so that a job and its listing
are written in one transaction; the outbox, the state and the callback requests the jobs
read stay on the state Redis.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import redis as redis_lib
from rq import Queue, Retry
from rq.job import Job

from bot.channels.message import Outgoing, dump_messages
from bot.jobs import logs
from bot.store import keys

SEND_REPLY = "bot.jobs.tasks.send_reply"
"""The job that sends the parts of an answer after the TwiML part."""
SEND_REMINDER = "bot.jobs.tasks.send_reminder"
"""The job that sends a reminder the person asked for."""
DELIVER_CALLBACK = "bot.jobs.tasks.deliver_callback"
"""The job that tells staff about a callback request."""
ALERT_STAFF = "bot.jobs.tasks.alert_staff"
"""The job that tells staff about the daily budget (80 %, 100 %)."""
REPORT_FLOWS = "bot.jobs.tasks.report_flows"
"""The job that tells staff the flows on disk did not validate."""

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


def reply_job_id() -> str:
    """A random id: a job id in the worker's log names neither the person nor the message.

    Only the first delivery of a MessageSid queues its job (bot.store.conversations answers
    Twilio's retries from the stored replies); FORGET finds the person's reply jobs in
    bot.store.keys.reply_jobs_key.
    """
    return f"reply-{uuid.uuid4().hex}"


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

    With a `pipeline` the job is written when the caller executes it (one round trip),
    with its id added to the person's set of reply jobs (for FORGET).

    The order that keeps each message sent once, when the queues have a Redis of their own
    (REDIS_QUEUE_URL) and when they do not: the webhook first COMMITs the turn on the state
    Redis, with the replies and how many of them went in TwiML; only then does it write
    this job (and its id in the person's set) in one MULTI/EXEC on the queue Redis. The two
    are never one transaction, even on one server, so nothing relies on it:

    - a Twilio retry of the MessageSid finds the stored replies and queues nothing again;
    - the queue write failing (the queue Redis down) loses the later parts: logged, never
      sent twice, the TwiML part already answered;
    - the job running twice (an RQ retry, a worker killed after sending) sends each part
      once: bot.jobs.outbound.send_once claims each part's id in the person's outbox, on
      the state Redis, before it calls Twilio.

    The job carries the number and the texts (it may wait in a failed registry for
    FAILURE_TTL); FORGET deletes it by its id on the queue Redis.
    """
    queue = Queue(QUEUE_REPLIES, connection=connection)
    args = (pseudonym, to, sender, dump_messages(messages), key, status_callback)
    job_id = reply_job_id()
    options: dict[str, Any] = {
        "job_id": job_id,
        "description": "send_reply",  # RQ's default spells out the arguments, number included
        "retry": Retry(max=len(SEND_BACKOFF), interval=list(SEND_BACKOFF)),
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "ttl": REPLY_TTL,
        "pipeline": pipeline,
        "meta": logs.job_meta(),
    }
    if delay > 0:
        job = queue.enqueue_in(dt.timedelta(seconds=delay), SEND_REPLY, *args, **options)
    else:
        job = queue.enqueue(SEND_REPLY, *args, **options)
    jobs = keys.reply_jobs_key(pseudonym)  # after RQ's commands: RQ may WATCH first
    writer = pipeline if pipeline is not None else connection.pipeline()
    writer.sadd(jobs, job_id)
    writer.expire(jobs, REPLY_TTL + int(delay) + 60)
    if pipeline is None:
        writer.execute()
    return job


def _enqueue_for_staff(
    connection: redis_lib.Redis, function: str, *args: Any, **options: Any
) -> Job:
    """Queue a delivery to staff: retried with backoff (DELIVERY_BACKOFF) while the staff
    channel fails, and dropped after CALLBACK_JOB_TTL if no worker took it."""
    return Queue(QUEUE_DEFAULT, connection=connection).enqueue(
        function,
        *args,
        retry=Retry(max=len(DELIVERY_BACKOFF), interval=list(DELIVERY_BACKOFF)),
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        ttl=CALLBACK_JOB_TTL,
        **options,
    )


def enqueue_callback(connection: redis_lib.Redis, pseudonym: str) -> Job:
    """Queue `deliver_callback`; retried with backoff while the staff channel fails."""
    return _enqueue_for_staff(
        connection,
        DELIVER_CALLBACK,
        pseudonym,
        job_id=f"callback-{pseudonym}",
        description="deliver_callback",
        meta=logs.job_meta(),
    )


def enqueue_alert(
    connection: redis_lib.Redis, day: str, share: int, subject: str, text: str
) -> Job:
    """Queue `alert_staff` once per day and share of the budget (its id says which)."""
    return _enqueue_for_staff(
        connection,
        ALERT_STAFF,
        subject,
        text,
        job_id=f"alert-budget-{day}-{share}",
        description="alert_staff",
    )


def enqueue_flows_report(connection: redis_lib.Redis, lines: list[str], serving: str) -> Job:
    """Queue `report_flows` (errors as file:line:col; no personal data), retried like callbacks."""
    return _enqueue_for_staff(connection, REPORT_FLOWS, lines, serving, description="report_flows")


# --- clean-up -------------------------------------------------------------------------


def _names_person(job_id: str, pseudonym: str) -> bool:
    return f"-{pseudonym}-" in job_id or job_id.endswith(f"-{pseudonym}")


def running_jobs(connection: redis_lib.Redis, pseudonym: str) -> list[str]:
    """Ids of this conversation's jobs a worker runs right now (they write when they end)."""
    return [
        job_id
        for name in QUEUES
        for job_id in Queue(name, connection=connection).started_job_registry.get_job_ids(
            cleanup=False
        )
        if _names_person(job_id, pseudonym)
    ]


def forget_jobs(connection: redis_lib.Redis, pseudonym: str) -> int:
    """Delete every queued, scheduled or failed job of this conversation; return how many.

    Reply jobs are found in the person's set (bot.store.keys.reply_jobs_key); older reply
    jobs and the other jobs carry the pseudonym in their id.
    """
    mark = f"-{pseudonym}-"
    deleted = 0
    listed = {
        x.decode() if isinstance(x, bytes) else str(x)
        for x in connection.smembers(keys.reply_jobs_key(pseudonym))
    }
    for job in Job.fetch_many(sorted(listed), connection=connection):
        if job is not None:
            job.delete()
            deleted += 1
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
    connection.delete(keys.reply_jobs_key(pseudonym))  # the listing, on the queue Redis
    return deleted
