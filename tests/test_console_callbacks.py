"""The console's callback queue: the number only for the counsellor who claimed, audited."""

import pytest

from bot.jobs import callbacks
from bot.store import audit, keys
from tests.conftest import SENDER, TwilioHelper
from tests.console_helpers import post, staff_client

OTHER = "+32470000002"


def ask(app, sender: str = SENDER) -> None:
    """A person asks for a callback through the real webhook (JOBS_FLOW)."""
    twilio = TwilioHelper(app.test_client())
    for text in ("hi", "2", "yes"):
        twilio.sms(text, sender=sender)
    assert twilio.texts(twilio.sms("1", sender=sender)) == ["Your request is sent."]


@pytest.fixture
def cb_app(make_app, jobs_flows):
    return make_app(BOT_FLOWS_DIR=str(jobs_flows))


def digits_of(number: str) -> list[str]:
    """Forms a number could take in a page."""
    national = "0" + number[3:]
    return [number, number[1:], number[3:], national, "470 00 00 01", "470000001"]


def test_the_number_appears_only_after_a_claim_and_only_to_the_claimer(cb_app, redis):
    ask(cb_app)
    ana = staff_client(cb_app, redis, "ana", "counsellor")
    bob = staff_client(cb_app, redis, "bob", "counsellor")
    page = ana.get("/console/callbacks").get_data(as_text=True)
    assert "English (en)" in page and "counsellor" in page and "morning" in page
    assert not any(form in page for form in digits_of(SENDER))
    (request,) = callbacks.open_requests(redis)
    assert post(ana, f"/console/callbacks/{request.id}/claim").status_code == 302
    mine = ana.get("/console/callbacks").get_data(as_text=True)
    assert SENDER in mine and f'href="tel:{SENDER}"' in mine
    theirs = bob.get("/console/callbacks").get_data(as_text=True)
    assert not any(form in theirs for form in digits_of(SENDER))
    assert "Claimed by ana" in theirs
    # bob can neither claim it too nor close it
    post(bob, f"/console/callbacks/{request.id}/claim")
    assert callbacks.find(redis, request.id).claimed_by == "ana"
    closing = post(bob, f"/console/callbacks/{request.id}/outcome", {"outcome": "reached"})
    assert closing.status_code == 403
    entries = [(e.actor, e.action, e.detail) for e in audit.recent(redis, 1)]
    assert ("ana", "callback_claim", f"request {request.id}") in entries
    lists = [redis.lrange(k, 0, -1) for k in redis.keys(keys.audit_key("*"))]
    raw = b"".join(b"".join(items) for items in lists).decode()
    assert not any(form in raw for form in digits_of(SENDER))


def test_reached_erases_the_request_and_its_number(cb_app, redis):
    ask(cb_app)
    ana = staff_client(cb_app, redis, "ana", "counsellor")
    (request,) = callbacks.open_requests(redis)
    post(ana, f"/console/callbacks/{request.id}/claim")
    response = post(ana, f"/console/callbacks/{request.id}/outcome", {"outcome": "reached"})
    assert response.status_code == 302
    assert callbacks.open_requests(redis) == []
    assert not redis.exists(keys.callback_key(request.pseudonym))
    dump = b"".join(
        str(redis.dump(k)).encode() for k in redis.keys("*") if not k.startswith(b"rq:")
    )
    assert b"470000001" not in dump
    assert "callback_reached" in [e.action for e in audit.recent(redis, 1)]


def test_not_reached_goes_back_to_the_queue_with_one_more_try(cb_app, redis):
    ask(cb_app)
    ana = staff_client(cb_app, redis, "ana", "counsellor")
    (request,) = callbacks.open_requests(redis)
    ttl = redis.ttl(keys.callback_key(request.pseudonym))
    post(ana, f"/console/callbacks/{request.id}/claim")
    post(ana, f"/console/callbacks/{request.id}/outcome", {"outcome": "retry"})
    again = callbacks.find(redis, request.id)
    assert again.claimed_by == "" and again.attempts == 1
    assert redis.ttl(keys.callback_key(request.pseudonym)) <= ttl  # a claim never extends it
    page = ana.get("/console/callbacks").get_data(as_text=True)
    assert "Calls not reached: 1" in page and SENDER not in page
    post(ana, f"/console/callbacks/{request.id}/claim")
    post(ana, f"/console/callbacks/{request.id}/outcome", {"outcome": "give_back"})
    assert callbacks.find(redis, request.id).attempts == 1
    assert [e.action for e in audit.recent(redis, 1)][:2] == [
        "callback_give_back",
        "callback_claim",
    ]


def test_oldest_first_with_language_topic_time_and_waiting_since(cb_app, redis):
    ask(cb_app, SENDER)
    ask(cb_app, OTHER)
    older, newer = callbacks.open_requests(redis)
    redis.hset(keys.callback_key(older.pseudonym), "created", older.created - 7200)
    ana = staff_client(cb_app, redis, "ana", "counsellor")
    page = ana.get("/console/callbacks").get_data(as_text=True)
    assert page.index(f'id="cb-{older.id}"') < page.index(f'id="cb-{newer.id}"')
    assert "2 h" in page


def test_an_expired_request_leaves_the_queue(cb_app, redis):
    ask(cb_app)
    (request,) = callbacks.open_requests(redis)
    redis.delete(keys.callback_key(request.pseudonym))  # what its TTL does
    ana = staff_client(cb_app, redis, "ana", "counsellor")
    assert "No request is waiting." in ana.get("/console/callbacks").get_data(as_text=True)
    assert post(ana, f"/console/callbacks/{request.id}/claim").status_code == 404
