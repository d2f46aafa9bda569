"""bot/store/connections.py: the Redis a process reaches, one URL or the master Sentinel names.

The Sentinel tests run real servers on free ports (a master, a replica, three Sentinels;
tests/faults/harness.py starts and kills them by PID). The failover under a running
conversation, with web and worker processes, is in tests/faults/test_topology_faults.py.
"""

from __future__ import annotations

import time

import pytest
from conftest import TEST_AUTH_TOKEN, TwilioHelper

from bot.settings import ConfigError, Settings, check_settings
from bot.store import connections


def _settings(**env: str) -> Settings:
    return Settings.from_environ({"BOT_SECRET_KEY": "x" * 40, "TWILIO_AUTH_TOKEN": "t", **env})


def test_sentinel_settings_are_parsed_and_checked():
    settings = _settings(REDIS_SENTINELS="s1:26379, s2:26380,[::1]:26381",
                         REDIS_SENTINEL_MASTER="bot")  # fmt: skip
    assert settings.redis_sentinels == (("s1", 26379), ("s2", 26380), ("::1", 26381))
    check_settings(settings)
    assert "Sentinel master 'bot' via s1:26379,s2:26380,::1:26381" == connections.describe(settings)
    with pytest.raises(ConfigError, match="REDIS_SENTINELS: 's1' is not host:port"):
        _settings(REDIS_SENTINELS="s1")
    with pytest.raises(ConfigError, match="REDIS_SENTINEL_MASTER go together"):
        check_settings(_settings(REDIS_SENTINELS="s1:26379"))
    with pytest.raises(ConfigError, match="go together"):
        check_settings(_settings(REDIS_SENTINEL_MASTER="bot"))


def test_describe_never_shows_a_password():
    settings = _settings(REDIS_URL="redis://:hunter2-password@redis.internal:6379/0")
    assert "hunter2" not in connections.describe(settings)


@pytest.fixture
def sentinels(tmp_path):
    """A master, a replica and three Sentinels; everything killed afterwards."""
    from tests.faults.harness import Harness
    from tests.faults.test_topology_faults import Sentinels

    harness = Harness(tmp_path / "h", f"connections-{time.monotonic_ns()}")
    try:
        yield Sentinels(harness, tmp_path / "redis")
    finally:
        harness.cleanup()


def test_web_and_worker_clients_reach_the_master_and_follow_a_failover(sentinels, make_app):
    from tests.faults.harness import Redis

    env = sentinels.env()
    app = make_app(**env, TWILIO_ACCOUNT_SID="AC" + "0" * 32, BOT_PARTS_DELAY=0)
    twilio = TwilioHelper(app.test_client(), TEST_AUTH_TOKEN)
    assert twilio.sms("hello").status_code == 200
    master = sentinels.master_port()
    assert Redis(master).keys("bot:s:*"), "the state is not on the master"
    worker = connections.worker_client(_settings(**env))
    assert worker.ping() and worker.connection_pool.get_master_address()[1] == master

    Redis(sentinels.ports[0]).call("SENTINEL", "FAILOVER", "bot")
    moved, _ = _wait(lambda: sentinels.master_port() != master, 15)
    assert moved, "SENTINEL FAILOVER did not move the master"
    new = sentinels.master_port()
    # until the Sentinels demote it, the old master still takes writes (and loses them)
    demoted, _ = _wait(lambda: Redis(master).call("ROLE")[0] == b"slave", 15)
    assert demoted
    answered, _ = _wait(lambda: "unavailable" not in str(twilio.sms("hello").data), 10)
    assert answered, "no normal answer within 10 s of the failover"
    assert Redis(new).keys("bot:s:*"), "the state is not on the new master"
    worker.set("bot:test:after-failover", 1, ex=60)
    assert Redis(new).call("GET", "bot:test:after-failover") == b"1"


def _wait(predicate, timeout: float):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if predicate():
                return True, time.monotonic() - start
        except Exception:
            pass
        time.sleep(0.2)
    return False, time.monotonic() - start


def test_cluster_and_queue_settings_are_checked():
    """REDIS_CLUSTER_NODES needs REDIS_QUEUE_URL (RQ does not run on a Cluster) and excludes
    REDIS_URL and REDIS_SENTINELS; each refusal says how to fix it."""
    queue = "redis://127.0.0.1:6380/0"
    settings = _settings(REDIS_CLUSTER_NODES="n1:7000,n2:7001", REDIS_QUEUE_URL=queue)
    assert settings.redis_cluster_nodes == (("n1", 7000), ("n2", 7001))
    check_settings(settings)
    assert connections.describe(settings) == (
        "Redis Cluster via n1:7000,n2:7001; queues on Redis at redis://127.0.0.1:6380/0"
    )
    with pytest.raises(ConfigError, match=r"needs REDIS_QUEUE_URL.*Set REDIS_QUEUE_URL"):
        check_settings(_settings(REDIS_CLUSTER_NODES="n1:7000"))
    with pytest.raises(ConfigError, match=r"REDIS_URL are both set.*Unset REDIS_URL"):
        check_settings(
            _settings(REDIS_CLUSTER_NODES="n1:7000", REDIS_QUEUE_URL=queue, REDIS_URL=queue)
        )
    both = {"REDIS_SENTINELS": "s1:26379", "REDIS_SENTINEL_MASTER": "bot"}
    with pytest.raises(ConfigError, match=r"REDIS_SENTINELS are both set.*Unset REDIS_SENTINELS"):
        check_settings(_settings(REDIS_CLUSTER_NODES="n1:7000", REDIS_QUEUE_URL=queue, **both))
    with pytest.raises(ConfigError, match="REDIS_CLUSTER_NODES: 'n1' is not host:port"):
        _settings(REDIS_CLUSTER_NODES="n1")


def test_a_queue_redis_of_its_own_takes_the_jobs(redis_url):
    """With REDIS_QUEUE_URL the web's queue client and the worker's RQ client are that Redis;
    the worker's jobs get a state client of the state Redis; without it, no second client."""
    import redis as redis_lib

    plain = _settings(REDIS_URL=redis_url)
    assert connections.queue_client(plain) is None
    assert connections.worker_state_client(plain) is None
    split = _settings(REDIS_URL=redis_url, REDIS_QUEUE_URL=redis_url.rsplit("/", 1)[0] + "/3")
    queue = connections.queue_client(split)
    assert queue.connection_pool.connection_kwargs["db"] == 3
    assert connections.worker_client(split).connection_pool.connection_kwargs["db"] == 3
    state = connections.worker_state_client(split)
    assert isinstance(state, redis_lib.Redis)
    assert state.connection_pool.connection_kwargs["db"] != 3
    pipe = queue.pipeline()
    pipe.set("bot:test:queue", "1")
    pipe.expire("bot:test:queue", 10)
    assert connections.transaction_runner(queue)(pipe) == [b"OK", 1]
    assert queue.get("bot:test:queue") == b"1"
    queue.delete("bot:test:queue")
