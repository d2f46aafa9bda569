"""`GET /metrics`: the Prometheus text format, whole across processes, behind a token.

The counters (bot.jobs.metrics) are added up over every process's files when
`PROMETHEUS_MULTIPROC_DIR` is set (prometheus_client's MultiProcessCollector), so any
gunicorn worker answers for all of them and for the RQ worker beside them. What lives in
Redis is read when scraped: the queues' depth, the workers RQ knows, whether Redis answers,
and the day's outbound budget, spent and allowed. With `BOT_METRICS_TOKEN` set a scrape
needs `Authorization: Bearer <token>` (401 without); in production `/metrics` is refused
(403) until the token is set: the figures say how busy the service is and when.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator

import redis
from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from rq import Queue, Worker

from bot.jobs.queues import QUEUES
from bot.settings import Settings
from bot.store import keys, limits

log = logging.getLogger(__name__)

LIVE_METRICS = (
    "bot_redis_up",
    "bot_queue_depth",
    "bot_scheduled_jobs",
    "bot_failed_jobs",
    "bot_workers",
    "bot_budget_spent_segments",
    "bot_budget_limit_segments",
)
"""What each scrape reads from Redis (deploy/ may use these and the counters' names)."""


class RedisFigures(Collector):
    """Gauges read from Redis at scrape time: queues, workers, the day's budget."""

    def __init__(self, client: redis.Redis, settings: Settings, queue: redis.Redis | None = None):
        self.client = client  # the state Redis: the budget; its PING is bot_redis_up
        self.queue = queue if queue is not None else client  # RQ's: queues and workers
        self.daily_segments = settings.daily_segments

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "bot_redis_up", "1 when Redis (state, and queues if apart) answered PING, else 0."
        )
        try:
            self.client.ping()
            if self.queue is not self.client:
                self.queue.ping()
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        try:
            yield from self._queues()
            yield from self._budget()
        except redis.RedisError as exc:
            log.warning("metrics: figures from Redis unavailable (%s)", type(exc).__name__)

    def _queues(self) -> list[Metric]:
        depth = GaugeMetricFamily(
            "bot_queue_depth", "Jobs waiting in a queue for a worker.", labels=["queue"]
        )
        scheduled = GaugeMetricFamily(
            "bot_scheduled_jobs", "Jobs scheduled for later (reminders, retries).", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "bot_failed_jobs", "Failed jobs kept (a day) in a queue's registry.", labels=["queue"]
        )
        for name in QUEUES:
            queue = Queue(name, connection=self.queue)
            depth.add_metric([name], queue.count)
            scheduled.add_metric([name], queue.scheduled_job_registry.count)
            failed.add_metric([name], queue.failed_job_registry.count)
        workers = GaugeMetricFamily("bot_workers", "RQ workers registered and alive.")
        workers.add_metric([], Worker.count(connection=self.queue))
        return [depth, scheduled, failed, workers]

    def _budget(self) -> list[Metric]:
        day = limits.day(int(time.time() * 1000))
        spent = int(self.client.hget(keys.budget_key(day), "segments") or 0)
        spent_family = GaugeMetricFamily(
            "bot_budget_spent_segments", "Outbound units counted today (UTC) against the budget."
        )
        spent_family.add_metric([], spent)
        limit_family = GaugeMetricFamily(
            "bot_budget_limit_segments", "BOT_DAILY_SEGMENTS: the daily budget (0: none)."
        )
        limit_family.add_metric([], self.daily_segments)
        return [spent_family, limit_family]


class _ThisProcess(Collector):
    """Outside multiprocess mode: this process's own registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exposition(settings: Settings, live: Collector | None) -> bytes:
    """The text a scrape gets: every process's counters, then the figures from Redis."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.metrics_dir:
        MultiProcessCollector(registry, path=settings.metrics_dir)
    else:
        registry.register(_ThisProcess())
    if live is not None:
        registry.register(live)
    return generate_latest(registry)


def authorized(settings: Settings, header: str) -> bool:
    """The Authorization header carries `Bearer BOT_METRICS_TOKEN` (compared in constant time)."""
    scheme, _, token = header.partition(" ")
    expected = settings.metrics_token.encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)


def init_app(app: Flask, settings: Settings, client: redis.Redis) -> None:
    """Register `GET /metrics`; `client` is the service's state Redis (the queue Redis is the
    webhook service's `queue`, when REDIS_QUEUE_URL sets one)."""
    service = app.extensions.get("bot")
    live = RedisFigures(client, settings, getattr(service, "queue", None))

    @app.get("/metrics")
    def metrics() -> Response:
        if not settings.metrics_token:
            if settings.production:
                text = "403 Forbidden: set BOT_METRICS_TOKEN to serve /metrics in production\n"
                return Response(text, status=403, mimetype="text/plain")
        elif not authorized(settings, request.headers.get("Authorization", "")):
            response = Response(
                "401 Unauthorized: send Authorization: Bearer <BOT_METRICS_TOKEN>\n",
                status=401,
                mimetype="text/plain",
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return Response(exposition(settings, live), mimetype=CONTENT_TYPE_LATEST)
