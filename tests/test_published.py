"""The published flows version in Redis: what `bot flows reload` writes and processes read."""

from __future__ import annotations

from bot.store import keys, published


def test_publish_clears_a_failure_and_every_key_expires(redis):
    published.record_failure(redis, ["main.yaml:3:1: error: YAML syntax"])
    assert published.failure(redis) == ["main.yaml:3:1: error: YAML syntax"]
    published.publish(redis, "abc")
    assert published.failure(redis) == []
    assert 0 < redis.ttl(keys.flows_published_key()) <= published.PUBLISHED_TTL
    published.record_failure(redis, ["x"])
    assert 0 < redis.ttl(keys.flows_failed_key()) <= published.FAILED_TTL


def test_staff_are_alerted_once_per_set_of_errors(redis):
    assert published.first_alert(redis, ["a", "b"])
    assert not published.first_alert(redis, ["a", "b"])
    assert published.first_alert(redis, ["a"])
    assert all(redis.ttl(k) > 0 for k in redis.keys(keys.PREFIX + "flows:alert:*"))


def test_a_watch_sees_a_new_version_once_and_looks_at_most_every_second(redis):
    watch = published.Watch()
    assert not watch.changed(redis, 100.0)  # the first look only remembers
    published.publish(redis, "v2")
    assert not watch.due(100.5)
    assert watch.due(101.0)
    assert watch.changed(redis, 101.0)
    assert not watch.changed(redis, 102.0)
