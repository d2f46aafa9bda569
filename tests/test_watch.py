"""`bot run`'s watcher: a save in flows/ or locales/ is published if it validates."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bot.cli import watch
from bot.settings import Settings
from bot.store import keys, published

SERVICE_FLOWS = Path(__file__).parent / "data" / "service_flows"


@pytest.fixture
def setup(tmp_path, redis, redis_url):
    flows = tmp_path / "flows"
    shutil.copytree(SERVICE_FLOWS, flows)
    locales = tmp_path / "locales"
    locales.mkdir()
    config = Settings.from_environ(
        overrides={
            "BOT_FLOWS_DIR": str(flows),
            "BOT_LOCALES_DIR": str(locales),
            "BOT_VAR_DIR": str(tmp_path / "var"),
            "REDIS_URL": redis_url,
        }
    )
    return config, flows


def test_a_valid_save_is_published_and_named(setup, redis, capsys):
    config, flows = setup
    main = flows / "main.yaml"
    main.write_text(main.read_text().replace("Service test flow.", "Edited."))
    watch.Watcher(config, config.redis_url).changed([str(main)])
    assert "[flows] saved changes are live: main.yaml" in capsys.readouterr().out
    assert redis.get(keys.flows_published_key())


def test_a_broken_save_prints_the_errors_and_publishes_nothing(setup, redis, capsys):
    config, flows = setup
    main = flows / "main.yaml"
    main.write_text(main.read_text() + "  - id: x\n     type: message\n")
    watch.Watcher(config, config.redis_url).changed([str(main)])
    out = capsys.readouterr().out
    assert "main.yaml:" in out and "YAML indentation" in out and "^" in out
    assert "the service keeps the flows it has" in out
    assert redis.get(keys.flows_published_key()) is None
    assert "YAML indentation" in published.failure(redis)[0]  # shown by /readyz


def test_a_broken_catalog_is_reported_and_nothing_is_published(setup, redis, capsys):
    config, _flows = setup
    po = config.locales_path / "fr" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "a"\nmsgstr "b"\nnot a keyword\n', encoding="utf-8")
    watch.Watcher(config, config.redis_url).changed([str(po)])
    assert "the catalog cannot be read" in capsys.readouterr().out
    assert redis.get(keys.flows_published_key()) is None


def test_the_running_watcher_notices_a_save(setup, redis):
    config, flows = setup
    watcher = watch.start(config, config.redis_url)
    try:
        time.sleep(watch.POLL * 2)
        main = flows / "main.yaml"
        main.write_text(main.read_text().replace("Service test flow.", "Saved."))
        deadline = time.monotonic() + 10
        while redis.get(keys.flows_published_key()) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert redis.get(keys.flows_published_key())
    finally:
        watcher.stop.set()
        watcher.join(5)
