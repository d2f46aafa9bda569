"""A running web app picks up published flows, refuses broken ones, and says so."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from conftest import TwilioHelper
from rq import Queue

from bot.jobs.queues import QUEUE_DEFAULT, REPORT_FLOWS
from bot.store import published
from bot.web import publishing

SERVICE_FLOWS = Path(__file__).parent / "data" / "service_flows"
BROKEN = "  - id: [unclosed\n    type: message\n"


@pytest.fixture
def flows(tmp_path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(SERVICE_FLOWS, folder)
    return folder


_numbers = itertools.count(1)


def _reply(client) -> str:
    """The first reply to "hi" from a new person (each call a new number)."""
    helper = TwilioHelper(client)
    texts = helper.texts(helper.sms("hi", sender=f"+3247100{next(_numbers):04d}"))
    return texts[0].splitlines()[1]


def _queued_reports(redis) -> list:
    return [j for j in Queue(QUEUE_DEFAULT, connection=redis).jobs if j.func_name == REPORT_FLOWS]


def test_a_published_edit_is_served_and_a_broken_one_is_refused_and_shown(
    make_app, flows, redis, monkeypatch
):
    monkeypatch.setattr(published, "CHECK_EVERY", 0.0)
    app = make_app(BOT_FLOWS_DIR=str(flows))
    client = app.test_client()
    assert _reply(client) == "Service test flow."
    text = (flows / "main.yaml").read_text()
    (flows / "main.yaml").write_text(text.replace("Service test flow.", "Edited flow."))
    published.publish(redis, "v2")
    assert _reply(client) == "Edited flow."
    (flows / "main.yaml").write_text(text + BROKEN)
    published.publish(redis, "v3")
    assert _reply(client) == "Edited flow."
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert "main.yaml:" in ready.get_data(as_text=True)
    assert len(_queued_reports(redis)) == 1


def test_an_app_started_on_broken_flows_serves_the_last_good_set(make_app, flows, redis, caplog):
    make_app(BOT_FLOWS_DIR=str(flows))  # validates: kept as the last good set
    with (flows / "main.yaml").open("a") as out:
        out.write(BROKEN)
    app = make_app(BOT_FLOWS_DIR=str(flows))
    client = app.test_client()
    assert _reply(client) == "Service test flow."
    body = client.get("/readyz").get_data(as_text=True)
    assert body.startswith("ready\nserving the last good flows")
    assert "main.yaml:" in body
    assert any("main.yaml:" in r.getMessage() for r in caplog.records)
    [job] = _queued_reports(redis)
    assert all("main.yaml:" in line for line in job.args[0])
    make_app(BOT_FLOWS_DIR=str(flows))  # a second worker with the same errors
    assert len(_queued_reports(redis)) == 1, "staff are told once, not by every process"


def test_a_failed_bot_flows_reload_is_visible_in_readyz(make_app, redis):
    app = make_app()
    published.record_failure(redis, ["main.yaml:9:3: error: YAML syntax: boom"])
    body = app.test_client().get("/readyz").get_data(as_text=True)
    assert "the last `bot flows reload` was refused" in body
    assert "main.yaml:9:3" in body


def test_serving_says_which_set_answers(make_app):
    app = make_app()
    runtime = app.extensions["bot"].runtime
    assert publishing.serving(runtime) == "the flows on disk"


def test_readyz_names_the_version_served_and_published_and_why_they_differ(
    make_app, flows, redis, monkeypatch
):
    monkeypatch.setattr(published, "CHECK_EVERY", 0.0)
    app = make_app(BOT_FLOWS_DIR=str(flows))
    client = app.test_client()
    runtime = app.extensions["bot"].runtime
    served = runtime.version
    assert len(served) == 16
    published.publish(redis, served)
    body = client.get("/readyz").get_data(as_text=True)
    assert f"flows: serving version {served}, published version {served}\n" in body
    assert "does not serve" not in body
    [mine] = published.processes(redis).values()
    assert (mine.kind, mine.version, mine.refused) == ("web", served, 0)
    published.publish(redis, "f" * 16)  # published from a host whose files differ
    body = client.get("/readyz").get_data(as_text=True)
    assert f"serving version {served}, published version {'f' * 16}" in body
    assert "the flows on this host's disk differ from those published" in body
    with (flows / "main.yaml").open("a") as out:
        out.write(BROKEN)
    published.publish(redis, "e" * 16)
    body = client.get("/readyz").get_data(as_text=True)
    assert "does not serve the published version: the flows on this host's disk have errors" in (
        body
    )
    assert runtime.version == served
    [mine] = published.processes(redis).values()
    assert mine.version == served and mine.refused == 1


def test_with_a_queue_redis_the_flows_report_goes_where_the_worker_listens(
    make_app, flows, redis, redis_url
):
    """REDIS_QUEUE_URL: the alert is remembered on the state Redis, the job on the queue's."""
    import redis as redis_lib

    queue_url = redis_url.rsplit("/", 1)[0] + "/1"  # another database: another Redis here
    queue_redis = redis_lib.Redis.from_url(queue_url)
    queue_redis.flushdb()
    make_app(BOT_FLOWS_DIR=str(flows))  # the last good set
    with (flows / "main.yaml").open("a") as out:
        out.write(BROKEN)
    try:
        make_app(BOT_FLOWS_DIR=str(flows), REDIS_QUEUE_URL=queue_url)
        assert _queued_reports(redis) == []
        [job] = _queued_reports(queue_redis)
        assert all("main.yaml:" in line for line in job.args[0])
    finally:
        queue_redis.flushdb()
