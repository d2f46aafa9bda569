"""The job functions RQ runs: plain importable functions of ids and strings.

The worker (`bot worker`, the Procfile's `worker`) runs them with RQ's scheduler on:

- `send_reply`: the parts of a turn's answer that did not go in the TwiML response, in
  order (queue `replies`);
- `send_reminder`: a message the person asked for, later (queue `default`, scheduled);
- `deliver_callback`: a callback request to staff (queue `default`);
- `alert_staff`: an operational alert (80 % and 100 % of the daily budget) to staff;
- `report_flows`: flows on disk that did not validate, to staff (queue `default`).

They are queued by dotted path (bot.jobs.queues); their settings are those `bot worker`
built at start (`configure`), or, in a worker started some other way, the environment's.
RQ hands each job the queue Redis (`job.connection`); what a job reads and writes of a
conversation (outbox, state, preferences, callback requests, the budget) is on the state
Redis, the client `configure` was given when REDIS_QUEUE_URL is set, else the same server.
"""

from __future__ import annotations

import redis as redis_lib
from rq import get_current_job

from bot.channels.message import load_messages
from bot.jobs import callbacks, flow_alerts, logs, metrics, outbound, reminders
from bot.settings import Settings

_settings: Settings | None = None
_state: redis_lib.Redis | None = None


def configure(settings: Settings, state: redis_lib.Redis | None = None) -> None:
    """Give the jobs of this worker process its settings, and the state Redis when it is not
    the queue Redis (REDIS_QUEUE_URL; bot.store.connections.worker_state_client); once."""
    global _settings, _state
    _settings = settings
    _state = state


def settings() -> Settings:
    """The worker's settings: those given to `configure`, else from the environment."""
    return _settings or Settings.from_environ()


def _connection() -> redis_lib.Redis:
    job = get_current_job()
    if job is None:
        raise RuntimeError("bot.jobs.tasks functions run inside an RQ worker")
    logs.resume_job(job.meta)  # the request id of the message that queued it
    return job.connection


def _state_client() -> redis_lib.Redis:
    """The state Redis of a job: the configured one, else the queue Redis RQ gave it."""
    queue = _connection()
    return _state if _state is not None else queue


@metrics.counted_job("send_reply")
def send_reply(
    pseudonym: str, to: str, sender: str, messages: str, key: str, status_callback: str = ""
) -> str:
    """Job: the messages (JSON, bot.channels.message.dump_messages) after the TwiML answer."""
    twilio = outbound.twilio_or_none(settings())
    if twilio is None:
        return "not sent: no Twilio credentials"
    return outbound.send_all(
        _state_client(), twilio, pseudonym, key, to, sender,
        load_messages(messages), status_callback,
    )  # fmt: skip


@metrics.counted_job("send_reminder")
def send_reminder(
    pseudonym: str, reminder_id: str, to: str, sender: str, messages: str, status_callback: str = ""
) -> str:
    """Job: a reminder, if the person has not sent STOP and WhatsApp's window allows it."""
    return reminders.fire(
        _connection(), settings(), pseudonym, reminder_id, to, sender, messages,
        status_callback, state=_state,
    )  # fmt: skip


@metrics.counted_job("deliver_callback")
def deliver_callback(pseudonym: str) -> str:
    """Job: tell staff about the person's open callback request (webhook and/or e-mail)."""
    return callbacks.deliver(_state_client(), settings(), pseudonym)


def alert_staff(subject: str, text: str) -> str:
    """Job: an operational alert to staff (webhook and/or e-mail); no personal data."""
    return callbacks.deliver_alert(settings(), subject, text)


def report_flows(lines: list[str], serving: str) -> str:
    """Job: tell staff that the flows on disk have errors (file:line:col lines)."""
    return flow_alerts.report(settings(), lines, serving)
