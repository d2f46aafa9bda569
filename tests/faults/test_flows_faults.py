"""Issue 16 item 5: broken flow files on disk, then a gunicorn worker restart or SIGHUP."""

from __future__ import annotations

import re
import shutil
import signal
import time

from .harness import TEST_FLOWS, Sender, kill9

BROKEN = "  - id: [unclosed\n    type: message\n"
POSITION = re.compile(r"main\.yaml:\d+:\d+")


def _serve_after(harness, tmp_path, fault) -> dict:
    flows = tmp_path / "flows"
    shutil.copytree(TEST_FLOWS, flows)
    redis = harness.redis()
    web = harness.web(redis.url, BOT_FLOWS_DIR=str(flows), BOT_VAR_DIR=str(tmp_path / "var"))
    sender = Sender(web.port)
    assert sender.sms("hi", Sender.new_number()).texts
    with open(flows / "main.yaml", "a") as out:
        out.write(BROKEN)
    fault(web)
    answered = 0
    for _ in range(10):
        started = time.monotonic()
        reply = sender.sms("hi", Sender.new_number(), timeout=2)
        answered += bool(reply.ok and reply.texts and "Fault suite flow." in reply.texts[0])
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    try:
        status, body = web.get("/readyz")
    except OSError:
        status, body = 0, ""
    log = web.proc.output()
    return {
        "answered_of_10": answered,
        "master_alive": web.proc.alive(),
        "worker_failed_to_boot": "Worker failed to boot" in log,
        "error_with_file_line_col_logged": bool(POSITION.search(log)),
        "readyz": status,
        "readyz_names_the_broken_file": "main.yaml" in body,
    }


def test_worker_restart_with_broken_flows_serves_last_good_flows(harness, figures, tmp_path):
    def fault(web):
        kill9(web.workers()[0])

    result = _serve_after(harness, tmp_path, fault)
    figures(result)
    assert result["answered_of_10"] >= 9 and result["master_alive"]
    assert result["error_with_file_line_col_logged"]


def test_sighup_with_broken_flows_keeps_serving_and_reports(harness, figures, tmp_path):
    def fault(web):
        web.proc.signal(signal.SIGHUP)

    result = _serve_after(harness, tmp_path, fault)
    figures(result)
    assert result["answered_of_10"] >= 9 and result["master_alive"]
    assert result["error_with_file_line_col_logged"]
    assert result["readyz_names_the_broken_file"]
