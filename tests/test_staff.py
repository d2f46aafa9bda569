"""Staff accounts (bot.store.staff): argon2id hashes, lockout, sessions, every key with a TTL."""

import pytest

from bot.store import keys
from bot.store.staff import (
    ACCOUNT_TTL,
    FAILURE_WINDOW,
    LOCKOUT,
    MAX_FAILURES,
    SESSION_IDLE,
    Staff,
    StaffError,
    may,
)
from tests.conftest import Clock

PASSWORD = "a long enough password"


def test_accounts_are_argon2id_hashes_with_a_ttl(redis):
    staff = Staff(redis)
    staff.add("ana", "counsellor", PASSWORD)
    stored = redis.hget(keys.staff_key("ana"), "hash").decode()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert 0 < redis.ttl(keys.staff_key("ana")) <= ACCOUNT_TTL
    assert 0 < redis.ttl(keys.staff_index_key()) <= ACCOUNT_TTL
    assert staff.verify("ana", PASSWORD).role == "counsellor"
    assert staff.verify("ana", PASSWORD + "x") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("ana", "counsellor", "short", "at least 12"),
        ("Ana Maria", "counsellor", PASSWORD, "not a staff name"),
        ("ana", "boss", PASSWORD, "not a role"),
    ],
)
def test_bad_values_are_refused_with_a_reason(redis, name, role, password, message):
    with pytest.raises(StaffError, match=message):
        Staff(redis).add(name, role, password)


def test_a_name_is_taken_once(redis):
    Staff(redis).add("ana", "admin", PASSWORD)
    with pytest.raises(StaffError, match="already"):
        Staff(redis).add("ana", "editor", PASSWORD)


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(redis):
    clock = Clock()
    staff = Staff(redis, clock=clock)
    staff.add("ana", "counsellor", PASSWORD)
    results = []
    for _ in range(MAX_FAILURES):
        clock.tick(30)
        results.append(staff.fail("ana"))
    assert results == [False] * (MAX_FAILURES - 1) + [True]
    assert staff.locked("ana")
    assert LOCKOUT - 5 <= redis.ttl(keys.staff_lockout_key("ana")) <= LOCKOUT == 900
    assert not staff.locked("bob")


def test_wrong_passwords_spread_over_more_than_ten_minutes_do_not_lock(redis):
    clock = Clock()
    staff = Staff(redis, clock=clock)
    for _ in range(MAX_FAILURES * 2):
        clock.tick(FAILURE_WINDOW / (MAX_FAILURES - 1) + 1)
        assert staff.fail("ana") is False
    assert 0 < redis.ttl(keys.staff_failures_key("ana")) <= FAILURE_WINDOW == 600


def test_sessions_expire_when_idle_and_end_with_the_account(redis):
    staff = Staff(redis)
    account = staff.add("ana", "editor", PASSWORD)
    session = staff.open_session(account)
    name = keys.staff_session_key(session.id)
    assert 0 < redis.ttl(name) <= SESSION_IDLE == 1800
    redis.expire(name, 10)
    assert staff.session(session.id).role == "editor"
    assert redis.ttl(name) > 1700  # a page renews the idle time
    redis.hset(keys.staff_key("ana"), "role", "counsellor")
    assert staff.session(session.id).role == "counsellor"  # role read from the account
    staff.remove("ana")
    assert staff.session(session.id) is None
    assert staff.session("no-such-session") is None


def test_passwd_replaces_the_hash_and_lifts_a_lockout(redis):
    staff = Staff(redis)
    staff.add("ana", "admin", PASSWORD)
    for _ in range(MAX_FAILURES):
        staff.fail("ana")
    staff.set_password("ana", "another long password")
    assert not staff.locked("ana")
    assert staff.verify("ana", PASSWORD) is None
    assert staff.verify("ana", "another long password") is not None


def test_roles_include_the_ones_below():
    assert may("admin", "editor") and may("editor", "counsellor") and may("admin", "admin")
    assert not may("counsellor", "editor") and not may("editor", "admin")
    assert not may("boss", "counsellor")


def test_list_and_remove(redis):
    staff = Staff(redis)
    staff.add("bob", "editor", PASSWORD)
    staff.add("ana", "admin", PASSWORD)
    assert [(a.name, a.role) for a in staff.list()] == [("ana", "admin"), ("bob", "editor")]
    assert staff.remove("bob") and not staff.remove("bob")
    assert [a.name for a in staff.list()] == ["ana"]
