"""Reminders with a real RQ worker and scheduler, a real Redis and the local fake Twilio API.

Scheduled by a flow's `remind` action, fired when due, cancelled by STOP and FORGET, and
checked again at send time: STOP, WhatsApp's 24-hour window, the daily budget.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from conftest import SENDER, TEST_SECRET, TwilioHelper
from rq import Queue
from rq.job import Job, JobStatus

from bot.core.state import State
from bot.jobs import queues as jobs
from bot.jobs import reminders
from bot.store import keys, prefs
from bot.store.pseudonym import pseudonym

P = pseudonym(TEST_SECRET, "sms", SENDER)
FROM = "+15005550006"
REMINDER = "Reminder: your appointment is today."
MENU = "Pick one:\n1. Remind me\n2. Call me back"


def registry(redis):
    return Queue(jobs.QUEUE_DEFAULT, connection=redis).scheduled_job_registry


def make_due(redis, job_id: str) -> None:
    """What the passing of three days does: the job's time is now past."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    registry(redis).schedule(Job.fetch(job_id, connection=redis), past)


def reminders_sent(fake) -> list[dict]:
    return [m for m in fake.messages if m.get("Body") == REMINDER]


def ask_for_a_reminder(app) -> TwilioHelper:
    twilio = TwilioHelper(app.test_client())
    twilio.sms("hi")
    texts = twilio.texts(twilio.sms("1"))  # "Remind me"
    assert texts == ["I will remind you in 3 days.\n\n" + MENU]
    return twilio


def test_a_flow_schedules_its_reminder_in_three_days(jobs_app, redis):
    ask_for_a_reminder(jobs_app)
    [job_id] = reminders.pending(redis, P)
    assert job_id.startswith(f"remind-{P}-")
    when = registry(redis).get_scheduled_time(Job.fetch(job_id, connection=redis))
    due = time.time() + 3 * 86400
    assert abs(when.timestamp() - due) < 60
    job = Job.fetch(job_id, connection=redis)
    assert job.failure_ttl == jobs.FAILURE_TTL and job.result_ttl == jobs.RESULT_TTL
    assert 3 * 86400 < redis.ttl(job.key) <= 3 * 86400 + reminders.KEEP_AFTER_DUE
    assert 3 * 86400 < redis.ttl(keys.reminders_key(P)) <= 3 * 86400 + reminders.KEEP_AFTER_DUE


def test_the_reminder_fires_when_due(jobs_app, redis, run_jobs, worker_env):
    ask_for_a_reminder(jobs_app)
    run_jobs()
    assert reminders_sent(worker_env) == []  # three days have not passed
    [job_id] = reminders.pending(redis, P)
    make_due(redis, job_id)
    run_jobs()
    [sent] = reminders_sent(worker_env)
    assert sent["To"] == SENDER and sent["From"] == FROM
    assert sent["StatusCallback"] == "https://bot.example.org/webhooks/twilio/status"
    assert reminders.pending(redis, P) == []
    assert Job.fetch(job_id, connection=redis).get_status() == JobStatus.FINISHED
    run_jobs()
    assert len(reminders_sent(worker_env)) == 1


@pytest.mark.parametrize("words", [["STOP"], ["FORGET", "yes"]])
def test_stop_and_forget_cancel_the_reminder(jobs_app, redis, run_jobs, worker_env, words):
    twilio = ask_for_a_reminder(jobs_app)
    [job_id] = reminders.pending(redis, P)
    for word in words:
        twilio.sms(word)
    assert reminders.pending(redis, P) == []
    assert not Job.exists(job_id, connection=redis)
    assert registry(redis).get_job_ids() == []
    run_jobs()
    assert reminders_sent(worker_env) == []


def test_a_stop_recorded_after_scheduling_is_checked_at_send_time(redis, run_jobs, worker_env):
    job_id = reminders.schedule(redis, P, SENDER, FROM, [REMINDER], 3600)
    _position, kept = prefs.split(State(opted_out=True))
    redis.set(keys.prefs_key(P), kept)
    make_due(redis, job_id)
    run_jobs()
    assert reminders_sent(worker_env) == []
    assert "STOP" in Job.fetch(job_id, connection=redis).return_value()


def heard(redis, name: str, seconds_ago: float) -> None:
    redis.set(keys.state_key(name), State(seen=int(time.time() - seconds_ago)).to_json())


@pytest.mark.parametrize("ago,sent", [(3600, 1), (25 * 3600, 0)])
def test_whatsapp_reminders_respect_the_24_hour_window(redis, run_jobs, worker_env, ago, sent):
    name = pseudonym(TEST_SECRET, "whatsapp", SENDER)
    heard(redis, name, ago)
    job_id = reminders.schedule(redis, name, "whatsapp:" + SENDER, "whatsapp:" + FROM,
                                [REMINDER], 60)  # fmt: skip
    make_due(redis, job_id)
    run_jobs()
    assert len(reminders_sent(worker_env)) == sent
    if not sent:
        assert "window" in Job.fetch(job_id, connection=redis).return_value()


def test_past_the_daily_budget_a_reminder_waits_for_the_next_day(
    redis, run_jobs, worker_env, monkeypatch
):
    monkeypatch.setenv("BOT_DAILY_SEGMENTS", "5")
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    redis.hset(keys.budget_key(today), "segments", 5)
    job_id = reminders.schedule(redis, P, SENDER, FROM, [REMINDER], 60)
    make_due(redis, job_id)
    run_jobs()
    assert reminders_sent(worker_env) == []
    [later] = reminders.pending(redis, P)
    when = registry(redis).get_scheduled_time(Job.fetch(later, connection=redis))
    assert when == reminders.next_send_time(dt.datetime.now(dt.UTC))


def test_a_retried_reminder_spends_the_budget_once(redis, run_jobs, worker_env):
    worker_env.script("500")
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    job_id = reminders.schedule(redis, P, SENDER, FROM, [REMINDER], 60)
    make_due(redis, job_id)
    run_jobs()
    assert len(reminders_sent(worker_env)) == 2  # a 500, then sent
    assert int(redis.hget(keys.budget_key(today), "segments")) == 1


def test_next_send_time_is_tomorrow_morning_utc():
    now = dt.datetime(2025, 3, 1, 22, 30, tzinfo=dt.UTC)
    assert reminders.next_send_time(now) == dt.datetime(2025, 3, 2, 8, 0, tzinfo=dt.UTC)


def test_a_later_reminder_keeps_the_record_alive(redis):
    reminders.schedule(redis, P, SENDER, FROM, ["a"], 10 * 86400)
    reminders.schedule(redis, P, SENDER, FROM, ["b"], 60)
    assert redis.ttl(keys.reminders_key(P)) > 10 * 86400
    assert len(reminders.pending(redis, P)) == 2
    assert reminders.cancel_all(redis, P) == 2
    assert not redis.exists(keys.reminders_key(P))
