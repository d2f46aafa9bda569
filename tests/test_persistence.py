"""bot/store/persistence.py against real redis-servers: the start-up check, and erased
values leaving the files (AOF rewrite, fresh snapshot)."""

from __future__ import annotations

import time

import redis as redis_lib

from bot.store import persistence
from bot.store.embedded import EmbeddedRedis


def _files_hold(folder, needle: bytes) -> list[str]:
    return [p.name for p in folder.iterdir() if p.is_file() and needle in p.read_bytes()]


def test_check_warns_when_nothing_is_kept(redis):
    redis.config_set("appendonly", "no")
    redis.config_set("save", "")
    notes = persistence.check(redis)
    assert [level for level, _ in notes] == ["warning"]
    assert "persists nothing" in notes[0][1] and "appendonly yes" in notes[0][1]


def test_check_warns_about_snapshots_only(redis):
    redis.config_set("appendonly", "no")
    redis.config_set("save", "3600 1")
    try:
        notes = persistence.check(redis)
    finally:
        redis.config_set("save", "")
    assert notes[0][0] == "warning" and "RDB snapshots only" in notes[0][1]


def test_check_is_content_with_an_append_only_file(tmp_path):
    with EmbeddedRedis(tmp_path, persist=True) as server:
        notes = persistence.check(redis_lib.Redis.from_url(server.url))
    assert notes == [
        (
            "info",
            "Redis persistence: append-only file (appendfsync everysec); erasures are "
            "followed by a rewrite (BGREWRITEAOF)",
        )
    ]


def test_check_says_when_it_cannot_check(redis):
    redis.acl_setuser("nocfg", enabled=True, passwords=["+pw"], keys=["*"],
                      commands=["+@all", "-config"])  # fmt: skip
    try:
        where = redis.get_connection_kwargs()
        client = redis_lib.Redis(host=where["host"], port=where["port"], db=where.get("db", 0),
                                 username="nocfg", password="pw")  # fmt: skip
        notes = persistence.check(client)
    finally:
        redis.acl_deluser("nocfg")
    assert notes[0][0] == "warning" and "cannot be checked" in notes[0][1]


def test_erased_values_leave_the_aof_and_the_snapshot(tmp_path):
    with EmbeddedRedis(tmp_path, persist=True) as server:
        client = redis_lib.Redis.from_url(server.url)
        client.set("bot:s:{erased}", "secret-answer-123", ex=3600)
        client.set("bot:s:{kept}", "other", ex=3600)
        time.sleep(2.5)  # Redis tells a snapshot from its start by the second
        client.save()  # a snapshot taken while the value existed
        time.sleep(1.1)  # appendfsync everysec
        assert _files_hold(tmp_path, b"secret-answer-123")
        client.delete("bot:s:{erased}")
        assert persistence.rewrite_files(client) == ["BGREWRITEAOF", "BGSAVE SCHEDULE"]
        deadline = time.monotonic() + 5
        while _files_hold(tmp_path, b"secret-answer-123") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _files_hold(tmp_path, b"secret-answer-123")
        assert _files_hold(tmp_path, b"other")


def test_nothing_is_rewritten_when_nothing_is_kept(redis):
    redis.config_set("appendonly", "no")
    redis.config_set("save", "")
    assert persistence.rewrite_files(redis) == []
