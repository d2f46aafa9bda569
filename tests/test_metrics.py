"""GET /metrics (bot.web.metrics) and the counters behind it (bot.jobs.metrics).

In these tests the counters live in this process (no PROMETHEUS_MULTIPROC_DIR): each test
compares figures before and after what it does. Across real processes:
tests/faults/test_metrics_faults.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SENDER, TwilioHelper
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs import metrics
from bot.store import keys

TOKEN = "metrics-token-0123456789"
STRONG_SECRET = "Zq8vN3kP1xR7tL0mW5yB2cH9dF4gJ6sA-strong"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of a scrape."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def scrape(client, token: str | None = TOKEN) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def value(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_app(make_app):
    return make_app(BOT_METRICS_TOKEN=TOKEN)


def test_a_token_is_needed_when_set(metrics_app):
    client = metrics_app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert basic.status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_production_refuses_metrics_without_a_token(make_app):
    app = make_app(BOT_ENV="production", BOT_SECRET_KEY=STRONG_SECRET)
    response = app.test_client().get("/metrics")
    assert response.status_code == 403
    assert "BOT_METRICS_TOKEN" in response.get_data(as_text=True)
    with_token = make_app(BOT_ENV="production", BOT_SECRET_KEY=STRONG_SECRET,
                          BOT_METRICS_TOKEN=TOKEN)  # fmt: skip
    assert scrape(with_token.test_client())


def test_development_serves_metrics_without_a_token(app):
    assert app.test_client().get("/metrics").status_code == 200


def test_messages_are_counted_by_channel_with_their_segments(metrics_app):
    client = metrics_app.test_client()
    twilio = TwilioHelper(client)
    before = scrape(client)
    for _ in range(3):
        assert twilio.sms("hello").status_code == 200
    for _ in range(2):
        assert twilio.whatsapp("hello", sender="+32470000002").status_code == 200
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("bot_inbound_messages_total", channel="sms") == 3
    assert delta("bot_inbound_messages_total", channel="whatsapp") == 2
    assert delta("bot_outbound_segments_total", channel="sms") >= 3
    assert delta("bot_outbound_segments_total", channel="whatsapp") >= 2
    assert delta("bot_webhook_duration_seconds_count") == 5
    # the segments counted equal what the daily budget counted in Redis
    assert value(after, "bot_budget_spent_segments") == delta(
        "bot_outbound_segments_total", channel="sms"
    ) + delta("bot_outbound_segments_total", channel="whatsapp")


def test_refusals_are_counted_by_reason(make_app):
    app = make_app(BOT_METRICS_TOKEN=TOKEN, BOT_RATE_LIMIT=2, BOT_LOOP_STREAK=0)
    client = app.test_client()
    twilio = TwilioHelper(client)
    before = scrape(client)
    for n in range(5):
        twilio.sms(f"message {n}")
    after = scrape(client)
    notice = ("bot_refused_messages_total", (("reason", "rate_notice"),))
    silent = ("bot_refused_messages_total", (("reason", "rate_silent"),))
    assert after.get(notice, 0) - before.get(notice, 0) == 1
    assert after.get(silent, 0) - before.get(silent, 0) == 2


def test_figures_from_redis(metrics_app, redis):
    from rq import Queue

    Queue("replies", connection=redis).enqueue("bot.jobs.tasks.deliver_callback", "x")
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    redis.hset(keys.budget_key(today), "segments", 17)
    figures = scrape(metrics_app.test_client())
    assert value(figures, "bot_redis_up") == 1
    assert value(figures, "bot_queue_depth", queue="replies") == 1
    assert value(figures, "bot_queue_depth", queue="default") == 0
    assert value(figures, "bot_workers") == 0
    assert value(figures, "bot_budget_spent_segments") == 17
    assert value(figures, "bot_budget_limit_segments") == 2000


def test_redis_down_is_a_figure_not_an_error(make_app):
    app = make_app(BOT_METRICS_TOKEN=TOKEN, REDIS_URL="redis://127.0.0.1:1/0")
    figures = scrape(app.test_client())
    assert value(figures, "bot_redis_up") == 0
    assert ("bot_queue_depth", (("queue", "replies"),)) not in figures


def test_no_label_carries_a_number_or_a_pseudonym(metrics_app, redis):
    client = metrics_app.test_client()
    twilio = TwilioHelper(client)
    twilio.sms("hello +32470123456")
    twilio.whatsapp("hello", sender="+32470000003")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    pseudonyms = [k.decode().split("{")[1].rstrip("}") for k in redis.keys("bot:s:*")]
    assert pseudonyms
    for secret in [SENDER, SENDER.lstrip("+"), "32470123456", "32470000003", *pseudonyms]:
        assert secret not in text
    labels = {pair for _name, pairs in samples(text) for pair in pairs}
    assert {value for key, value in labels if key == "channel"} <= {"sms", "whatsapp", "other"}


def test_channel_labels_are_a_fixed_vocabulary():
    assert metrics.channel_label("sms") == "sms"
    assert metrics.channel_label("whatsapp") == "whatsapp"
    assert metrics.channel_label("+32470000001") == "other"


def test_a_job_is_counted_done_or_failed():
    @metrics.counted_job("test_job")
    def ok() -> str:
        return "fine"

    @metrics.counted_job("test_job")
    def broken() -> str:
        raise RuntimeError("no")

    def count(outcome):
        return metrics.JOBS.labels("test_job", outcome)._value.get()

    done, failed = count("done"), count("failed")
    assert ok() == "fine"
    with pytest.raises(RuntimeError):
        broken()
    assert (count("done") - done, count("failed") - failed) == (1, 1)
