"""The Redis clients of a process, built from Settings: one Redis, or the master Sentinel names.

- `REDIS_URL`: one server for conversation state and RQ's queues (the default).
- `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`: redis-py's `Sentinel` finds the master; a
  connection that meets a demoted master (READONLY) or a dead one asks the Sentinels
  again, so web and worker follow a failover without a restart.

The web's client fails fast (short timeouts, one reconnect, as
bot.store.conversations.connect): the webhook must answer Twilio within a second even when
Redis is gone. The worker's client has no read timeout of its own: RQ blocks on the queues
and sets one above that wait.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from bot.settings import Settings
from bot.store.conversations import connect

SENTINEL_TIMEOUT = 1.0
"""Seconds to wait for one Sentinel before asking the next."""


def _sentinel(settings: Settings, timeout: float | None) -> Sentinel:
    sentinel_kwargs = {
        "socket_timeout": SENTINEL_TIMEOUT,
        "socket_connect_timeout": SENTINEL_TIMEOUT,
        "password": settings.redis_sentinel_password or None,
        "ssl": settings.redis_sentinel_tls,
    }
    return Sentinel(
        settings.redis_sentinels,
        sentinel_kwargs=sentinel_kwargs,
        socket_timeout=timeout,
        socket_connect_timeout=timeout or SENTINEL_TIMEOUT,
        password=settings.redis_password or None,
        ssl=settings.redis_sentinel_tls,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def web_client(settings: Settings) -> redis.Redis:
    """The web's client: fails fast; the Sentinels' master when REDIS_SENTINELS is set."""
    if settings.redis_sentinels:
        return _sentinel(settings, settings.redis_timeout).master_for(
            settings.redis_sentinel_master, redis_class=redis.Redis
        )
    return connect(settings.redis_url, timeout=settings.redis_timeout)


def worker_client(settings: Settings) -> redis.Redis:
    """The RQ worker's client (its queues and its jobs' state), found through Sentinel too."""
    if settings.redis_sentinels:
        return _sentinel(settings, None).master_for(
            settings.redis_sentinel_master, redis_class=redis.Redis
        )
    return redis.Redis.from_url(settings.redis_url)


def describe(settings: Settings) -> str:
    """Where the service's Redis is, for the start-up log (never a password)."""
    if settings.redis_sentinels:
        nodes = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
        return f"Sentinel master {settings.redis_sentinel_master!r} via {nodes}"
    return "Redis at " + settings.redis_url.rpartition("@")[2]
