"""Every Redis key, spelled out: changing one is a data migration, not a refactor."""

import pytest

from bot.store import keys

P = "Ab3-_x9QzLmN0pQrStUvWx"


def test_prefix():
    assert keys.PREFIX == "bot:"


def test_conversation_keys_literally():
    assert keys.state_key(P) == "bot:s:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.replies_key(P) == "bot:r:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.lock_key(P) == "bot:l:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.prefs_key(P) == "bot:p:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.activity_key(P) == "bot:a:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.outbox_key(P) == "bot:o:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.reminders_key(P) == "bot:rm:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.callback_key(P) == "bot:cb:{Ab3-_x9QzLmN0pQrStUvWx}"
    assert keys.reply_jobs_key(P) == "bot:rj:{Ab3-_x9QzLmN0pQrStUvWx}"


def test_conversation_keys_share_one_hash_tag():
    tags = {k[k.index("{") : k.index("}") + 1] for k in keys.conversation_keys(P)}
    assert tags == {"{" + P + "}"}
    assert keys.conversation_keys(P) == (
        keys.state_key(P),
        keys.replies_key(P),
        keys.lock_key(P),
        keys.prefs_key(P),
        keys.activity_key(P),
        keys.outbox_key(P),
        keys.reminders_key(P),
        keys.callback_key(P),
        keys.reply_jobs_key(P),
    )


def test_delivery_stats_key_literally():
    assert keys.delivery_stats_key("2025-01-31") == "bot:stats:delivery:2025-01-31"


def test_service_counters_literally():
    assert keys.limit_stats_key("2025-01-31") == "bot:stats:limits:2025-01-31"
    assert keys.budget_key("2025-01-31") == "bot:budget:2025-01-31"


def test_callbacks_index_key_literally():
    assert keys.callbacks_index_key() == "bot:callbacks"


@pytest.mark.parametrize("bad", ["", "a{b", "a}b", "a:b", "+32 470"])
def test_pseudonym_must_be_a_plain_token(bad):
    with pytest.raises(ValueError):
        keys.state_key(bad)


def test_brake_keys_literally():
    assert keys.hour_segments_key("2025-03-01T13") == "bot:brake:seg:2025-03-01T13"
    assert keys.new_conversations_key("2025-03-01T13-05") == "bot:brake:new:2025-03-01T13-05"


def test_console_keys_literally():
    assert keys.staff_key("ana") == "bot:staff:u:ana"
    assert keys.staff_index_key() == "bot:staff:names"
    assert keys.staff_failures_key("ana") == "bot:staff:fail:ana"
    assert keys.staff_lockout_key("ana") == "bot:staff:lock:ana"
    assert keys.staff_session_key("s1") == "bot:staff:sess:s1"
    assert keys.audit_key("2024-05-01") == "bot:audit:2024-05-01"
    assert keys.turn_stats_key("2024-05-01") == "bot:stats:turns:2024-05-01"
    assert keys.draft_flow_key("d1") == "bot:console:draft:d1"
    assert keys.draft_state_key("d1") == "bot:console:draft-state:d1"


def test_flows_keys_literally():
    assert keys.flows_published_key() == "bot:flows:published"
    assert keys.flows_failed_key() == "bot:flows:failed"
    assert keys.flows_alert_key("0123abcd") == "bot:flows:alert:0123abcd"
    assert keys.flows_serving_key() == "bot:flows:serving"
