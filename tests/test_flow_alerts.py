"""Refused flows reach staff on the channels of callback requests, signed, with no person."""

from __future__ import annotations

import hashlib
import hmac
import json

from bot.jobs import callbacks, flow_alerts, queues

LINES = ["flows/faq.yaml:12:5: error: YAML indentation: this line is not indented like ..."]


def test_the_report_reaches_the_staff_webhook_signed(redis, run_jobs, worker_env, monkeypatch):
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_URL", worker_env.url + "/staff")
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_SECRET", "staff-secret")
    queues.enqueue_flows_report(redis, LINES, "the last good flows")
    run_jobs()
    [post] = worker_env.staff
    doc = json.loads(post.raw)
    assert doc == {"type": "flows_failed", "serving": "the last good flows", "problems": LINES}
    expected = hmac.new(b"staff-secret", post.raw, hashlib.sha256).hexdigest()
    assert post.headers[callbacks.SIGNATURE_HEADER] == f"sha256={expected}"


def test_a_failing_staff_webhook_is_retried(redis, run_jobs, worker_env, monkeypatch):
    monkeypatch.setenv("BOT_STAFF_WEBHOOK_URL", worker_env.url + "/staff")
    worker_env.staff_script = [503]
    queues.enqueue_flows_report(redis, LINES, "the flows it had")
    run_jobs()
    assert len(worker_env.staff) == 2


def test_without_a_staff_channel_it_is_only_logged(monkeypatch):
    from bot.settings import Settings

    assert flow_alerts.report(Settings(), LINES, "x") == "logged only: no staff channel"


def test_a_long_list_is_cut_and_counted():
    lines = [f"f.yaml:{n}:1: error: e" for n in range(1, 80)]
    short = flow_alerts.summary(lines)
    assert len(short) == flow_alerts.MAX_LINES + 1
    assert short[-1] == f"... and {79 - flow_alerts.MAX_LINES} more"
