"""The service's Prometheus counters, defined once: web and worker processes count into them.

With `PROMETHEUS_MULTIPROC_DIR` set (`bot run` sets it), prometheus_client's multiprocess
mode keeps each process's figures in a file of that folder, and `/metrics`
(bot.web.metrics) adds them up, so the figures are whole across gunicorn's workers and the
RQ worker. What is a property of Redis (queue depth, workers, the day's budget) is read
from Redis when scraped, not counted here. Labels are fixed, short vocabularies (a channel,
a refusal reason, a job name and its outcome): never a number, a pseudonym or a text.

Counting costs a lock and a write into a memory-mapped file, about a microsecond; the
webhook counts three or four times a message.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import Counter, Histogram, values

CHANNELS = ("sms", "whatsapp")
"""The values of the `channel` label; anything else is counted as `other`."""
JOB_OUTCOMES = ("done", "failed")
"""The values of the `outcome` label of `bot_jobs_total`: a job returned or raised."""

INBOUND = Counter(
    "bot_inbound_messages",
    "Messages people sent that passed the signature check (a Twilio retry counts again).",
    ["channel"],
)
OUTBOUND_SEGMENTS = Counter(
    "bot_outbound_segments",
    "Outbound units counted against the daily budget: SMS segments, or 1 per WhatsApp message.",
    ["channel"],
)
WEBHOOK_SECONDS = Histogram(
    "bot_webhook_duration_seconds",
    "Seconds from a message's webhook request to its TwiML answer, in this process.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REFUSED = Counter(
    "bot_refused_messages",
    "Messages refused by a limit: reason rate_notice (one notice sent), rate_silent, loop.",
    ["reason"],
)
JOBS = Counter(
    "bot_jobs",
    "Background jobs run by a worker, by job (send_reply, send_reminder, deliver_callback) "
    "and outcome (done, failed; a failed job may be retried).",
    ["job", "outcome"],
)

F = TypeVar("F", bound=Callable[..., Any])


_children: dict[tuple[str, str], Any] = {}


def _child(metric: Counter, label: str) -> Any:
    """`metric.labels(label)`, kept: `labels()` costs three times the `inc()` after it.

    Made on first use in each process: a work horse makes its own after the worker set up
    its files (`share_files_with_work_horses`), as the worker itself never counts.
    """
    child = _children.get((metric._name, label))
    if child is None:
        child = _children[(metric._name, label)] = metric.labels(label)
    return child


def channel_label(channel: str) -> str:
    """`sms`, `whatsapp` or `other`: a label never carries what a sender wrote."""
    return channel if channel in CHANNELS else "other"


def inbound(channel: str) -> None:
    """Count one inbound message."""
    _child(INBOUND, channel_label(channel)).inc()


def outbound(channel: str, units: int) -> None:
    """Count outbound units (SMS segments, or WhatsApp messages) charged to the budget."""
    if units > 0:
        _child(OUTBOUND_SEGMENTS, channel_label(channel)).inc(units)


def refused(reason: str) -> None:
    """Count a message refused by a limit (one of the verdicts of bot.store.limits)."""
    _child(REFUSED, reason).inc()


def counted_job(name: str) -> Callable[[F], F]:
    """Decorate a job function: count it done or failed under `name`."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                result = function(*args, **kwargs)
            except BaseException:
                JOBS.labels(name, "failed").inc()
                raise
            JOBS.labels(name, "done").inc()
            return result

        return run  # type: ignore[return-value]

    return decorate


def share_files_with_work_horses(worker_pid: int | None = None) -> None:
    """In an RQ worker: its work horses write one set of metric files, not one per job.

    RQ forks a work horse per job; in multiprocess mode each new pid would leave files
    behind (one per job, all read at every scrape: prometheus/client_python#275). A
    worker runs one horse at a time, so its horses may take turns on one set of files,
    named after the worker; each horse reads them afresh when it starts counting (a new
    process identifier makes prometheus_client reopen its files). The worker itself keeps
    its own pid's files. Does nothing outside multiprocess mode.
    """
    if not getattr(values.ValueClass, "_multiprocess", False):
        return
    parent = worker_pid or os.getpid()
    horse = f"horses-of-{parent}"

    def identifier() -> int | str:
        pid = os.getpid()
        return pid if pid == parent else horse

    values.ValueClass = values.MultiProcessValue(process_identifier=identifier)
    _children.clear()
