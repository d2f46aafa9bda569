"""The webhook end to end against a real Redis: signatures, payloads, retries, concurrency,
round trips, expiry, Redis down, limits. Requests are signed by twilio's own library."""

import datetime as dt
import logging

import pytest
import redis as redis_lib
from conftest import PUBLIC_URL, SENDER, TEST_SECRET, TwilioHelper, concurrently, stored_nothing
from redis.connection import AbstractConnection

from bot.core.engine import MAX_INBOUND_CHARS
from bot.core.state import State
from bot.flow import FlowError
from bot.settings import ConfigError
from bot.store import keys
from bot.store.pseudonym import pseudonym
from bot.web.webhook import MEDIA_ONLY

WELCOME = "Service test flow."
MENU = "Pick one:\n1. Count\n2. Echo"


def state_of(redis, channel="sms", sender=SENDER) -> State | None:
    raw = redis.get(keys.state_key(pseudonym(TEST_SECRET, channel, sender)))
    return State.from_json(raw) if raw else None


# --- signatures -----------------------------------------------------------------------


def test_signed_for_public_url_is_accepted(twilio):
    response = twilio.sms("hi")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    texts = twilio.texts(response)
    assert any(WELCOME in t for t in texts)
    assert texts[-1].endswith("\n\n" + MENU)  # short replies of a turn travel as one


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_missing_or_bad_signature_is_refused(twilio, redis, signature):
    response = twilio.sms("hi", signature=signature)
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.get_data(as_text=True)
    assert stored_nothing(redis)


def test_signature_with_another_token_is_refused(client):
    other = TwilioHelper(client, token="not-the-token")
    assert other.sms("hi").status_code == 403


def test_behind_a_proxy_the_local_url_signature_is_refused(twilio):
    # PUBLIC_URL is https://bot.example.org: Twilio signs that URL, not http://localhost.
    response = twilio.sms("hi", url="http://localhost/webhooks/twilio")
    assert response.status_code == 403


def test_without_public_url_the_request_url_is_signed(make_app):
    client = make_app(PUBLIC_URL="").test_client()
    helper = TwilioHelper(client, public_url="http://localhost")
    assert helper.sms("hi").status_code == 200
    assert helper.sms("hi", url=PUBLIC_URL + "/webhooks/twilio").status_code == 403


def test_public_url_with_a_query_string(twilio):
    params = twilio.message("hi")
    url = PUBLIC_URL + "/webhooks/twilio?channel=test"
    signature = twilio.sign(url, params)
    response = twilio.client.post(
        "/webhooks/twilio?channel=test", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200


def test_skipping_signatures_is_explicit(make_app, caplog, capsys):
    client = make_app(BOT_DEV_SKIP_SIGNATURE="1").test_client()
    assert "BOT_DEV_SKIP_SIGNATURE is on" in capsys.readouterr().err
    assert TwilioHelper(client).sms("hi", signature="").status_code == 200


def test_skipping_signatures_is_refused_in_production(make_app):
    with pytest.raises(ConfigError, match="production"):
        make_app(BOT_DEV_SKIP_SIGNATURE="1", BOT_ENV="production")


def test_a_plain_http_twilio_api_url_is_refused_in_production():
    from bot.settings import Settings, check_settings

    base = {
        "BOT_ENV": "production",
        "BOT_SECRET_KEY": "k3Jx9-Qm2VbT7yLz0Rw4Hn8Fd6Gs1Pc5Ue_AoIiYjEq",
        "TWILIO_AUTH_TOKEN": "t" * 32,
    }
    with pytest.raises(ConfigError, match="BOT_TWILIO_API_URL"):
        check_settings(Settings.from_environ({**base, "BOT_TWILIO_API_URL": "http://127.0.0.1:9"}))
    check_settings(Settings.from_environ(base))  # unset: Twilio's own https API


@pytest.mark.parametrize("missing", ["BOT_SECRET_KEY", "TWILIO_AUTH_TOKEN"])
def test_secrets_are_required(make_app, missing):
    with pytest.raises(ConfigError, match=missing):
        make_app(**{missing: ""})


def test_requests_for_another_account_are_refused(make_app):
    client = make_app(TWILIO_ACCOUNT_SID="AC" + "1" * 32).test_client()
    helper = TwilioHelper(client)
    assert helper.sms("hi").status_code == 403  # the helper posts AccountSid AC000...
    assert helper.sms("hi", AccountSid="AC" + "1" * 32).status_code == 200


# --- payloads -------------------------------------------------------------------------


def test_sms_conversation(twilio, redis):
    twilio.sms("hi")
    assert twilio.texts(twilio.sms("2")) == ["Say something."]
    assert twilio.texts(twilio.sms("hello")) == ["You said: hello\n\n" + MENU]
    state = state_of(redis)
    assert state.node == "menu"
    assert state.vars == {"said": "hello"}


def test_whatsapp_is_its_own_conversation(twilio, redis):
    twilio.sms("hi")
    twilio.sms("2")
    response = twilio.whatsapp("hi")
    assert response.status_code == 200
    assert twilio.texts(response)[-1].endswith(MENU)
    assert state_of(redis, "sms").node == "echo"
    assert state_of(redis, "whatsapp").node == "menu"


def test_whatsapp_button_payload_wins_over_the_text(twilio, redis):
    twilio.whatsapp("hi")
    response = twilio.whatsapp("Something else", ButtonPayload="main.menu:2")
    assert twilio.texts(response) == ["Say something."]
    assert state_of(redis, "whatsapp").node == "echo"


def test_body_is_cut_before_matching(app, twilio, monkeypatch):
    engine = app.extensions["bot"].runtime.engine
    seen = []
    real_step = engine.step

    def spy(state, inbound, now):
        seen.append(inbound)
        return real_step(state, inbound, now)

    monkeypatch.setattr(engine, "step", spy)
    assert twilio.sms("x" * (MAX_INBOUND_CHARS + 400)).status_code == 200
    assert len(seen[0].text) == MAX_INBOUND_CHARS == 1600


def test_media_only_message_gets_a_text_only_note(twilio, redis):
    twilio.sms("hi")
    before = state_of(redis)
    response = twilio.whatsapp("", NumMedia="1", MediaContentType0="image/jpeg")
    assert twilio.texts(response) == [MEDIA_ONLY]
    response = twilio.sms("", NumMedia="1", MediaContentType0="image/jpeg")
    assert twilio.texts(response) == [MEDIA_ONLY]
    assert state_of(redis).node == before.node == "menu"


def test_media_with_a_caption_reads_the_caption(twilio):
    twilio.sms("hi")
    assert twilio.texts(twilio.sms("2", NumMedia="1")) == ["Say something."]


def test_no_number_in_redis_keys_or_values(twilio, redis):
    twilio.sms("hi")
    twilio.whatsapp("hi")
    twilio.sms("2")
    twilio.sms("hello")
    digits = SENDER.lstrip("+")
    for key in redis.scan_iter("*"):
        assert digits.encode() not in key
        kind = redis.type(key)
        if kind == b"string":
            assert digits.encode() not in redis.get(key)
        elif kind == b"list":
            assert all(digits.encode() not in v for v in redis.lrange(key, 0, -1))


def test_logs_have_no_number_and_no_body(twilio, caplog):
    secret_words = "my-very-private-answer"
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="bot"):
        twilio.sms("hi")
        twilio.sms("2")
        twilio.sms(secret_words)
        twilio.whatsapp("STOP")
        twilio.sms("hi", signature="")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "inbound sms" in text
    assert SENDER.lstrip("+") not in text
    assert secret_words not in text
    assert "Test Person" not in text


# --- retries, concurrency, round trips, expiry ----------------------------------------


def test_duplicate_message_sid_gets_the_same_reply_and_advances_once(twilio, redis):
    twilio.sms("hi")
    first = twilio.sms("1", sid="SM" + "d" * 32)
    again = twilio.sms("1", sid="SM" + "d" * 32)
    assert first.get_data() == again.get_data()
    assert twilio.texts(again) == ["Answer 1?"]
    state = state_of(redis)
    assert state.node == "a1"  # a second "1" would have been saved as answer 1
    assert state.vars == {}


def test_concurrent_messages_from_one_sender_lose_no_update(app, twilio, redis):
    twilio.sms("hi")
    twilio.sms("1")
    answers = [f"answer-{i}" for i in range(10)]

    def send(answer):
        helper = TwilioHelper(app.test_client())
        response = helper.sms(answer)
        return response.status_code, helper.texts(response)

    results = concurrently(send, answers)
    assert [code for code, _ in results] == [200] * 10
    state = state_of(redis)
    saved = {state.vars.get(f"a{i}") for i in range(1, 11)}
    assert saved == set(answers)  # ten turns, each on the state the previous one left
    replies = sorted(t[0] for _, t in results)
    assert replies == sorted([f"Answer {i}?" for i in range(2, 11)] + ["All ten answers saved."])


def test_a_common_message_takes_two_round_trips(twilio, redis, monkeypatch):
    twilio.sms("hi")  # connections opened, scripts loaded
    sent = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(1)
        return original(self, command, check_health)

    redis.config_resetstat()
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    twilio.sms("2")
    monkeypatch.undo()
    stats = redis.info("commandstats")
    # BEGIN and COMMIT, each one EVALSHA; the console's anonymous counters ride on COMMIT.
    assert len(sent) == 2
    assert stats["cmdstat_evalsha"]["calls"] == 2
    assert "cmdstat_multi" not in stats and "cmdstat_eval" not in stats
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert redis.hgetall(keys.turn_stats_key(day))  # counted all the same


def test_state_has_a_ttl_and_expires(make_app, redis):
    client = make_app(BOT_STATE_TTL="2h").test_client()
    helper = TwilioHelper(client)
    helper.sms("hi")
    helper.sms("1")
    key = keys.state_key(pseudonym(TEST_SECRET, "sms", SENDER))
    assert 0 < redis.ttl(key) <= 2 * 3600
    redis.delete(key)  # what expiry does; test_store.py waits for a real PEXPIRE
    texts = helper.texts(helper.sms("first answer"))
    assert any(WELCOME in t for t in texts)  # a fresh start, not answer 1
    assert state_of(redis).vars == {}


def test_forget_deletes_every_key(twilio, redis):
    twilio.sms("hi")
    twilio.sms("2")
    twilio.sms("FORGET")
    response = twilio.sms("yes")
    assert any("erased" in t for t in twilio.texts(response))
    key = pseudonym(TEST_SECRET, "sms", SENDER)
    assert not any(redis.exists(k) for k in keys.conversation_keys(key))


def _nobody_listens() -> str:
    """A Redis URL on a local port nothing listens on: a queue Redis that is down."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


def test_forget_erases_the_state_even_with_the_queue_redis_down(make_app, redis, caplog):
    """REDIS_QUEUE_URL unreachable: the keys still go, and what may be left is logged."""
    helper = TwilioHelper(make_app(REDIS_QUEUE_URL=_nobody_listens()).test_client())
    helper.sms("hi")
    helper.sms("2")
    helper.sms("FORGET")
    assert any("erased" in t for t in helper.texts(helper.sms("yes")))
    key = pseudonym(TEST_SECRET, "sms", SENDER)
    assert not any(redis.exists(k) for k in keys.conversation_keys(key))
    assert any("forget: the queue Redis failed" in r.getMessage() for r in caplog.records)
    assert any(r.getMessage().startswith("forget: ") and "key(s)" in r.getMessage()
               for r in caplog.records)  # fmt: skip


# --- faults ---------------------------------------------------------------------------


class TaggingTranslator:
    """Marks each text with its language, to see which languages a reply uses."""

    def __init__(self, real):
        self.real = real

    def gettext(self, lang, msgid):
        return f"[{lang}] {msgid}"

    def finish(self, lang, text):
        return text

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def app_without_redis(make_app):
    from bot.store.embedded import free_port

    return make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_redis_down_answers_unavailable_in_a_few_languages(app_without_redis):
    engine = app_without_redis.extensions["bot"].runtime.engine
    engine.tr = TaggingTranslator(engine.tr)
    helper = TwilioHelper(app_without_redis.test_client())
    response = helper.sms("hi")
    assert response.status_code == 200
    [text] = helper.texts(response)
    lines = text.split("\n")
    assert 2 <= len(lines) <= 3
    assert "[en] The service is temporarily unavailable. Please try again later." in lines
    assert len({line.split("]")[0] for line in lines}) == len(lines)


def test_redis_down_without_translations_is_still_a_reply(app_without_redis):
    helper = TwilioHelper(app_without_redis.test_client())
    response = helper.whatsapp("hi")
    assert response.status_code == 200
    assert "temporarily unavailable" in helper.texts(response)[0]


def test_a_hung_redis_still_gets_an_answer(make_app):
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        app = make_app(REDIS_URL=f"redis://127.0.0.1:{port}/0", BOT_REDIS_TIMEOUT="0.05")
        helper = TwilioHelper(app.test_client())
        response = helper.sms("hi")
    assert response.status_code == 200
    assert "temporarily unavailable" in helper.texts(response)[0]


def test_redis_down_status_callback_and_probes(app_without_redis):
    client = app_without_redis.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "Redis" in ready.get_data(as_text=True)
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered", "To": SENDER}
    assert TwilioHelper(client).post("/webhooks/twilio/status", params).status_code == 204


def test_a_bug_in_a_turn_answers_unavailable_and_frees_the_lock(app, twilio, redis, monkeypatch):
    engine = app.extensions["bot"].runtime.engine

    def broken(state, inbound, now):
        raise KeyError("boom")

    monkeypatch.setattr(engine, "step", broken)
    response = twilio.sms("hi")
    assert response.status_code == 200
    assert "temporarily unavailable" in twilio.texts(response)[0]
    assert not redis.exists(keys.lock_key(pseudonym(TEST_SECRET, "sms", SENDER)))


def test_busy_conversation_asks_to_send_again(make_app, redis):
    client = make_app(BOT_LOCK_WAIT_MS=30).test_client()
    redis.set(keys.lock_key(pseudonym(TEST_SECRET, "sms", SENDER)), "other", px=5000)
    helper = TwilioHelper(client)
    response = helper.sms("hi")
    assert response.status_code == 200
    assert "send this one again" in helper.texts(response)[0]


def test_broken_flows_stop_startup_with_positions(make_app, tmp_path, capsys):
    (tmp_path / "_config.yaml").write_text("settings: {languages: [en]}\n")
    (tmp_path / "main.yaml").write_text("nodes:\n  - id: a\n    type: nope\n")
    with pytest.raises(FlowError):
        make_app(BOT_FLOWS_DIR=str(tmp_path))
    err = capsys.readouterr().err
    assert "main.yaml:3:" in err


# --- other routes and limits ----------------------------------------------------------


def test_health_and_readiness(client):
    assert client.get("/healthz").get_data(as_text=True) == "ok\n"
    assert client.get("/readyz").status_code == 200


def test_status_callback_counts_without_numbers(twilio, redis):
    params = {
        "MessageSid": "SM" + "2" * 32,
        "MessageStatus": "undelivered",
        "ErrorCode": "63016",
        "To": "whatsapp:" + SENDER,
        "From": "whatsapp:+15005550006",
    }
    assert twilio.post("/webhooks/twilio/status", params).status_code == 204
    params["MessageStatus"] = "delivered"
    params.pop("ErrorCode")
    assert twilio.post("/webhooks/twilio/status", params).status_code == 204
    [key] = list(redis.scan_iter("bot:stats:*"))
    counts = redis.hgetall(key)
    assert counts == {
        b"whatsapp:undelivered": b"1",
        b"whatsapp:error:63016": b"1",
        b"whatsapp:delivered": b"1",
    }
    assert redis.ttl(key) > 0


def test_status_callback_needs_a_signature(twilio):
    params = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered"}
    assert twilio.post("/webhooks/twilio/status", params, signature="").status_code == 403


@pytest.mark.parametrize("path", ["/webhooks/twilio", "/webhooks/twilio/status"])
def test_webhooks_accept_only_post(client, path):
    response = client.get(path)
    assert response.status_code == 405
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize(
    ("field", "value"), [("From", ""), ("MessageSid", ""), ("MessageSid", "<script>")]
)
def test_malformed_messages_are_400(twilio, field, value):
    params = twilio.message("hi")
    params[field] = value
    response = twilio.post("/webhooks/twilio", params)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"


def test_too_large_body_is_413(twilio):
    params = twilio.message("x" * 40_000)
    response = twilio.post("/webhooks/twilio", params)
    assert response.status_code == 413


def test_too_many_fields_is_413(twilio):
    params = twilio.message("hi")
    params.update({f"Extra{i}": "1" for i in range(150)})
    assert twilio.post("/webhooks/twilio", params).status_code == 413


def test_unknown_route_is_plain_text(client):
    response = client.get("/nothing")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"


def test_redis_client_fails_fast(app):
    client = app.extensions["bot"].redis
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_connect_timeout"] <= 0.5
    assert kwargs["retry"].get_retries() <= 1
    assert isinstance(client, redis_lib.Redis)


def test_readme_documents_every_setting():
    from pathlib import Path

    from bot.settings import SETTINGS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    missing = [s.env for s in SETTINGS if f"| `{s.env}` |" not in section]
    assert missing == []


# --- TwiML ----------------------------------------------------------------------------


def _catalog_texts() -> list[str]:
    from pathlib import Path

    from babel.messages.pofile import read_po

    texts = []
    for po in sorted(Path(__file__).parent.parent.joinpath("locales").glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            texts += [m.string for m in read_po(f) if m.id and isinstance(m.string, str)]
    return texts


def test_our_twiml_is_twilios_character_for_character():
    from twilio.twiml.messaging_response import MessagingResponse

    from bot.web.webhook import twiml_document

    def twilios(texts):
        response = MessagingResponse()
        for text in texts:
            response.message(text)
        return str(response)

    tricky = ["a & b <c> \"d\" 'e' ]]> &amp;", "\r\n\t", "\u2067سلام 12\u2069", "☃ 👋🏽", ""]
    texts = _catalog_texts()
    assert len(texts) > 1000  # every shipped text in every language
    for text in texts + tricky:
        assert twiml_document([text]) == twilios([text]), text
    assert twiml_document([]) == twilios([])
    assert twiml_document(tricky) == twilios(tricky)


def test_one_line_per_message_only_at_debug(make_app, caplog):
    import logging as logging_

    from bot.settings import ConfigError

    app = make_app(BOT_LOG_LEVEL="debug")
    with caplog.at_level(logging_.DEBUG, logger="bot"):
        TwilioHelper(app.test_client()).sms("hi")
    assert any(r.message.startswith("inbound sms:") for r in caplog.records)
    caplog.clear()
    app = make_app()  # INFO: problems and notable actions only
    with caplog.at_level(logging_.INFO):
        TwilioHelper(app.test_client()).sms("hi")
    assert not any(r.message.startswith("inbound sms:") for r in caplog.records)
    with pytest.raises(ConfigError, match="BOT_LOG_LEVEL"):
        make_app(BOT_LOG_LEVEL="loud")


def test_a_twilio_retry_of_a_joined_answer_gets_the_same_single_message(make_app):
    app = make_app(TWILIO_ACCOUNT_SID="AC" + "0" * 32)
    twilio = TwilioHelper(app.test_client())
    twilio.sms("hi")
    twilio.sms("2")
    first = twilio.sms("hello", sid="SM" + "e" * 32)
    again = twilio.sms("hello", sid="SM" + "e" * 32)
    assert twilio.texts(first) == ["You said: hello\n\n" + MENU]
    assert again.get_data() == first.get_data()


def test_readyz_says_when_the_queue_redis_is_unreachable(make_app, redis_url):
    """Still ready (messages are answered), but staff see that jobs cannot be queued."""
    client = make_app(REDIS_QUEUE_URL=_nobody_listens()).test_client()
    answer = client.get("/readyz")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and body.startswith("ready\n")
    assert "the queue Redis (REDIS_QUEUE_URL) is unreachable (ConnectionError)" in body
    queue_url = redis_url.rsplit("/", 1)[0] + "/1"
    body = make_app(REDIS_QUEUE_URL=queue_url).test_client().get("/readyz").get_data(as_text=True)
    assert "queue Redis" not in body
