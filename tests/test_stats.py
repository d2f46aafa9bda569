"""Anonymous counters (bot.store.stats): what a message adds, with an expiry, no person."""

import datetime as dt

from bot.core.state import State
from bot.store import keys, stats
from bot.store.pseudonym import pseudonym
from tests.conftest import SENDER, TEST_SECRET

TODAY = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


def test_a_new_conversation_and_the_node_it_waits_at():
    after = State(flow="main", node="menu", lang="ka")
    assert stats.fields_for(True, after, "sms") == ["c|ka|sms", "m|main|menu|ka|sms"]
    assert stats.fields_for(False, State(flow="main", lang="ka"), "whatsapp") == []


def test_suppression_of_small_counts():
    assert [stats.shown(n, 5) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]
    assert [stats.suppressed(n, 5) for n in (0, 3, 5)] == [0, None, 5]
    assert stats.shown(9, 10) == "<10"


def test_messages_through_the_webhook_are_counted_without_a_person(app, redis, twilio):
    for sender in ("+32470000001", "+32470000002", "+995555000001"):
        twilio.sms("hi", sender=sender)
    twilio.sms("1", sender=SENDER)
    name = keys.turn_stats_key(TODAY)
    fields = {k.decode(): int(v) for k, v in redis.hgetall(name).items()}
    assert fields["c|en|sms"] == 3
    assert sum(v for k, v in fields.items() if k.startswith("m|")) == 4
    assert 0 < redis.ttl(name) <= stats.STATS_TTL
    key = pseudonym(TEST_SECRET, "sms", SENDER)
    everything = repr(fields) + name
    assert key not in everything and "470000001" not in everything


def test_a_twilio_retry_is_not_counted_twice(app, redis, twilio):
    params = twilio.message("hi")
    twilio.post("/webhooks/twilio", params)
    twilio.post("/webhooks/twilio", params)
    fields = redis.hgetall(keys.turn_stats_key(TODAY))
    assert int(fields[b"c|en|sms"]) == 1


def test_read_rows_by_day(redis):
    now = 1_700_000_000
    for field in ("c|fa|sms", "m|main|menu|fa|sms", "m|main|menu|fa|sms"):
        redis.hincrby(keys.turn_stats_key("2023-11-14"), field, 1)
    rows = stats.read(redis, 2, now)
    assert [(r.kind, r.flow, r.node, r.lang, r.count) for r in rows] == [
        ("conversations", "", "", "fa", 1),
        ("node", "main", "menu", "fa", 2),
    ]
