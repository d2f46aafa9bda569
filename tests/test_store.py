"""The conversation store against a real Redis: locking, retries, TTLs, round trips."""

import time
from dataclasses import dataclass

import pytest
import redis as redis_lib
from conftest import concurrently

from bot.core.state import State
from bot.store import keys
from bot.store.conversations import KEEP_REPLIES, Busy, ConversationStore

P = "pseudonymForTests00000"


@dataclass
class FakeTurn:
    state: State
    texts: list


def counting_step(calls=None, pause=0.0):
    """A step that counts turns in the state: var n goes 1, 2, 3..."""

    def step(state):
        if calls is not None:
            calls.append(state)
        state = state.copy() if state else State()
        n = int(state.vars.get("n", "0")) + 1
        if pause:
            time.sleep(pause)
        state.vars["n"] = str(n)
        return FakeTurn(state, [f"turn {n}"])

    return step


class CountingConnection(redis_lib.Connection):
    """Counts round trips: one packed send per command or pipeline."""

    sent = 0

    def send_packed_command(self, command, check_health=True):
        type(self).sent += 1
        return super().send_packed_command(command, check_health)


def make_store(client, **kw):
    settings = {"state_ttl": 3600, "replies_ttl": 600, "lock_ttl_ms": 2000, "lock_wait_ms": 3000}
    settings.update(kw)
    return ConversationStore(client, **settings)


def test_first_message_stores_state_with_ttl(redis):
    store = make_store(redis)
    handled = store.handle(P, "SM1", counting_step())
    assert handled.texts == ["turn 1"]
    assert not handled.duplicate
    assert store.get_state(P).vars == {"n": "1"}
    assert 0 < redis.ttl(keys.state_key(P)) <= 3600
    assert 0 < redis.ttl(keys.replies_key(P)) <= 600
    assert not redis.exists(keys.lock_key(P))


def test_duplicate_message_sid_is_processed_once(redis):
    store = make_store(redis)
    calls = []
    first = store.handle(P, "SM1", counting_step(calls))
    again = store.handle(P, "SM1", counting_step(calls))
    assert again.duplicate
    assert again.texts == first.texts == ["turn 1"]
    assert len(calls) == 1
    assert store.get_state(P).vars == {"n": "1"}


def test_only_the_last_few_replies_are_kept(redis):
    store = make_store(redis)
    for i in range(KEEP_REPLIES + 2):
        store.handle(P, f"SM{i}", counting_step())
    assert redis.llen(keys.replies_key(P)) == 2 * KEEP_REPLIES
    assert store.handle(P, f"SM{KEEP_REPLIES + 1}", counting_step()).duplicate
    assert not store.handle(P, "SM0", counting_step()).duplicate  # too old: run again


def test_concurrent_messages_lose_no_update(redis):
    store = make_store(redis)
    concurrently(lambda i: store.handle(P, f"SM{i}", counting_step(pause=0.01)), list(range(10)))
    assert store.get_state(P).vars == {"n": "10"}


def test_busy_when_another_turn_keeps_the_lock(redis):
    store = make_store(redis, lock_wait_ms=50)
    redis.set(keys.lock_key(P), "someone-else", px=5000)
    with pytest.raises(Busy):
        store.handle(P, "SM1", counting_step())
    assert redis.get(keys.lock_key(P)) == b"someone-else"
    assert store.get_state(P) is None


def test_a_turn_that_lost_its_lock_is_run_again_on_fresh_state(redis):
    store = make_store(redis)
    calls = []
    inner = counting_step(calls)

    def step(state):
        if not calls:  # our lock "expires" and another turn saves n=5 meanwhile
            redis.delete(keys.lock_key(P))
            redis.set(keys.state_key(P), State(vars={"n": "5"}).to_json())
        return inner(state)

    handled = store.handle(P, "SM1", step)
    assert len(calls) == 2
    assert handled.texts == ["turn 6"]
    assert store.get_state(P).vars == {"n": "6"}


def test_lock_is_released_when_the_turn_fails(redis):
    store = make_store(redis)

    def broken(state):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        store.handle(P, "SM1", broken)
    assert not redis.exists(keys.lock_key(P))
    assert store.handle(P, "SM2", counting_step()).texts == ["turn 1"]


def test_a_retried_commit_is_not_applied_twice(redis):
    store = make_store(redis)
    store.handle(P, "SM1", counting_step())
    names = [keys.lock_key(P), keys.state_key(P), keys.replies_key(P)]
    args = ["token", State(vars={"n": "99"}).to_json(), "SM1", '["x"]', ""]
    assert store._commit(keys=names, args=args) == 1
    assert store.get_state(P).vars == {"n": "1"}


def test_expired_state_starts_afresh(redis):
    store = make_store(redis)
    store.handle(P, "SM1", counting_step())
    redis.pexpire(keys.state_key(P), 1)
    deadline = time.monotonic() + 5
    while redis.exists(keys.state_key(P)) and time.monotonic() < deadline:
        time.sleep(0.005)
    calls = []
    assert store.handle(P, "SM2", counting_step(calls)).texts == ["turn 1"]
    assert calls == [None]


def test_forget_deletes_every_key_of_the_conversation(redis):
    store = make_store(redis)
    store.handle(P, "SM1", counting_step())
    redis.set(keys.lock_key(P), "x")
    assert store.forget(P) == 3
    assert not any(redis.exists(k) for k in keys.conversation_keys(P))


def test_common_message_takes_two_round_trips(redis_url, redis):
    pool = redis_lib.ConnectionPool.from_url(redis_url, connection_class=CountingConnection)
    client = redis_lib.Redis(connection_pool=pool)
    store = make_store(client)
    store.load_scripts()
    store.handle(P, "SM0", counting_step())  # opens the pooled connection
    CountingConnection.sent = 0
    store.handle(P, "SM1", counting_step())
    assert CountingConnection.sent == 2  # BEGIN + COMMIT; the budget is 3
    CountingConnection.sent = 0
    store.handle(P, "SM1", counting_step())
    assert CountingConnection.sent == 1  # a Twilio retry: BEGIN only
    pool.disconnect()


def test_scripts_reload_after_a_script_flush(redis):
    store = make_store(redis)
    store.load_scripts()
    redis.script_flush()
    assert store.handle(P, "SM1", counting_step()).texts == ["turn 1"]


def test_a_restarted_redis_is_reconnected_transparently(tmp_path):
    from bot.store.conversations import connect
    from bot.store.embedded import EmbeddedRedis, free_port

    server = EmbeddedRedis(tmp_path, port=free_port(), persist=True)
    client = connect(server.start())
    try:
        store = make_store(client)
        store.handle(P, "SM1", counting_step())
        server.stop()  # the pooled connection is now dead
        server.start()  # same port, state reloaded from the snapshot
        assert store.handle(P, "SM2", counting_step()).texts == ["turn 2"]
    finally:
        client.close()
        server.stop()


def test_a_redis_too_old_for_the_scripts_is_named_at_start(redis):
    from bot.store.conversations import RedisTooOld, check_version

    for old in ("5.0.7", "6.0.5", "", "unknown"):
        with pytest.raises(RedisTooOld, match=r"needs Redis 6\.0\.6 or newer"):
            check_version(old)
    for fine in ("6.0.6", "6.2.14", "7.0.15", "7.2-rc1", "10.0.0"):
        check_version(fine)
    make_store(redis).load_scripts()  # the test server is new enough


def test_each_thread_keeps_its_own_connection_for_the_scripts(redis):
    import threading

    store = make_store(redis)
    mine = store._connection()
    assert store._connection() is mine
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(store._connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    store.handle(P, "SM1", counting_step())
    assert store._connection() is mine  # the message used this thread's connection


def test_the_scripts_and_the_activity_record_name_the_same_fields():
    from bot.store.conversations import ACTIVITY_FIELDS, BEGIN, COMMIT
    from bot.store.limits import Activity

    assert tuple(Activity().to_fields()) == ACTIVITY_FIELDS
    fields = ", ".join(f"'{f}'" for f in ACTIVITY_FIELDS)
    assert f"'HMGET', KEYS[5], {fields}" in BEGIN.template
    written = [f"'{f}', ARGV[{10 + i}]" for i, f in enumerate(ACTIVITY_FIELDS)]
    assert all(w in COMMIT.template for w in written)


def test_a_transaction_writes_all_its_commands_in_one_round_trip(redis):
    store = make_store(redis)
    replies = store.transaction(
        [("HSET", "t:h", "a", 1, "b", "ა"), ("EXPIRE", "t:h", 60), ("SADD", "t:s", "x")]
    )
    assert replies == [2, 1, 1]
    assert redis.hgetall("t:h") == {b"a": b"1", b"b": "ა".encode()}
    assert 0 < redis.ttl("t:h") <= 60 and redis.smembers("t:s") == {b"x"}


def test_a_transaction_goes_to_the_socket_as_one_buffer(redis):
    """redis-py writes each item of a packed list with its own sendall(): a transaction
    sent as a list of commands would be a dozen system calls and as many small packets."""
    store = make_store(redis)
    store.transaction([("PING",)])  # connected (the handshake is sent apart)
    conn = store._connection()
    sent = []
    real = conn.send_packed_command
    conn.send_packed_command = lambda command, *a, **kw: (sent.append(command), real(command))
    store.transaction([("HSET", "t:h", "a", 1), ("EXPIRE", "t:h", 60), ("SADD", "t:s", "x")])
    assert len(sent) == 1 and len(sent[0]) == 1


def test_a_refused_transaction_raises_and_leaves_the_connection_in_step(redis):
    store = make_store(redis)
    redis.set("t:string", "v")
    # Refused when queued (wrong number of arguments): nothing of the block is written.
    with pytest.raises(redis_lib.ResponseError, match="wrong number of arguments"):
        store.transaction([("SET", "t:first", 1), ("HSET", "t:h", "odd")])
    assert redis.exists("t:first") == 0
    # Refused when run (wrong type): Redis runs the others; the error is raised.
    with pytest.raises(redis_lib.ResponseError, match="WRONGTYPE"):
        store.transaction([("HSET", "t:string", "a", 1), ("SET", "t:second", 2)])
    # The replies of both blocks were all read: the next command gets its own reply.
    assert store.transaction([("GET", "t:second")]) == [b"2"]
    assert store.handle(P, "SM1", counting_step()).texts == ["turn 1"]


def test_a_transaction_on_a_dropped_connection_is_sent_again_once(redis):
    store = make_store(redis)
    store.transaction([("SET", "t:x", 1)])
    (own_id,) = store.transaction([("CLIENT", "ID")])
    redis.client_kill_filter(_id=own_id)  # as when Redis restarts or a proxy drops it
    assert store.transaction([("INCR", "t:x")]) == [2]
