"""bot.jobs.tasks with a real RQ worker, a real Redis and the local fake Twilio API.

Multi-part replies (first part in TwiML, the rest in order from the worker), retries on
500 and 429, none on 21610, no duplicate after a worker crash between the send and RQ's
acknowledgement, failed jobs kept a day at most, FORGET deleting a person's jobs.
"""

from __future__ import annotations

import os
import time

from conftest import LONG_TEXT, SENDER, TEST_SECRET, TwilioHelper
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus

from bot.channels.message import Outgoing
from bot.jobs import queues as jobs
from bot.jobs import tasks
from bot.store import keys
from bot.store.pseudonym import pseudonym

P = pseudonym(TEST_SECRET, "sms", SENDER)
FROM = "+15005550006"
STATUS = "https://bot.example.org/webhooks/twilio/status"


def enqueue(redis, bodies, key="SMabc"):
    messages = [Outgoing(body=b) for b in bodies]
    return jobs.enqueue_reply(redis, P, SENDER, FROM, messages, key, STATUS)


def words(texts):
    return " ".join(texts).split()


# --- multi-part replies through the webhook -------------------------------------------


def test_a_long_reply_goes_first_part_in_twiml_the_rest_in_order(
    jobs_app, redis, run_jobs, worker_env
):
    twilio = TwilioHelper(jobs_app.test_client())
    [first] = twilio.texts(twilio.sms("hi"))
    assert first.startswith("I will write in English")
    assert worker_env.messages == []  # nothing leaves before the worker runs
    assert run_jobs() is True
    sent = worker_env.bodies
    assert len(sent) == 3  # two more parts of the long text, then the menu
    assert sent[-1].startswith("Pick one:")
    assert words([first, *sent[:-1]])[-len(LONG_TEXT.split()) :] == LONG_TEXT.split()
    assert sent[0].startswith("Sentence") and sent[1].startswith("Sentence")


def test_parts_are_split_within_the_segment_budget_and_sent_with_a_status_callback(
    jobs_app, redis, run_jobs, worker_env
):
    from bot.text.segments import analyse

    twilio = TwilioHelper(jobs_app.test_client())
    [first] = twilio.texts(twilio.sms("hi"))
    run_jobs()
    forms = worker_env.messages
    for text in [first, *(f["Body"] for f in forms)]:
        assert analyse(text).segments <= 3
    assert {f["To"] for f in forms} == {SENDER}
    assert {f["From"] for f in forms} == {"+15005550006"}
    assert {f["StatusCallback"] for f in forms} == {STATUS}


def test_a_twilio_retry_of_the_webhook_sends_nothing_twice(jobs_app, redis, run_jobs, worker_env):
    twilio = TwilioHelper(jobs_app.test_client())
    sid = "SM" + "e" * 32
    first = twilio.sms("hi", sid=sid)
    again = twilio.sms("hi", sid=sid)
    assert twilio.texts(first) == twilio.texts(again) and len(twilio.texts(again)) == 1
    run_jobs()
    assert len(worker_env.messages) == 3
    twilio.sms("hi", sid=sid)  # a third delivery after the worker ran
    run_jobs()
    assert len(worker_env.messages) == 3


def test_a_short_reply_needs_no_job(jobs_app, redis, worker_env):
    twilio = TwilioHelper(jobs_app.test_client())
    twilio.sms("hi")
    queue = Queue(jobs.QUEUE_REPLIES, connection=redis)
    queue.empty()
    assert twilio.texts(twilio.sms("1")) != []  # "Remind me": two short replies
    assert len(queue) <= 1


def test_parts_wait_for_the_twiml_answer(make_app, jobs_flows, worker_env, redis, run_jobs):
    app = make_app(
        BOT_FLOWS_DIR=str(jobs_flows), TWILIO_ACCOUNT_SID=worker_env.ACCOUNT, BOT_PARTS_DELAY=30
    )
    TwilioHelper(app.test_client()).sms("hi")
    registry = Queue(jobs.QUEUE_REPLIES, connection=redis).scheduled_job_registry
    [job_id] = registry.get_job_ids()
    assert P not in job_id and "SM" not in job_id  # random: names neither person nor message
    assert redis.smembers(keys.reply_jobs_key(P)) == {job_id.encode()}  # FORGET finds it
    run_jobs()
    assert worker_env.messages == []  # not due yet


def test_without_an_account_sid_everything_stays_in_twiml(make_app, jobs_flows, redis):
    app = make_app(BOT_FLOWS_DIR=str(jobs_flows))
    twilio = TwilioHelper(app.test_client())
    texts = twilio.texts(twilio.sms("hi"))
    assert len(texts) == 2 and LONG_TEXT in texts[0]
    assert len(Queue(jobs.QUEUE_REPLIES, connection=redis)) == 0


# --- retries --------------------------------------------------------------------------


def test_500_and_429_are_retried_and_the_order_kept(redis, worker_env, run_jobs):
    worker_env.script("500", "429")
    job = enqueue(redis, ["part 2", "part 3"])
    run_jobs()
    assert worker_env.bodies == ["part 2", "part 2", "part 2", "part 3"]
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == "sent 2"
    recorded = redis.hgetall(keys.outbox_key(P))
    assert recorded[b"SMabc.1"].startswith(b"SM") and recorded[b"SMabc.2"].startswith(b"SM")


def test_21610_is_not_retried_and_later_parts_are_not_sent(redis, worker_env, run_jobs):
    worker_env.script("21610")
    job = enqueue(redis, ["part 2", "part 3"])
    run_jobs()
    assert worker_env.bodies == ["part 2"]
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED  # ended on purpose: nothing to retry
    assert "error 21610" in job.return_value()
    run_jobs()
    assert len(worker_env.messages) == 1


def test_a_job_failing_after_its_retries_is_kept_one_day_at_most(redis, worker_env, run_jobs):
    worker_env.script(*["500"] * (len(jobs.SEND_BACKOFF) + 1))
    job = enqueue(redis, ["part 2"])
    run_jobs()
    assert len(worker_env.messages) == len(jobs.SEND_BACKOFF) + 1
    job.refresh()
    assert job.get_status() == JobStatus.FAILED
    assert 0 < redis.ttl(job.key) <= jobs.FAILURE_TTL
    registry = Queue(jobs.QUEUE_REPLIES, connection=redis).failed_job_registry
    expires = registry.get_expiration_time(job)
    assert expires.timestamp() <= time.time() + jobs.FAILURE_TTL + 5


def test_every_reply_job_has_short_ttls_and_the_real_backoff(redis):
    job = enqueue(redis, ["x"])
    assert job.result_ttl == jobs.RESULT_TTL and job.failure_ttl == jobs.FAILURE_TTL
    assert job.ttl == jobs.REPLY_TTL
    assert job.retries_left == len(jobs.SEND_BACKOFF)
    assert job.retry_intervals == list(jobs.SEND_BACKOFF)
    assert list(jobs.SEND_BACKOFF) == sorted(jobs.SEND_BACKOFF)  # backing off, not hammering
    assert 0 < redis.ttl(job.key) <= jobs.REPLY_TTL
    assert redis.hget(job.key, "description") == b"send_reply"  # no number in clear text


# --- a worker crash between the send and the acknowledgement --------------------------


def send_then_die(*args):
    """send_reply, then the work horse dies before RQ records the result: a crash."""
    result = tasks.send_reply(*args)
    if get_current_job().connection.set("test:crashed", 1, nx=True):
        os._exit(1)
    return result


def test_no_duplicate_after_a_crash_between_send_and_acknowledgement(redis, worker_env, run_jobs):
    from bot.channels.message import dump_messages

    messages = dump_messages([Outgoing(body="part 2"), Outgoing(body="part 3")])
    job = Queue(jobs.QUEUE_REPLIES, connection=redis).enqueue(
        send_then_die, P, SENDER, FROM, messages, "SMcrash", STATUS,
        retry=Retry(max=2), result_ttl=jobs.RESULT_TTL, failure_ttl=jobs.FAILURE_TTL,
    )  # fmt: skip
    run_jobs(forking=True)
    assert redis.get("test:crashed") == b"1"  # the first run did die
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED  # the retry ran to the end
    assert worker_env.bodies == ["part 2", "part 3"]  # and sent nothing again


# --- FORGET ---------------------------------------------------------------------------


def test_forget_jobs_deletes_this_persons_jobs_only(redis, worker_env, run_jobs):
    other = pseudonym(TEST_SECRET, "sms", "+32470000009")
    worker_env.script(*["500"] * 10)
    failing = enqueue(redis, ["z"], key="SM3")
    run_jobs()
    assert failing.get_status(refresh=True) == JobStatus.FAILED
    mine = enqueue(redis, ["x"], key="SM1")
    theirs = jobs.enqueue_reply(redis, other, "+32470000009", FROM, [Outgoing("y")], "SM2")
    assert jobs.forget_jobs(redis, P) == 2
    assert not Job.exists(mine.id, connection=redis)
    assert not Job.exists(failing.id, connection=redis)
    assert Job.exists(theirs.id, connection=redis)


def test_the_worker_listens_on_every_queue(redis, worker_env):
    from bot.cli.service import run_worker

    enqueue(redis, ["x"])
    Queue(jobs.QUEUE_DEFAULT, connection=redis).enqueue("builtins.len", "abc")
    assert run_worker(redis, burst=True) is True
    assert worker_env.bodies == ["x"]
    assert len(Queue(jobs.QUEUE_DEFAULT, connection=redis)) == 0
