"""`bot run` helpers and `bot worker`: dev secrets, ports, production refusals, RQ."""

import os
import stat

import pytest
from click.testing import CliRunner
from rq import Queue

from bot.cli import main
from bot.cli.service import choose_port, dev_secrets, port_is_free, read_env_file, run_worker


def test_dev_secrets_are_created_once_and_private(tmp_path):
    path = tmp_path / "var" / "dev.env"
    values, created = dev_secrets(path, {})
    assert set(created) == {"BOT_SECRET_KEY", "TWILIO_AUTH_TOKEN"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_env_file(path) == values
    again, created = dev_secrets(path, {})
    assert created == []
    assert again == values


def test_environment_wins_over_dev_secrets(tmp_path):
    path = tmp_path / "dev.env"
    values, created = dev_secrets(path, {"BOT_SECRET_KEY": "from-env"})
    assert created == ["TWILIO_AUTH_TOKEN"]
    assert "BOT_SECRET_KEY" not in values


def test_read_env_file_skips_comments(tmp_path):
    path = tmp_path / "x.env"
    path.write_text("# comment\n\nA=1\nB = two=2\n")
    assert read_env_file(path) == {"A": "1", "B": "two=2"}
    assert read_env_file(tmp_path / "missing.env") == {}


def test_choose_port():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(Exception, match="already in use"):
            choose_port({"PORT": str(port)})
    assert isinstance(choose_port({}), int)


def test_production_run_needs_its_settings(monkeypatch):
    for name in ("REDIS_URL", "BOT_SECRET_KEY", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_ENV", "production")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code != 0
    assert "REDIS_URL, BOT_SECRET_KEY, TWILIO_AUTH_TOKEN" in result.output


def test_worker_runs_queued_jobs(redis):
    job = Queue("default", connection=redis).enqueue("builtins.len", "abc")
    assert run_worker(redis, burst=True) is True
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 3


def test_worker_keeps_rqs_maintenance_lines_out_of_info(redis, caplog):
    """RQ logs "cleaning registries" at INFO every 10 s here: noise an operator scrolls past."""
    import logging

    caplog.set_level(logging.INFO, logger="rq.worker")
    Queue("default", connection=redis).enqueue("builtins.len", "abc")
    assert run_worker(redis, burst=True) is True
    lines = [r.getMessage() for r in caplog.records if r.name == "rq.worker"]
    assert lines, "the worker logs its work at INFO"
    assert not [line for line in lines if "cleaning" in line]
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="rq.worker")
    Queue("default", connection=redis).enqueue("builtins.len", "abc")
    run_worker(redis, burst=True)
    assert [r for r in caplog.records if "cleaning registries" in r.getMessage()]
