"""The console's audit log (bot.store.audit): entries per day with a TTL, never a number."""

import pytest

from bot.store import audit, keys


def test_entries_are_kept_per_day_with_an_expiry_newest_first(redis):
    audit.record(redis, "ana", "login", at=1_700_000_000)
    audit.record(redis, "ana", "callback_claim", "request 3f9a01bc", at=1_700_000_060)
    entries = audit.recent(redis, 2, now=1_700_000_100)
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("ana", "callback_claim", "request 3f9a01bc"),
        ("ana", "login", ""),
    ]
    assert entries[0].when == "2023-11-14 22:14:20"
    ttl = redis.ttl(keys.audit_key("2023-11-14"))
    assert 0 < ttl <= audit.AUDIT_TTL


@pytest.mark.parametrize("detail", ["+32 470 00 00 01", "0470000001", "call 0032470000001"])
def test_a_phone_number_is_refused(redis, detail):
    with pytest.raises(ValueError, match="phone number"):
        audit.record(redis, "ana", "callback_claim", detail)
    assert redis.keys("*") == []


def test_unknown_actions_are_refused(redis):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(redis, "ana", "coffee")


def test_a_request_id_of_eight_digits_is_not_a_number(redis):
    audit.record(redis, "ana", "callback_claim", "request 12345678")
    assert audit.recent(redis, 1)[0].detail == "request 12345678"
