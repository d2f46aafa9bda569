"""`bot flows reload` publishes only flows that validate; no `bot` command shows a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rq import Queue

from bot.cli import main as cli
from bot.cli.common import load_runtime
from bot.jobs.queues import QUEUE_DEFAULT, REPORT_FLOWS
from bot.settings import Settings
from bot.store import keys, published

SERVICE_FLOWS = Path(__file__).parent / "data" / "service_flows"
INDENT = "  - id: extra\n     type: message\n"


@pytest.fixture
def flows(tmp_path, monkeypatch, redis_url) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(SERVICE_FLOWS, folder)
    monkeypatch.setenv("BOT_FLOWS_DIR", str(folder))
    monkeypatch.setenv("BOT_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    return folder


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_reload_publishes_flows_that_validate_and_says_what_changed(flows, redis):
    first = _run("flows", "reload")
    assert first.exit_code == 0, first.output
    assert "published " in first.output
    version = redis.get(keys.flows_published_key())
    main = flows / "main.yaml"
    main.write_text(main.read_text().replace("Service test flow.", "Edited."))
    second = _run("flows", "reload")
    assert ": main.yaml; the service loads it within a second" in second.output
    assert redis.get(keys.flows_published_key()) != version


def test_a_failed_reload_changes_nothing_is_kept_for_readyz_and_told_to_staff(flows, redis):
    _run("flows", "reload")
    version = redis.get(keys.flows_published_key())
    with (flows / "main.yaml").open("a") as out:
        out.write(INDENT)
    result = _run("flows", "reload")
    assert result.exit_code == 1
    assert "main.yaml:" in result.output and "YAML indentation" in result.output
    assert "nothing published" in result.output and "Traceback" not in result.output
    assert redis.get(keys.flows_published_key()) == version
    assert published.failure(redis)[0].startswith(str(flows / "main.yaml"))
    jobs = Queue(QUEUE_DEFAULT, connection=redis).jobs
    assert [j.func_name for j in jobs] == [REPORT_FLOWS]


@pytest.mark.parametrize(
    "command", [["flows", "test"], ["flows", "costs"], ["chat", "--json"], ["flows", "validate"]]
)
def test_broken_flows_are_one_clear_error_not_a_traceback(flows, command):
    with (flows / "main.yaml").open("a") as out:
        out.write(INDENT)
    result = CliRunner().invoke(cli, command, input="hi\n")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "main.yaml:" in result.output


def test_a_service_starts_on_the_last_good_set_and_says_so(flows, capsys):
    config = Settings.from_environ()
    load_runtime(config=config, last_good=True)
    with (flows / "main.yaml").open("a") as out:
        out.write(INDENT)
    runtime = load_runtime(config=config, last_good=True)
    assert runtime.last_good
    err = capsys.readouterr().err
    assert "main.yaml:" in err and "starting on the last good flows, saved " in err


def test_reload_publishes_the_version_a_process_says_it_serves(flows, redis):
    result = _run("flows", "reload")
    assert result.exit_code == 0, result.output
    version, _ = published.current(redis)
    assert version == load_runtime(config=Settings.from_environ()).version
    assert f"published {version}:" in result.output


def test_status_lists_each_process_and_fails_when_one_that_looked_serves_another(flows, redis):
    assert "published: none yet" in _run("flows", "status").output
    _run("flows", "reload")
    version, _ = published.current(redis)
    published.record_serving(redis, "host-a:1", published.Serving("web", version, 1.0))
    result = _run("flows", "status")
    assert result.exit_code == 0, result.output
    assert f"web host-a:1: {version}," in result.output
    assert "serves the published version" in result.output
    assert "workers: 0 running; they hold no flows" in result.output
    published.record_serving(redis, "host-b:2", published.Serving("web", "0" * 16, 1.0, 2))
    result = _run("flows", "status")
    assert result.exit_code == 1
    assert "host-b:2: 0000000000000000" in result.output
    assert "does NOT serve the published version: 2 error(s) on its disk" in result.output
    assert "1 process(es) do not serve the published version" in result.output
    _, at = published.current(redis)
    idle = {"kind": "web", "version": "1" * 16, "loaded": at - 60, "looked": at - 5}
    redis.hset(keys.flows_serving_key(), "host-b:2", json.dumps(idle))
    result = _run("flows", "status")
    assert result.exit_code == 0, result.output
    assert "has not looked since the publish (it looks before its next request)" in result.output
