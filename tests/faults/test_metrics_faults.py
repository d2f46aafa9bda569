"""Issue 21: /metrics of a running `bot run` is whole across its processes.

`bot run` starts gunicorn (two worker processes) and the RQ worker, all writing their
figures into the metrics folder it set up (PROMETHEUS_MULTIPROC_DIR). Whichever gunicorn
worker answers a scrape, the sum over labels must equal the messages sent, every time it
is read; the worker's jobs are counted too, and its work horses share one set of files.
"""

from __future__ import annotations

import http.client
import json
import time

from prometheus_client.parser import text_string_to_metric_families

from .harness import Sender, wait_for

TOKEN = "faults-metrics-token-0123456789"
SMS, WHATSAPP = 12, 8
LONG_REPLIES = 4


def scrape(port: int, token: str | None = TOKEN) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", "/metrics", headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def total(text: str, name: str, **labels: str) -> float:
    """The sum of `name` over every sample whose labels include `labels`."""
    out = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                out += sample.value
    return out


def test_metrics_add_up_across_processes(harness, figures, tmp_path):
    fake = harness.fake_twilio()
    run = harness.bot_run(
        tmp_path / "var", BOT_METRICS_TOKEN=TOKEN, BOT_PARTS_DELAY="0", BOT_LOG_FORMAT="json",
        BOT_NEW_PER_MINUTE="0",  # 26 new senders in a minute: the brake (issue 17) stays out
        **harness.twilio_env(fake),
    )  # fmt: skip
    port = run.port
    assert scrape(port, None)[0] == 401
    assert scrape(port, "wrong")[0] == 401
    sender = Sender(port)
    sent = 0
    reads = []
    for n in range(SMS):
        assert sender.sms(f"hello {n}", Sender.new_number()).ok
        sent += 1
        if n % 4 == 3:
            status, text = scrape(port)
            assert status == 200
            reads.append((sent, total(text, "bot_inbound_messages_total")))
    for _ in range(WHATSAPP):
        number = Sender.new_number()
        form = sender.form("hello", f"whatsapp:{number}")
        form.update(To="whatsapp:+15005550006", WaId=number.lstrip("+"))
        assert sender.post(form).ok
        sent += 1
    for _ in range(LONG_REPLIES):  # menu option 1: a reply too long for the TwiML answer
        number = Sender.new_number()
        assert sender.sms("hi", number).ok
        assert sender.sms("1", number).ok
        sent += 2
    jobs_seen, waited = wait_for(
        lambda: total(scrape(port)[1], "bot_jobs_total", job="send_reply") >= LONG_REPLIES, 30
    )
    texts = []
    for _ in range(6):  # several reads, answered by either gunicorn worker
        status, text = scrape(port)
        assert status == 200
        texts.append(text)
        time.sleep(0.1)
    counts = [total(t, "bot_inbound_messages_total") for t in texts]
    by_channel = [
        (total(t, "bot_inbound_messages_total", channel="sms"),
         total(t, "bot_inbound_messages_total", channel="whatsapp"))
        for t in texts
    ]  # fmt: skip
    files = sorted(p.name for p in (run.var_dir / "metrics").glob("*.db"))
    figures(
        {
            "messages_sent": sent,
            "inbound_total_each_read": counts,
            "reads_while_sending": reads,
            "send_reply_jobs_counted": total(texts[-1], "bot_jobs_total", job="send_reply"),
            "seconds_until_jobs_counted": round(waited, 2),
            "metric_files": files,
        }
    )
    assert all(count == sent for count in counts), counts
    assert all(seen == got for seen, got in reads), reads
    assert by_channel[-1] == (SMS + 2 * LONG_REPLIES, WHATSAPP)
    assert jobs_seen, "the worker's send_reply jobs were not counted in /metrics"
    assert total(texts[-1], "bot_jobs_total", job="send_reply", outcome="failed") == 0
    assert total(texts[-1], "bot_workers") == 1
    assert total(texts[-1], "bot_redis_up") == 1
    # the worker's horses share one set of files: not one per job
    horse_files = [f for f in files if "horses-of-" in f]
    assert horse_files and len(horse_files) <= 2, files
    assert len(files) <= 12, files
    # BOT_LOG_FORMAT=json: the webhook's line and its job's lines share a request id
    lines = json_lines(run.proc.output())
    queued = {
        x["request_id"] for name, x in lines if name.startswith("web") and "queued" in x["message"]
    }
    in_jobs = {
        x["request_id"] for name, x in lines if name.startswith("worker") and x["request_id"]
    }
    assert len(queued) == LONG_REPLIES and queued <= in_jobs, (queued, in_jobs)


def json_lines(output: str) -> list[tuple[str, dict]]:
    """(process, JSON object) of each JSON log line `bot run`'s children wrote.

    The supervisor passes the children's output through unprefixed, so the process is
    told by the logger: the web's loggers are `bot.web.*`, everything else is the worker's.
    """
    out = []
    for line in output.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except ValueError:
            continue
        if not isinstance(record, dict) or "message" not in record:
            continue
        name = str(record.get("name") or record.get("logger") or "")
        out.append(("web" if name.startswith("bot.web") else "worker", record))
    return out
