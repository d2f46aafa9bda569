"""Staff values still placeholders: production refuses to start, each named as file:line:col
with what to put there; development shows them to people as `[their name]`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import FAKE_STAFF, filled_flows
from bot.core.runtime import Runtime
from bot.flow.config import is_unfilled, placeholder, unfilled_staff
from bot.flow.loader import STAFF_FILE
from bot.settings import ConfigError
from bot.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FLOWS = ROOT / "flows"
SECRET = secrets.token_urlsafe(32)


def _production(flows: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TWILIO_"))}
    return {**keep, "BOT_ENV": "production", "BOT_SECRET_KEY": SECRET,
            "BOT_FLOWS_DIR": str(flows), "REDIS_URL": "redis://127.0.0.1:1/0", **extra}  # fmt: skip


def test_every_placeholder_is_named_with_where_and_what():
    found = unfilled_staff(FLOWS / STAFF_FILE)
    assert len(found) == 14
    assert found[0].endswith(
        "_staff.yaml:12:20: organisation_name: name of the organisation that runs this line"
    )
    assert any(":32:24: desk_brussels_address: street address of the Brussels" in f for f in found)


def test_the_fake_staff_file_leaves_no_placeholder(tmp_path):
    assert unfilled_staff(filled_flows(tmp_path / "flows") / STAFF_FILE) == []


def test_the_web_app_refuses_to_start_in_production():
    config = {"BOT_ENV": "production", "BOT_SECRET_KEY": SECRET, "BOT_FLOWS_DIR": str(FLOWS),
              "TWILIO_AUTH_TOKEN": "x" * 32}  # fmt: skip
    with pytest.raises(ConfigError, match=r"14 staff value\(s\) are placeholders") as info:
        create_app(config)
    assert "_staff.yaml:15:22: counsellor_whatsapp: WhatsApp or SMS number" in str(info.value)


@pytest.mark.parametrize("command", [["bot", "worker", "--burst"], ["bot", "run"]])
def test_the_worker_and_bot_run_refuse_plainly(command):
    bot = str(Path(sys.executable).parent / "bot")
    done = subprocess.run(
        [bot, *command[1:]], env=_production(FLOWS, TWILIO_AUTH_TOKEN="x"), capture_output=True,
        text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "organisation_name: name of the organisation that runs this line" in done.stderr
    assert done.stderr.count("_staff.yaml:") == 14


def test_gunicorn_refuses_before_any_worker_with_one_message():
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    done = subprocess.run(
        [gunicorn, "bot.web.app:create_app()", "--config", "python:bot.web.serving",
         "--bind", "127.0.0.1:0", "--workers", "1", "--no-control-socket"],
        env=_production(FLOWS), capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "refuses to start while 14 staff value(s) are placeholders" in done.stderr


def test_development_shows_a_bracketed_placeholder_that_reads_as_a_sentence():
    engine = Runtime.load().engine
    assert placeholder("organisation_name") == "[organisation name]"
    assert is_unfilled("[organisation name]") and not is_unfilled("Caritas Belgium")
    for lang in engine.settings.languages:
        shown = engine.preview("privacy", "full", lang)[0].text
        assert "TODO" not in shown and "organisation name" in shown, lang
    english = engine.preview("privacy", "full", "en")[0].text
    assert english.startswith("[organisation name] runs this line.")


def test_no_shipped_transcript_shows_a_todo_to_people():
    for path in (FLOWS / "transcripts").rglob("*.yaml"):
        assert "TODO" not in path.read_text(encoding="utf-8"), path


def test_the_fake_staff_file_fills_every_value_the_shipped_one_has():
    names = {f.split(": ")[1] for f in unfilled_staff(FLOWS / STAFF_FILE)}
    text = FAKE_STAFF.read_text(encoding="utf-8")
    assert len(names) == 14 and all(f"\n{name}:" in text for name in names)
