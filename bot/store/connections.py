"""The Redis clients of a process, built from Settings: where state lives, where the queues live.

Conversation state (and locks, limits, stats, staff, published flows) lives on:

- `REDIS_URL`: one server (the default);
- `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`: redis-py's `Sentinel` finds the master; a
  connection that meets a demoted master (READONLY) or a dead one asks the Sentinels
  again, so web and worker follow a failover without a restart;
- `REDIS_CLUSTER_NODES`: a Redis Cluster through redis-py's `RedisCluster`; the store's
  scripts then touch one slot each (bot.store.cluster).

RQ's queues, jobs, scheduler and worker registrations live on `REDIS_QUEUE_URL` when it is
set, else on the state Redis (never on a Cluster: the settings refuse that). `queue_client`
and `worker_client` are the queue side, `web_client` and `worker_state_client` the state
side; with one Redis they are clients of the same server.

The web's client fails fast (short timeouts, one reconnect, as
bot.store.conversations.connect): the webhook must answer Twilio within a second even when
Redis is gone. The worker's client has no read timeout of its own: RQ blocks on the queues
and sets one above that wait.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

from bot.settings import Settings
from bot.store.cluster import ClusterConversationStore
from bot.store.conversations import ConversationStore, connect
from bot.store.wire import Wire, queued_commands

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


def _cluster(settings: Settings, timeout: float | None) -> RedisCluster:
    """A client of the Cluster named by REDIS_CLUSTER_NODES (it learns the others from them).

    One retry on a dropped connection, as `connect`: the web must answer within a second.
    """
    nodes = [ClusterNode(host, port) for host, port in settings.redis_cluster_nodes]
    return RedisCluster(
        startup_nodes=nodes,
        password=settings.redis_password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout or SENTINEL_TIMEOUT,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def web_client(settings: Settings) -> redis.Redis:
    """The web's state client: fails fast; the Sentinels' master, or the Cluster, when set."""
    if settings.redis_cluster_nodes:
        return _cluster(settings, settings.redis_timeout)  # type: ignore[return-value]
    if settings.redis_sentinels:
        return _sentinel(settings, settings.redis_timeout).master_for(
            settings.redis_sentinel_master, redis_class=redis.Redis
        )
    return connect(settings.redis_url, timeout=settings.redis_timeout)


def queue_client(settings: Settings) -> redis.Redis | None:
    """The web's client of REDIS_QUEUE_URL (fails fast); None when the queues share the state
    Redis (the web's state client then queues the jobs)."""
    if not settings.redis_queue_url:
        return None
    return connect(settings.redis_queue_url, timeout=settings.redis_timeout)


def worker_state_client(settings: Settings) -> redis.Redis | None:
    """The state client of a worker's jobs when the queues have a Redis of their own; None
    when they share it (the jobs then use the connection RQ gives them)."""
    if not settings.redis_queue_url:
        return None
    return state_client(settings)


def state_client(settings: Settings) -> redis.Redis:
    """A patient client of the state Redis (no read timeout): for the worker's jobs and the
    command-line tools (`bot callbacks`, `bot staff`); the Cluster's or the Sentinels' too."""
    if settings.redis_cluster_nodes:
        return _cluster(settings, None)  # type: ignore[return-value]
    if settings.redis_sentinels:
        return _sentinel(settings, None).master_for(
            settings.redis_sentinel_master, redis_class=redis.Redis
        )
    return redis.Redis.from_url(settings.redis_url)


def worker_client(settings: Settings) -> redis.Redis:
    """The RQ worker's client: REDIS_QUEUE_URL, else the state Redis (through Sentinel too)."""
    if settings.redis_queue_url:
        return redis.Redis.from_url(settings.redis_queue_url)
    if settings.redis_sentinels:
        return _sentinel(settings, None).master_for(
            settings.redis_sentinel_master, redis_class=redis.Redis
        )
    return redis.Redis.from_url(settings.redis_url)


def transaction_runner(client: redis.Redis) -> Callable[[redis.client.Pipeline], list]:
    """Run what was written into a redis-py pipeline as one MULTI/EXEC on `client`, one write.

    What ConversationStore.transaction_of does on the state Redis, for the queue Redis: the
    webhook queues the later parts of a reply this way (bot.store.wire.Wire.transaction).
    The connection goes back to the idle list at once (gevent's greenlets do not keep it).
    """
    wire = Wire(client)

    def run(pipe: redis.client.Pipeline) -> list:
        try:
            return wire.transaction(queued_commands(pipe))
        finally:
            wire.release()

    return run


def conversation_store(client: redis.Redis, settings: Settings) -> ConversationStore:
    """The conversation store for `client`: one slot per script on a Cluster."""
    if isinstance(client, RedisCluster):
        return ClusterConversationStore.from_settings(client, settings)
    return ConversationStore.from_settings(client, settings)


def describe(settings: Settings) -> str:
    """Where the service's Redis is, for the start-up log (never a password)."""
    if settings.redis_cluster_nodes:
        nodes = ",".join(f"{host}:{port}" for host, port in settings.redis_cluster_nodes)
        where = f"Redis Cluster via {nodes}"
    elif settings.redis_sentinels:
        nodes = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
        where = f"Sentinel master {settings.redis_sentinel_master!r} via {nodes}"
    else:
        where = "Redis at " + settings.redis_url.rpartition("@")[2]
    if settings.redis_queue_url:
        where += "; queues on Redis at " + settings.redis_queue_url.rpartition("@")[2]
    return where
