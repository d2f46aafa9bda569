"""What the service keeps about a person, for how long, and that it can all be erased.

Against a real Redis, through the webhook: every key written during whole conversations
has a TTL; after FORGET + YES nothing in Redis (keys, and every string, hash, list, set
and sorted-set value, compressed RQ job data included) holds the person's pseudonym or
number in any form; STOP/START; the preferences outlive the position; the privacy notice
says what the settings do; production refuses a weak secret.
"""

from __future__ import annotations

import logging
import re
import secrets
import zlib
from pathlib import Path

import pytest
from conftest import SENDER, TEST_SECRET, Clock, TwilioHelper

from bot.core.runtime import Runtime
from bot.core.state import State
from bot.flow import read_flows
from bot.flow.loader import SERVICE_VALUES
from bot.settings import ConfigError, Settings, secret_problem, service_values
from bot.store import keys, prefs
from bot.store.pseudonym import pseudonym
from bot.text.matching import split_words

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "flows"
ALLNODES = Path(__file__).parent / "data" / "allnodes"
T0 = 1_700_000_000.0

# Whole conversations: every part of the flows that stores something, a language change, a
# callback request (and, in allnodes, a reminder), FORGET cancelled, STOP and START.
SHIPPED_SCRIPT = (
    "hi", "1", "MENU", "2", "1", "MENU", "LANG", "2", "LANG", "1", "7", "0",
    "4", "3", "yes", "1", "FORGET", "no", "STOP", "hello?", "START", "6",
)  # fmt: skip
ALLNODES_SCRIPT = ("hi", "4", "yes", "MENU", "1", "FORGET", "no", "STOP", "START", "1")
SCRIPTS = {"shipped": (SHIPPED, SHIPPED_SCRIPT), "allnodes": (ALLNODES, ALLNODES_SCRIPT)}

RQ_BOOKKEEPING = re.compile(rb"^rq:(?!job:|results:)")
"""RQ's own queues and registries: they hold job ids only and RQ gives them no TTL."""


def service(make_app, flows: Path = SHIPPED, **settings):
    """(app, clock, twilio helper) on `flows`, with a hand-moved clock."""
    app = make_app(BOT_FLOWS_DIR=str(flows), **settings)
    clock = Clock()
    app.extensions["bot"].clock = clock
    return app, clock, TwilioHelper(app.test_client())


def converse(twilio, clock, script, channel="sms"):
    """Send each message of `script` 20 s apart; returns the replies of each."""
    send = twilio.whatsapp if channel == "whatsapp" else twilio.sms
    replies = []
    for text in script:
        response = send(text)
        assert response.status_code == 200
        replies.append(twilio.texts(response))
        clock.tick(20)
    return replies


def number_forms(number: str = SENDER) -> list[bytes]:
    """Every way the number may be written: +E.164, digits, national digits, whatsapp:."""
    digits = number.lstrip("+")
    national = digits[2:]  # Belgian: country code 32, then the national significant number
    forms = {number, digits, national, "0" + national, "whatsapp:" + number}
    return sorted(f.encode() for f in forms)


def identifiers(number: str = SENDER) -> list[bytes]:
    """The person's pseudonyms (both channels) and every form of their number."""
    names = [pseudonym(TEST_SECRET, ch, number).encode() for ch in ("sms", "whatsapp")]
    return names + number_forms(number)


def _values(redis, key: bytes) -> list[bytes]:
    kind = redis.type(key)
    if kind == b"string":
        return [redis.get(key) or b""]
    if kind == b"hash":
        return [x for pair in redis.hgetall(key).items() for x in pair]
    if kind == b"list":
        return redis.lrange(key, 0, -1)
    if kind == b"set":
        return list(redis.smembers(key))
    if kind == b"zset":
        return [member for member, _ in redis.zrange(key, 0, -1, withscores=True)]
    if kind == b"stream":
        return [x for _, entry in redis.xrange(key) for pair in entry.items() for x in pair]
    return []


def _readings(value: bytes) -> list[bytes]:
    """The value, and its zlib-decompressed form (RQ compresses its pickled job data)."""
    readings = [value]
    try:
        readings.append(zlib.decompress(value))
    except zlib.error:
        pass
    return readings


def holders(redis, needles: list[bytes]) -> dict[str, list[str]]:
    """Every key whose name or any value holds one of `needles`: key -> needles found."""
    found: dict[str, list[str]] = {}
    for key in redis.scan_iter("*"):
        texts = [key] + [r for v in _values(redis, key) for r in _readings(v)]
        hits = sorted({n.decode() for n in needles for t in texts if n in t})
        if hits:
            found[key.decode()] = hits
    return found


def own_keys(number: str = SENDER) -> set[str]:
    """The keys this issue writes for a person (the jobs issue adds its own)."""
    names = [pseudonym(TEST_SECRET, ch, number) for ch in ("sms", "whatsapp")]
    mine = ("state_key", "replies_key", "lock_key", "prefs_key", "activity_key")
    return {getattr(keys, fn)(p) for p in names for fn in mine}


# --- every key has a TTL --------------------------------------------------------------


@pytest.mark.parametrize("flows", sorted(SCRIPTS))
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_every_key_written_in_a_whole_conversation_has_a_ttl(make_app, redis, flows, channel):
    folder, script = SCRIPTS[flows]
    app, clock, twilio = service(make_app, folder, BOT_RATE_LIMIT=3)
    converse(twilio, clock, script, channel)
    for _ in range(5):  # over the rate limit: its counters too
        twilio.sms("quick", sender="+32470000002")
    status = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "delivered", "To": SENDER}
    assert twilio.post("/webhooks/twilio/status", status).status_code == 204
    written = sorted(redis.scan_iter("*"))
    assert len(written) >= 6
    settings = app.extensions["bot.settings"]
    limit = max(settings.prefs_ttl, settings.callback_ttl, settings.state_ttl)
    without = []
    for key in written:
        ttl = redis.ttl(key)
        if RQ_BOOKKEEPING.match(key):
            check_rq_bookkeeping(redis, key)
            continue
        if ttl < 0:
            without.append(key.decode())
        elif any(n in key for n in identifiers() + identifiers("+32470000002")):
            assert ttl <= limit, f"{key!r} lives {ttl} s, longer than any setting allows"
    assert without == [], f"keys without a TTL: {without}"


def check_rq_bookkeeping(redis, key: bytes) -> None:
    """RQ's queues and registries have no TTL; what they list must expire with its job.

    A member naming a person (job ids may carry the pseudonym) must be the id of a job
    whose hash has a TTL, so that nothing about the person outlives the job.
    """
    for member in _values(redis, key):
        if any(n in member for n in identifiers() + identifiers("+32470000002")):
            job = b"rq:job:" + member
            assert redis.exists(job), f"{key!r} lists {member!r}, which is not a job"
            assert redis.ttl(job) > 0, f"{key!r} lists {member!r}, a job without a TTL"


def test_position_and_preferences_have_their_own_ttls(make_app, redis):
    app, clock, twilio = service(make_app, BOT_STATE_TTL="2h", BOT_PREFS_TTL="30d")
    converse(twilio, clock, ["hi", "LANG", "2"])
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    assert 3600 < redis.ttl(keys.state_key(name)) <= 2 * 3600
    assert 29 * 86400 < redis.ttl(keys.prefs_key(name)) <= 30 * 86400
    assert 0 < redis.ttl(keys.replies_key(name)) <= app.extensions["bot.settings"].replies_ttl
    assert 0 < redis.ttl(keys.activity_key(name)) <= 3600
    assert b'"l"' not in redis.get(keys.state_key(name))  # the language is kept once
    assert prefs.language(redis.get(keys.prefs_key(name))) == "fr"


def test_the_language_outlives_the_position(make_app, redis):
    app, clock, twilio = service(make_app)
    converse(twilio, clock, ["hi", "LANG", "2", "1"])
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    redis.delete(keys.state_key(name))  # what the 24 h expiry does
    engine = app.extensions["bot"].runtime.engine
    welcome = engine.tr.gettext("fr", engine.flows.flows["main"].nodes["welcome"].text.msgid)
    replies = twilio.texts(twilio.sms("bonjour"))
    assert welcome.split("\n")[0] in "\n".join(replies)  # a fresh start, in French
    state = app.extensions["bot"].store.get_state(name)
    assert state.lang == "fr" and state.flow == "main"


def test_a_guessed_language_expires_with_the_position(make_app, redis):
    app, clock, twilio = service(make_app, BOT_STATE_TTL="2h", BOT_PREFS_TTL="30d")
    converse(twilio, clock, ["bonjour", "2", "hello"])  # guessed, never chosen
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    assert not redis.exists(keys.prefs_key(name))  # nothing kept for 30 days
    assert 3600 < redis.ttl(keys.state_key(name)) <= 2 * 3600
    assert app.extensions["bot"].store.get_state(name).lang == "fr"
    converse(twilio, clock, ["LANG", "2"])  # chosen now: kept apart, for 30 days
    assert prefs.language(redis.get(keys.prefs_key(name))) == "fr"
    converse(twilio, clock, ["START"])  # changes nothing: the choice stays
    assert redis.exists(keys.prefs_key(name))


def test_someone_who_never_chose_nor_stopped_leaves_nothing_after_a_day(make_app, redis):
    _app, clock, twilio = service(make_app)
    converse(twilio, clock, ["hi", "2", "hello", "1"])
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    day = 24 * 3600
    lasting = [k for k in redis.scan_iter() if redis.ttl(k) > day]
    assert [k for k in lasting if name.encode() in k] == []


# --- FORGET ---------------------------------------------------------------------------


@pytest.mark.parametrize("flows", sorted(SCRIPTS))
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_after_forget_nothing_in_redis_holds_the_person(make_app, redis, flows, channel):
    folder, script = SCRIPTS[flows]
    app, clock, twilio = service(make_app, folder)
    other = "+32470000009"  # someone else, whose data must stay
    twilio.sms("hi", sender=other)
    converse(twilio, clock, script, channel)
    assert holders(redis, identifiers()), "the conversation stored nothing?"
    system = app.extensions["bot"].runtime.engine.flows.system
    [confirm] = converse(twilio, clock, ["FORGET"], channel)
    [done] = converse(twilio, clock, ["yes"], channel)
    assert confirm == [system["forget_confirm"].msgid]
    assert done == [system["forgotten"].msgid]
    assert holders(redis, identifiers()) == {}
    assert holders(redis, identifiers(other)) != {}  # only the sender was erased


@pytest.mark.parametrize(
    ("flows", "script", "stored"),
    [
        # The counsellor flow's callback request (consent, then the time to call).
        ("shipped", ("hi", "4", "3", "yes", "1", "MENU", "2"), "callback_key"),
        # allnodes' callback flow also schedules a reminder in 3 days.
        ("allnodes", ("hi", "4", "yes", "MENU"), "reminders_key"),
    ],
)
def test_callback_requests_and_reminders_are_stored_then_erased(
    make_app, redis, flows, script, stored
):
    _app, clock, twilio = service(make_app, SCRIPTS[flows][0])
    converse(twilio, clock, script)
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    assert redis.exists(getattr(keys, stored)(name)), f"nothing under keys.{stored}"
    others = {k for k in holders(redis, identifiers()) if k not in own_keys()}
    assert others, "the request or reminder should mention the person until FORGET"
    converse(twilio, clock, ["FORGET", "yes"])
    assert holders(redis, identifiers()) == {}


def test_forget_in_the_privacy_notice_erases_too(make_app, redis):
    _app, clock, twilio = service(make_app)
    converse(twilio, clock, ["hi", "LANG", "2", "7", "1", "1"])
    assert holders(redis, identifiers()) == {}


def test_forget_cancelled_keeps_everything(make_app, redis):
    _app, clock, twilio = service(make_app)
    converse(twilio, clock, ["hi", "LANG", "2", "FORGET", "no"])  # French, chosen
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    assert redis.exists(keys.state_key(name)) and redis.exists(keys.prefs_key(name))


def test_an_opted_out_person_can_still_erase_everything(make_app, redis):
    _app, clock, twilio = service(make_app)
    converse(twilio, clock, ["hi", "2", "STOP", "FORGET", "yes"])
    assert holders(redis, identifiers()) == {}


# --- STOP / START ---------------------------------------------------------------------


def test_stop_is_confirmed_once_in_the_person_s_language_then_silence(make_app, redis):
    app, clock, twilio = service(make_app)
    engine = app.extensions["bot"].runtime.engine
    converse(twilio, clock, ["hi", "LANG", "2"])  # French
    stopped = engine.tr.finish("fr", engine.tr.gettext("fr", engine.flows.system["stopped"].msgid))
    assert stopped != engine.flows.system["stopped"].msgid  # the catalog has a translation
    [first, again, hello, answer] = converse(twilio, clock, ["STOP", "STOP", "bonjour", "1"])
    assert first == [stopped]
    assert again == hello == answer == []
    name = pseudonym(TEST_SECRET, "sms", SENDER)
    store = app.extensions["bot"].store
    assert store.opted_out(name)
    redis.delete(keys.state_key(name))  # the position expires; the STOP must not
    assert converse(twilio, clock, ["hello"]) == [[]]
    assert store.opted_out(name)
    [started] = converse(twilio, clock, ["START"])
    [back] = started  # "welcome back" and the main menu, in French, as one message
    assert back.startswith("Bon retour") and "\n1. " in back
    assert not store.opted_out(name)
    assert converse(twilio, clock, ["1"])[0] != []


def test_stop_words_of_every_language_work(make_app):
    app, _clock, twilio = service(make_app)
    engine = app.extensions["bot"].runtime.engine
    stopped = engine.flows.system["stopped"].msgid
    msgid = engine.flows.commands["STOP"].words.msgid
    for i, lang in enumerate(engine.settings.languages):
        word = split_words(engine.tr.gettext(lang, msgid))[-1]  # the translators' own word
        sender = f"+3247000{i:04d}"
        twilio.sms("hi", sender=sender)
        [reply] = twilio.texts(twilio.sms(word, sender=sender))
        assert reply == engine.tr.finish("en", engine.tr.gettext("en", stopped)), (lang, word)


def test_opted_out_is_false_for_strangers(app, redis):
    assert not app.extensions["bot"].store.opted_out(pseudonym(TEST_SECRET, "sms", SENDER))


# --- the privacy notice ---------------------------------------------------------------


def notice(twilio, clock) -> str:
    [text] = converse(twilio, clock, ["hi", "PRIVACY"])[-1]
    return text


def test_the_notice_says_what_the_settings_do(make_app):
    _app, clock, twilio = service(
        make_app, BOT_STATE_TTL="48h", BOT_PREFS_TTL="30d", BOT_CALLBACK_TTL="7d"
    )
    text = notice(twilio, clock)
    assert "48 hours" in text and "30 days" in text and "at most 7 days" in text
    assert "TODO: how long" not in text


def test_the_notice_with_the_default_settings(make_app):
    _app, clock, twilio = service(make_app)
    text = notice(twilio, clock)
    assert "erased 24 hours after your last message" in text
    assert "90 days" in text and "at most 14 days" in text
    assert "FORGET" in text


def test_the_notice_is_reachable_from_the_main_menu_in_every_language():
    runtime = Runtime.load(SHIPPED, ROOT / "locales")
    engine = runtime.engine
    main = engine.flows.flows["main"]
    menu = next(n for n in main.nodes.values() if n.type == "menu")
    [option] = [o for o in menu.options if o.target.flow == "privacy"]
    for lang in engine.settings.languages:
        [reply] = engine.preview("privacy", "notice", lang)
        hours, days = engine.tr.number(lang, 24), engine.tr.number(lang, 90)
        assert hours in reply.text and days in reply.text, lang
        assert engine.tr.gettext(lang, option.label.msgid), lang


def test_service_values_round_up_and_cover_what_is_kept_for_the_conversation():
    config = Settings.from_environ({}, {
        "BOT_STATE_TTL": 3600,
        "BOT_REPLIES_TTL": 3 * 3600,
        "BOT_RATE_WINDOW": 60,
        "BOT_LOOP_MUTE": 3600,
        "BOT_PREFS_TTL": 86400 + 1,
        "BOT_CALLBACK_TTL": 14 * 86400,
    })  # fmt: skip
    values = service_values(config)
    assert set(values) == set(SERVICE_VALUES)
    assert values == {"conversation_hours": "3", "preferences_days": "2", "callback_days": "14"}


def test_tools_take_service_values_from_the_environment(monkeypatch):
    from bot.cli.common import load_runtime

    monkeypatch.setenv("BOT_STATE_TTL", "12h")
    runtime = load_runtime(SHIPPED)
    assert runtime.engine.flows.staff["conversation_hours"] == "12"
    [reply] = runtime.engine.preview("privacy", "notice", "en")
    assert "erased 12 hours after" in reply.text


def test_staff_cannot_set_a_service_value(tmp_path):
    (tmp_path / "_config.yaml").write_text((ALLNODES / "_config.yaml").read_text())
    (tmp_path / "main.yaml").write_text(
        "nodes:\n  - id: a\n    type: end\n    text: 'Kept {conversation_hours} hours.'\n"
    )
    (tmp_path / "_staff.yaml").write_text('conversation_hours: "48"\n')
    flowset, problems = read_flows(tmp_path)
    assert flowset is None
    assert any(
        "_staff.yaml:1:1" in str(p) and '"conversation_hours" is a service value' in str(p)
        for p in problems
    ), problems
    (tmp_path / "_staff.yaml").write_text("")
    flowset, problems = read_flows(tmp_path)
    assert flowset is not None, problems


def test_the_shipped_staff_file_has_no_retention_durations():
    staff = (SHIPPED / "_staff.yaml").read_text(encoding="utf-8")
    assert "privacy_state_days" not in staff and "privacy_callback_days" not in staff


# --- preferences ----------------------------------------------------------------------


def test_split_and_merge_keep_every_field_once():
    state = State(flow="main", node="menu", vars={"a": "1"}, lang="fa", seen=5)
    state.lang_confirmed, state.opted_out = True, True
    position, kept = prefs.split(state)
    assert '"l"' not in position and '"o"' not in position
    assert prefs.read(kept) == {"v": 1, "l": "fa", "c": 1, "o": 1}
    assert prefs.merge(position, kept) == state
    assert prefs.merge(None, None) is None
    alone = prefs.merge(None, kept)
    assert (alone.lang, alone.opted_out, alone.flow, alone.seen) == ("fa", True, None, 0)
    assert prefs.split(State())[1] is None
    guessed = State(flow="main", lang="fa")  # not chosen: stays with the position
    position, kept = prefs.split(guessed)
    assert kept is None and prefs.merge(position, None) == guessed


def test_unreadable_preferences_are_ignored():
    for raw in (b"not json", b"[]", b'{"v": 99, "l": "fr"}'):
        assert prefs.read(raw) == {}
        assert prefs.merge(b'{"v":1,"f":"main"}', raw).lang is None


def test_a_state_saved_before_the_split_keeps_its_language():
    old = State(flow="main", lang="ka", opted_out=True).to_json()
    merged = prefs.merge(old, None)
    assert merged.lang == "ka" and merged.opted_out


# --- the secret -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("short-but-random-Xy7", "characters"),
        ("a" * 48, "different characters"),
        ("ababababababababababababababababab", "different characters"),
        ("my-super-SECRET-key-for-the-line-2024", "secret"),
        ("Tr0ub4dor&3-correct-horse-battery-staple-test", "test"),
    ],
)
def test_production_refuses_a_weak_secret(make_app, secret, why):
    assert why in secret_problem(secret)
    with pytest.raises(ConfigError, match=f"BOT_SECRET_KEY is too weak.*{why}"):
        make_app(BOT_ENV="production", BOT_SECRET_KEY=secret)


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(16)])
def test_production_accepts_a_generated_secret(make_app, make):
    secret = make()
    assert secret_problem(secret) is None
    app = make_app(BOT_ENV="production", BOT_SECRET_KEY=secret)
    assert app.extensions["bot.settings"].env == "production"


def test_development_accepts_a_test_secret(make_app):
    assert make_app(BOT_SECRET_KEY=TEST_SECRET).extensions["bot.settings"].secret_key == TEST_SECRET


def test_preferences_may_not_expire_before_the_position(make_app):
    with pytest.raises(ConfigError, match="BOT_PREFS_TTL"):
        make_app(BOT_STATE_TTL="2d", BOT_PREFS_TTL="1d")


# --- logs -----------------------------------------------------------------------------


def test_no_number_and_no_body_in_the_logs_of_a_whole_conversation(make_app, caplog):
    _app, clock, twilio = service(make_app, BOT_RATE_LIMIT=4, BOT_LOOP_STREAK=3)
    private = "my-private-answer-about-my-family"
    with caplog.at_level(logging.DEBUG):
        converse(twilio, clock, SHIPPED_SCRIPT)
        converse(twilio, clock, ["4", "3", private, "FORGET", "yes"], "whatsapp")
        robot = "+32470000003"
        for _ in range(6):  # over the rate limit
            twilio.sms("Auto-reply: I am away", sender=robot)
        clock.tick(61)
        for _ in range(3):  # then a loop
            twilio.sms("Auto-reply: I am away", sender=robot)
            clock.tick(1)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "over the rate limit" in text and "automated replies" in text
    for form in number_forms() + number_forms("+32470000003"):
        assert form.decode() not in text
    assert private not in text and "Auto-reply" not in text and "Test Person" not in text


@pytest.mark.parametrize(("lang", "digits"), [("fa", "۲۴"), ("ps", "۲۴"), ("ckb", "٢٤")])
def test_the_privacy_notice_writes_durations_in_the_language_s_digits(lang, digits):
    runtime = Runtime.load(SHIPPED, service={
        "conversation_hours": "24", "preferences_days": "90", "callback_days": "14",
    })  # fmt: skip
    [reply] = runtime.engine.preview("privacy", "notice", lang)
    assert digits in reply.text
    assert "24" not in reply.text and "90" not in reply.text and "14" not in reply.text
    [english] = runtime.engine.preview("privacy", "notice", "en")
    assert "erased 24 hours after" in english.text
