"""bot.jobs.outbound against a real Redis and the fake Twilio API: once, errors, the window."""

from __future__ import annotations

import json
import time

import pytest
import requests
from conftest import SENDER, TEST_AUTH_TOKEN
from fake_twilio import FakeTwilio

from bot.channels import message
from bot.core.state import State
from bot.jobs import outbound
from bot.jobs.outbound import (
    MaybeSent,
    Outgoing,
    OutsideWindow,
    PermanentError,
    TransientError,
    classify,
    send_once,
)
from bot.store import keys

P = "Ab3-_x9QzLmN0pQrStUvWx"
FROM = "+15005550006"
STATUS = "https://bot.example.org/webhooks/twilio/status"


@pytest.fixture
def twilio(fake_twilio):
    return outbound.twilio_client(FakeTwilio.ACCOUNT, TEST_AUTH_TOKEN, fake_twilio.url)


def send(redis, twilio, message_id="SMin.1", to=SENDER, message=None, **kw):
    message = message or Outgoing(body="Hello")
    return send_once(redis, twilio, P, message_id, to, FROM, message, STATUS, **kw)


def test_a_message_is_sent_with_its_status_callback_and_recorded(redis, twilio, fake_twilio):
    sid = send(redis, twilio)
    assert sid.startswith("SM")
    [form] = fake_twilio.messages
    assert form == {"To": SENDER, "From": FROM, "Body": "Hello", "StatusCallback": STATUS}
    assert redis.hget(keys.outbox_key(P), "SMin.1") == sid.encode()
    assert 0 < redis.ttl(keys.outbox_key(P)) <= outbound.OUTBOX_TTL


def test_the_same_message_is_never_sent_twice(redis, twilio, fake_twilio):
    first = send(redis, twilio)
    assert send(redis, twilio) == first
    assert len(fake_twilio.messages) == 1
    send(redis, twilio, message_id="SMin.2")
    assert len(fake_twilio.messages) == 2


@pytest.mark.parametrize("answer,status", [("500", 500), ("429", 429)])
def test_5xx_and_429_are_transient_and_free_the_claim(redis, twilio, fake_twilio, answer, status):
    fake_twilio.script(answer)
    with pytest.raises(TransientError) as caught:
        send(redis, twilio)
    assert caught.value.status == status
    assert redis.hget(keys.outbox_key(P), "SMin.1") is None  # the retry may send it
    assert send(redis, twilio).startswith("SM")
    assert len(fake_twilio.messages) == 2


@pytest.mark.parametrize("code", ["21610", "21211", "63016"])
def test_other_twilio_errors_are_permanent_and_remembered(redis, twilio, fake_twilio, code):
    fake_twilio.script(code)
    with pytest.raises(PermanentError) as caught:
        send(redis, twilio)
    assert caught.value.code == int(code)
    assert not isinstance(caught.value, TransientError)
    with pytest.raises(PermanentError):
        send(redis, twilio)  # a rerun of the job does not ask Twilio again
    assert len(fake_twilio.messages) == 1


def test_errors_say_nothing_of_the_number_or_the_text(redis, twilio, fake_twilio):
    fake_twilio.script("21211")
    with pytest.raises(PermanentError) as caught:
        send(redis, twilio, message=Outgoing(body="my private words"))
    text = str(caught.value)
    assert SENDER.lstrip("+") not in text and "private" not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_claim_left_by_a_dead_attempt_is_not_sent_again_when_twilio_has_it(
    redis, twilio, fake_twilio
):
    """The worker died after Twilio took the message: found at Twilio, recorded, not resent."""
    sid = send(redis, twilio)
    redis.hset(keys.outbox_key(P), "SMin.1", f"{outbound.SENDING}:{int(time.time())}")
    assert send(redis, twilio) == sid
    assert len(fake_twilio.messages) == 1
    assert redis.hget(keys.outbox_key(P), "SMin.1") == sid.encode()


def test_a_claim_left_by_a_dead_attempt_is_sent_when_twilio_never_got_it(
    redis, twilio, fake_twilio
):
    """The worker died before the request reached Twilio: sent now, once."""
    redis.hset(keys.outbox_key(P), "SMin.1", f"{outbound.SENDING}:{int(time.time())}")
    sid = send(redis, twilio)
    assert len(fake_twilio.messages) == 1
    assert send(redis, twilio) == sid
    assert len(fake_twilio.messages) == 1


def test_no_connection_is_transient(redis):
    nowhere = outbound.twilio_client(FakeTwilio.ACCOUNT, "x", "http://127.0.0.1:1")
    with pytest.raises(TransientError):
        send(redis, nowhere)
    assert redis.hget(keys.outbox_key(P), "SMin.1") is None


def test_classify():
    assert isinstance(classify(requests.ReadTimeout()), MaybeSent)
    assert isinstance(classify(requests.ConnectTimeout()), TransientError)
    assert isinstance(classify(ValueError("x")), PermanentError)


def test_missing_credentials_are_a_permanent_error():
    with pytest.raises(PermanentError, match="TWILIO_ACCOUNT_SID"):
        outbound.twilio_client("", "", "")


def test_a_messaging_service_can_send(redis, twilio, fake_twilio):
    send_once(redis, twilio, P, "m", SENDER, "MG" + "1" * 32, Outgoing(body="Hi"))
    [form] = fake_twilio.messages
    assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form


def test_a_template_goes_with_its_variables(redis, twilio, fake_twilio):
    message = Outgoing(content_sid="HX" + "a" * 32, content_variables={"1": "Pick:", "2": "x"})
    send(redis, twilio, to="whatsapp:" + SENDER, message=message)
    [form] = fake_twilio.messages
    assert form["ContentSid"] == "HX" + "a" * 32
    assert json.loads(form["ContentVariables"]) == {"1": "Pick:", "2": "x"}
    assert "Body" not in form


def test_messages_survive_the_job_payload_round_trip():
    messages = [Outgoing(body="a"), Outgoing(content_sid="HX1", content_variables={"1": "b"})]
    assert message.load_messages(message.dump_messages(messages)) == messages


# --- WhatsApp's 24-hour window --------------------------------------------------------


def heard(redis, seconds_ago: float) -> None:
    state = State(seen=int(time.time() - seconds_ago))
    redis.set(keys.state_key(P), state.to_json())


def test_free_form_whatsapp_inside_the_window_goes(redis, twilio, fake_twilio):
    heard(redis, 23 * 3600)
    assert outbound.in_window(redis, P)
    send(redis, twilio, to="whatsapp:" + SENDER)
    assert len(fake_twilio.messages) == 1


@pytest.mark.parametrize("ago", [24 * 3600 + 1, None])
def test_free_form_whatsapp_outside_the_window_is_refused(redis, twilio, fake_twilio, ago):
    if ago is not None:
        heard(redis, ago)
    assert not outbound.in_window(redis, P)
    with pytest.raises(OutsideWindow):
        send(redis, twilio, to="whatsapp:" + SENDER)
    assert fake_twilio.messages == []
    assert redis.hget(keys.outbox_key(P), "SMin.1") is None


def test_templates_and_sms_do_not_need_the_window(redis, twilio, fake_twilio):
    template = Outgoing(content_sid="HX" + "b" * 32)
    send(redis, twilio, to="whatsapp:" + SENDER, message=template)
    send(redis, twilio, message_id="SMin.2")  # SMS
    assert len(fake_twilio.messages) == 2


def test_the_redirecting_client_keeps_path_and_query(fake_twilio):
    client = outbound.RedirectingHttpClient(fake_twilio.url + "/")
    response = client.request("GET", "https://api.twilio.com/2010-04-01/Thing.json?a=1")
    assert response.status_code == 204
    assert fake_twilio.requests[-1].path == "/2010-04-01/Thing.json?a=1"
