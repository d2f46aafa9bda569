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


def test_the_published_version_and_when_are_read_back(redis):
    assert published.current(redis) == ("", 0.0)
    published.publish(redis, "0123456789abcdef")
    version, at = published.current(redis)
    assert version == "0123456789abcdef" and at > 0
    assert published.version_of(b"abc:12.5") == ("abc", 12.5)
    assert published.version_of("abc") == ("abc", 0.0)


def test_each_process_tells_what_it_serves_and_silent_ones_are_dropped(redis):
    published.record_serving(redis, "host-a:11", published.Serving("web", "v1", 10.0))
    published.record_serving(redis, "host-b:12", published.Serving("web", "v2", 20.0, 3))
    found = published.processes(redis)
    assert list(found) == ["host-a:11", "host-b:12"]
    assert found["host-b:12"].version == "v2" and found["host-b:12"].refused == 3
    assert 0 < redis.ttl(keys.flows_serving_key()) <= published.SERVING_TTL
    later = found["host-a:11"].looked + published.SERVING_TTL + 1
    assert published.processes(redis, now=later) == {}
    assert not redis.exists(keys.flows_serving_key())


def test_a_look_can_tell_what_the_process_serves_in_the_same_round_trip(redis):
    watch = published.Watch()
    serving = published.Serving("web", "v1", 1.0)
    assert not watch.changed(redis, 100.0, "host-a:11", serving)
    assert published.processes(redis)["host-a:11"].version == "v1"
