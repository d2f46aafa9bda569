"""Jobs queued before the package layout still run: bot.jobs.compat, with a real worker.

RQ stores a job's function as a dotted path; a reminder may wait 14 days. Each path the
old flat modules ever queued (`bot.jobs.send_reply`, `bot.jobs.send_reminder`,
`bot.jobs.deliver_callback`) is queued here as a string, as the old code left it in
Redis, and run by `bot worker --burst` in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SENDER, TEST_AUTH_TOKEN, TEST_SECRET
from rq import Queue
from rq.job import Job, JobStatus

from bot.channels.message import Outgoing, dump_messages
from bot.jobs import callbacks, compat, queues
from bot.store.pseudonym import pseudonym

P = pseudonym(TEST_SECRET, "sms", SENDER)

FROM = "+15005550006"
BOT = Path(sys.executable).parent / "bot"


def run_worker_process(redis_url: str, fake) -> None:
    """`bot worker --burst`: the real command, in its own process, until the queues are empty."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": fake.ACCOUNT,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "BOT_TWILIO_API_URL": fake.url,
        "BOT_SECRET_KEY": TEST_SECRET,
        "BOT_STAFF_WEBHOOK_URL": fake.url + "/staff",
    }
    done = subprocess.run(
        [str(BOT), "worker", "--burst"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_old_path_names_a_job_function_of_today():
    for name, module in compat.OLD_PATHS.items():
        assert callable(compat.resolve(name)), name
        assert module == "bot.jobs.tasks"
    with pytest.raises(AttributeError):
        compat.resolve("no_such_job")


@pytest.mark.parametrize("old_path", sorted(f"bot.jobs.{name}" for name in compat.OLD_PATHS))
def test_a_job_queued_under_an_old_path_runs_in_a_real_worker(
    old_path, redis, redis_url, fake_twilio
):
    messages = dump_messages([Outgoing(body="queued before the layout")])
    if old_path.endswith("send_reply"):
        args = (P, SENDER, FROM, messages, "SMold", "")
        queue = queues.QUEUE_REPLIES
    elif old_path.endswith("send_reminder"):
        args = (P, f"remind-{P}-old", SENDER, FROM, messages, "")
        queue = queues.QUEUE_DEFAULT
    else:
        callbacks.open_request(redis, P, SENDER, "sms", "en", "counsellor", "morning", 3600)
        args = (P,)
        queue = queues.QUEUE_DEFAULT
    job = Queue(queue, connection=redis).enqueue(old_path, *args, description="old")
    assert redis.hget(job.key, "data")  # stored as the old code stored it: by dotted path
    run_worker_process(redis_url, fake_twilio)
    job = Job.fetch(job.id, connection=redis)
    assert job.get_status() == JobStatus.FINISHED, job.exc_info
    if old_path.endswith("deliver_callback"):
        assert len(fake_twilio.staff) == 1
    else:
        assert fake_twilio.bodies == ["queued before the layout"]


# --- state written by the code before the layout ----------------------------------------

BEFORE = Path(__file__).parent / "data" / "state_before_layout.json"
SHIPPED_FLOWS = Path(__file__).resolve().parent.parent / "flows"


def _restore(redis, keys: dict) -> None:
    for name, entry in keys.items():
        if entry["type"] == "string":
            redis.set(name, entry["value"], ex=3600)
        elif entry["type"] == "list":
            redis.rpush(name, *entry["value"])
            redis.expire(name, 3600)
        else:
            redis.hset(name, mapping=entry["value"])
            redis.expire(name, 3600)


def test_a_conversation_saved_before_the_layout_goes_on_where_it_was(make_app, redis):
    from conftest import TwilioHelper

    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    assert f"bot:s:{{{P}}}" in before["keys"]  # the key names did not change
    app = make_app(BOT_FLOWS_DIR=str(SHIPPED_FLOWS))
    twilio = TwilioHelper(app.test_client())
    for text in before["sent"]:  # today's code, from the start
        twilio.sms(text)
    today = twilio.texts(twilio.sms("1"))
    redis.flushdb()
    _restore(redis, before["keys"])  # the old code's state, then the same next message
    old = twilio.texts(twilio.sms("1"))
    assert old == today
    assert old and "did not understand" not in " ".join(old)
