"""Rate limit, loop detection and the daily budget: the pure decisions, the store's scripts
against a real Redis, and the webhook's answers (a notice once, then silence)."""

from __future__ import annotations

import logging

from conftest import SENDER, TEST_SECRET, Clock, TwilioHelper, concurrently

from bot.core.state import State
from bot.settings import Settings
from bot.store import keys, limits
from bot.store.conversations import ConversationStore
from bot.store.limits import Activity, Arrival, Limits
from bot.store.pseudonym import pseudonym
from bot.text import pricing
from bot.text.segments import analyse

T0 = 1_700_000_000.0
"""A fixed clock start (seconds); the tests move it by hand, never sleep."""
RATE_NOTICE_TEXT = "You sent many messages in a short time."
P = "pseudonymForLimits0000"


def at(seconds: float, digest: str = "d1", channel: str = "sms") -> Arrival:
    return Arrival(digest, int((T0 + seconds) * 1000), channel)


# --- pure decisions -------------------------------------------------------------------


def test_defaults_match_the_issue():
    policy = Limits()
    assert (policy.rate_limit, policy.rate_window) == (20, 60)
    assert policy.loop_streak > 1 and policy.mute >= 600


def test_limits_from_settings_reads_the_service_settings():
    overrides = {"BOT_RATE_LIMIT": 5, "BOT_RATE_WINDOW": 30, "BOT_DAILY_SEGMENTS": 10}
    policy = Limits.from_settings(Settings.from_environ({}, overrides))
    assert (policy.rate_limit, policy.rate_window, policy.daily_segments) == (5, 30, 10)
    assert policy.mute == Limits().mute


def test_the_first_message_over_the_limit_gets_a_notice_the_next_ones_silence():
    policy = Limits(rate_limit=3)
    assert limits.rate_verdict(4, policy) == limits.RATE_NOTICE
    assert limits.rate_verdict(5, policy) == limits.RATE_SILENT
    assert limits.rate_verdict(50, policy) == limits.RATE_SILENT


def test_text_digest_is_keyed_and_ignores_case_and_spacing():
    assert limits.text_digest("k1", "Hello  there") == limits.text_digest("k1", " hello there")
    assert limits.text_digest("k1", "hello") != limits.text_digest("k2", "hello")
    assert "hello" not in limits.text_digest("k1", "hello")
    assert len(limits.text_digest("k1", "x")) == limits.DIGEST_CHARS


def exchange(before, seconds, digest, replies, policy=None):
    return limits.observe(before, at(seconds, digest), replies, policy or Limits())


def test_a_fast_responder_going_round_in_circles_is_muted():
    policy = Limits(loop_streak=3, loop_fast=5, mute=600)
    a = Activity()
    for i, reply in enumerate(["menu", "sorry+menu", "menu", "sorry+menu"]):
        a = exchange(a, i * 2, f"bot text {i}", [reply], policy)  # a different text each time
        assert not limits.is_loop(a, at(i * 2))
    a = exchange(a, 8, "bot text 4", ["menu"], policy)
    assert limits.is_loop(a, at(8))
    assert a.muted_until_ms == int((T0 + 8 + 600) * 1000)


def test_a_slow_responder_repeating_itself_is_muted():
    policy = Limits(loop_streak=3, loop_fast=5)
    a = Activity()
    for i in range(3):
        a = exchange(a, i * 60, "same text", ["Sorry, I did not understand."], policy)
        assert not limits.is_loop(a, at(i * 60))
    a = exchange(a, 180, "same text", ["Sorry, I did not understand."], policy)
    assert limits.is_loop(a, at(180))


def test_a_person_answering_new_questions_fast_is_not_a_bot():
    policy = Limits(loop_streak=3, loop_fast=5)
    a = Activity()
    for i in range(20):
        a = exchange(a, i, f"answer {i}", [f"Question {i + 1}?"], policy)
        assert a.streak == 0 and not limits.is_loop(a, at(i))


def test_a_person_going_back_to_a_menu_slowly_is_not_a_bot():
    policy = Limits(loop_streak=3, loop_fast=5)
    a = Activity()
    for i in range(20):  # "1", "0", "1", "0"... read and typed in 20 s each
        a = exchange(a, i * 20, "1" if i % 2 else "0", ["sub menu" if i % 2 else "menu"], policy)
        assert not limits.is_loop(a, at(i * 20))


def test_a_repeat_after_a_long_pause_is_not_a_loop():
    policy = Limits(loop_streak=2, loop_fast=5)
    a = Activity()
    for i in range(6):
        a = exchange(a, i * 600, "hi", ["welcome"], policy)
        assert not limits.is_loop(a, at(i * 600))


def test_loop_detection_can_be_switched_off():
    a = Activity()
    for i in range(50):
        a = exchange(a, i, "same", ["same"], Limits(loop_streak=0))
        assert not limits.is_loop(a, at(i))


def test_activity_keeps_only_digests_and_round_trips_through_hash_fields():
    a = exchange(Activity(), 0, "abc123", ["Some reply with +32470000001 in it"])
    fields = a.to_fields()
    assert set(fields) == {"t", "i", "o", "k", "m"}
    assert "+32470000001" not in str(fields) and "reply" not in str(fields)
    assert Activity.from_fields(fields) == a
    assert Activity.from_fields({"t": "x"}) == Activity()
    assert len(exchange(a, 1, "x", ["r1"]).replies) == 2
    many = a
    for i in range(10):
        many = exchange(many, i, "x", [f"r{i}"])
    assert len(many.replies) == limits.RECENT_REPLIES


def test_activity_ttl_covers_the_windows_or_the_mute():
    policy = Limits(rate_window=60, mute=3600)
    assert limits.activity_ttl_ms(Activity(last_ms=1000), policy) == limits.REPEAT_GAP_MS
    muted = Activity(last_ms=1000, muted_until_ms=1000 + 3_600_000)
    assert limits.activity_ttl_ms(muted, policy) == 3_600_000
    assert limits.activity_ttl_ms(Activity(), Limits(rate_window=600)) == 600_000


def test_outbound_units_are_sms_segments_or_whatsapp_messages():
    assert pricing.outbound_units("sms", ["x" * 160]) == 1
    assert pricing.outbound_units("sms", ["x" * 161, "y"]) == 3
    assert pricing.outbound_units("sms", ["ა" * 71]) == 2  # UCS-2: 70 a segment
    assert pricing.outbound_units("whatsapp", ["x" * 2000, "y"]) == 2
    assert pricing.outbound_units("sms", []) == 0


def test_segment_counts_are_remembered_by_hash_never_by_text():
    text = "You said: my answer is +32470000001"
    assert pricing.segments(text) == analyse(text).segments == 1
    assert pricing.segments(text + "x" * 200) == 2
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in pricing._SEGMENTS.items())
    for _ in range(pricing.SEGMENT_CACHE + 10):
        pricing.segments(f"text {_}")
    assert len(pricing._SEGMENTS) <= pricing.SEGMENT_CACHE


def test_budget_decisions():
    policy = Limits(daily_segments=100)
    assert not limits.budget_reached(99, policy)
    assert limits.budget_reached(100, policy)
    assert limits.budget_allows(90, 10, policy)
    assert not limits.budget_allows(91, 10, policy)
    unlimited = Limits(daily_segments=0)
    assert not limits.budget_reached(10**9, unlimited)
    assert limits.budget_allows(10**9, 10, unlimited)
    assert "BOT_DAILY_SEGMENTS" in limits.budget_message(100, policy)


def test_day_is_utc():
    assert limits.day(0) == "1970-01-01"
    assert limits.day(int(T0 * 1000)) == "2023-11-14"


# --- the store's scripts --------------------------------------------------------------


class Turn:
    def __init__(self, state, texts):
        self.state, self.texts, self.events = state, texts, ()


def echo_step(reply="same reply"):
    """A step that answers `reply` and counts turns in var n."""

    def step(state):
        state = state.copy() if state else State(lang="fr")
        state.vars["n"] = str(int(state.vars.get("n", "0")) + 1)
        return Turn(state, [reply])

    return step


def make_store(redis, **policy):
    return ConversationStore(
        redis, state_ttl=3600, replies_ttl=600, prefs_ttl=7200, limits=Limits(**policy)
    )


def test_store_refuses_over_the_rate_limit_without_running_the_turn(redis):
    store = make_store(redis, rate_limit=3, loop_streak=0)
    results = [store.handle(P, f"SM{i}", echo_step(), at(i, f"m{i}")) for i in range(5)]
    assert [r.refused for r in results] == [None, None, None, "rate_notice", "rate_silent"]
    assert results[3].lang == "fr" and results[3].texts == []
    assert store.get_state(P).vars == {"n": "3"}
    stats = redis.hgetall(keys.limit_stats_key(limits.day(at(0).at_ms)))
    assert stats == {b"rate_limited": b"2"}
    assert 0 < redis.ttl(keys.limit_stats_key(limits.day(at(0).at_ms)))
    later = store.handle(P, "SM9", echo_step(), at(61, "m9"))  # the window has passed
    assert later.refused is None
    assert store.get_state(P).vars == {"n": "4"}


def test_a_twilio_retry_is_not_counted_again(redis):
    store = make_store(redis, rate_limit=2, loop_streak=0)
    for _ in range(5):
        handled = store.handle(P, "SM1", echo_step(), at(0))
    assert handled.duplicate and handled.refused is None
    assert redis.hget(keys.activity_key(P), "n") == b"1"


def test_rate_limit_counts_messages_that_wait_for_the_lock_once(redis):
    store = make_store(redis, rate_limit=100, loop_streak=0)
    store.handle(P, "SM0", echo_step(), at(0))

    def send(i):
        store.handle(P, f"SM{i + 1}", echo_step(f"reply {i}"), at(0.001 * i, f"m{i}"))

    concurrently(send, list(range(10)))
    assert redis.hget(keys.activity_key(P), "n") == b"11"
    assert store.get_state(P).vars == {"n": "11"}


def test_a_flood_is_refused_before_the_lock(redis):
    store = make_store(redis, rate_limit=2, loop_streak=0)
    store.handle(P, "SM0", echo_step(), at(0))
    store.handle(P, "SM1", echo_step(), at(0.1, "b"))
    redis.set(keys.lock_key(P), "another turn", px=5000)  # busy: a refusal must not wait
    assert store.handle(P, "SM2", echo_step(), at(0.2, "c")).refused == "rate_notice"
    assert redis.get(keys.lock_key(P)) == b"another turn"


def test_a_loop_mutes_the_sender_and_the_closing_turn_changes_nothing(redis):
    store = make_store(redis, loop_streak=3, loop_fast=5, mute=600, rate_limit=0)
    results = [store.handle(P, f"SM{i}", echo_step(), at(i, "bot")) for i in range(4)]
    assert [r.refused for r in results] == [None, None, None, "loop"]
    assert results[3].texts == [] and results[3].turn is None
    assert store.get_state(P).vars == {"n": "3"}  # the 4th turn was dropped
    muted = store.handle(P, "SM5", echo_step(), at(10, "bot"))
    assert muted.refused == "muted"
    assert 500 < redis.ttl(keys.activity_key(P)) <= 600
    day = limits.day(at(0).at_ms)
    assert redis.hgetall(keys.limit_stats_key(day)) == {b"loop_detected": b"1", b"muted": b"1"}
    after = store.handle(P, "SM6", echo_step(), at(611, "person"))
    assert after.refused is None and after.texts == ["same reply"]


def test_replies_are_added_to_the_day_s_budget(redis):
    store = make_store(redis, loop_streak=0)
    first = store.handle(P, "SM1", echo_step("x" * 200), at(0))  # 2 segments
    second = store.handle(P, "SM2", echo_step("y"), at(1, "b", "whatsapp"))
    assert (first.units, first.spent) == (2, 2)
    assert (second.units, second.spent) == (1, 3)
    name = keys.budget_key(limits.day(at(0).at_ms))
    assert redis.hget(name, "segments") == b"3"
    assert 0 < redis.ttl(name) <= limits.BUDGET_KEEP


def test_proactive_messages_stop_at_the_budget_replies_do_not(redis):
    store = make_store(redis, daily_segments=4, loop_streak=0)
    assert store.handle(P, "SM0", echo_step("hi"), at(0)).texts == ["hi"]  # a conversation
    assert store.spend(2, at=T0)
    assert not store.spend(2, at=T0)  # 5 > 4: refused, nothing spent
    assert store.spent(at=T0) == 3
    assert store.spend(1, at=T0)
    handled = store.handle(P, "SM1", echo_step("a reply"), at(1, "d2"))
    assert handled.texts == ["a reply"]  # a reply in a conversation always goes out
    assert store.spent(at=T0) == 5
    assert not store.spend(1, at=T0)
    assert store.spend(1, at=T0 + 86400)  # a new day
    assert store.alert_once(at=T0)
    assert not store.alert_once(at=T0)


def test_no_budget_means_no_refusal(redis):
    store = make_store(redis, daily_segments=0)
    assert all(store.spend(1000, at=T0) for _ in range(5))


# --- the webhook ----------------------------------------------------------------------


def limited_app(make_app, **settings):
    app = make_app(**settings)
    clock = Clock()
    app.extensions["bot"].clock = clock
    return app, clock, TwilioHelper(app.test_client())


def test_webhook_rate_limit_notice_once_then_silence_until_the_window_passes(make_app, caplog):
    _app, clock, twilio = limited_app(make_app, BOT_RATE_LIMIT=4, BOT_LOOP_STREAK=0)
    with caplog.at_level(logging.INFO):
        for i in range(4):
            assert twilio.texts(twilio.sms(f"message {i}"))
            clock.tick(1)
        notice = twilio.texts(twilio.sms("one too many"))
        assert len(notice) == 1 and notice[0].startswith(RATE_NOTICE_TEXT)
        for _ in range(3):
            response = twilio.sms("still more")
            assert response.status_code == 200
            assert twilio.texts(response) == []
    clock.tick(60)
    assert twilio.texts(twilio.sms("hello again"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged.count("over the rate limit") == 1  # counted in Redis, logged once
    assert SENDER.lstrip("+") not in logged and "one too many" not in logged


def test_webhook_rate_limit_notice_is_in_the_person_s_language(make_app):
    app, _clock, twilio = limited_app(make_app, BOT_RATE_LIMIT=3, BOT_LOOP_STREAK=0)
    engine = app.extensions["bot"].runtime.engine
    real = engine.tr

    class Tagging:
        def gettext(self, lang, msgid):
            return f"[{lang}] {real.gettext(lang, msgid)}"

        def __getattr__(self, name):
            return getattr(real, name)

    twilio.sms("hi")
    twilio.sms("LANG")
    twilio.sms("2")  # French
    engine.tr = Tagging()
    [notice] = twilio.texts(twilio.sms("encore"))
    assert notice.startswith("[fr] ")


def test_webhook_mutes_an_auto_responder(make_app, redis, caplog):
    _app, clock, twilio = limited_app(make_app, BOT_LOOP_STREAK=3, BOT_RATE_LIMIT=0)
    answered = []
    with caplog.at_level(logging.INFO):
        for _ in range(8):  # an "out of office" bot answers every reply within 2 s
            answered.append(bool(twilio.texts(twilio.sms("I am out of the office."))))
            clock.tick(2)
    assert answered[:4] == [True] * 4
    assert answered[4:] == [False] * 4
    assert "automated replies" in caplog.text
    key = pseudonym(TEST_SECRET, "sms", SENDER)
    assert redis.ttl(keys.activity_key(key)) > 3000
    clock.tick(3600)
    assert twilio.texts(twilio.sms("Sorry, I am back, can you help me?"))


def test_webhook_budget_alerts_staff_once(make_app, caplog):
    app, clock, twilio = limited_app(make_app, BOT_DAILY_SEGMENTS=5, BOT_LOOP_STREAK=0)
    with caplog.at_level(logging.INFO):
        for i in range(6):
            assert twilio.texts(twilio.sms(f"message {i}"))  # replies always go out
            clock.tick(10)
    alerts = [r for r in caplog.records if "daily outbound budget reached" in r.getMessage()]
    assert len(alerts) == 1 and alerts[0].levelno == logging.ERROR
    assert not app.extensions["bot"].store.spend(1, at=clock())


def test_webhook_common_message_still_takes_two_round_trips_with_limits(app, twilio, redis):
    from redis.connection import AbstractConnection

    twilio.sms("hi")
    sent = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counting
    try:
        twilio.sms("2")
    finally:
        AbstractConnection.send_packed_command = original
    assert len(sent) == 2  # BEGIN and COMMIT, with the limits and the console's counters inside


def test_free_text_questions_are_counted_by_language_and_outcome_only(redis):
    from types import MappingProxyType

    from bot.core.turn import Event, Reply, Turn

    def asked(outcome):
        def step(state):
            state = state or State(lang="fa")
            event = Event("question", MappingProxyType({"lang": "fa", "outcome": outcome}))
            return Turn(state, (Reply("answer"),), (event,))

        return step

    store = make_store(redis, rate_limit=0, loop_streak=0)
    for i, outcome in enumerate(("matched", "matched", "unmatched")):
        store.handle(P, f"SMq{i}", asked(outcome), at(i * 30, f"q{i}"))
    key = keys.limit_stats_key(limits.day(at(0).at_ms))
    assert redis.hgetall(key) == {b"questions:fa:matched": b"2", b"questions:fa:unmatched": b"1"}
    assert 0 < redis.ttl(key)
