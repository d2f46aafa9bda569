"""bot.channels.whatsapp on the shipped flows and catalogs, and `bot whatsapp templates`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from twilio.rest.content.v1.content import ContentList

from bot.channels.whatsapp import (
    BODY_CHARS,
    BUTTON_CHARS,
    DESCRIPTION_CHARS,
    ITEM_CHARS,
    LIST_PICKER,
    MAX_BUTTONS,
    MAX_ITEMS,
    NAME_CHARS,
    QUICK_REPLY,
    TEXT,
    definitions,
    label_problems,
)
from bot.cli import main
from bot.core.engine import Inbound
from bot.core.runtime import Runtime
from bot.core.state import State
from bot.flow.problems import WARNING
from bot.jobs.whatsapp import load_map

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped():
    return Runtime.load(ROOT / "flows", ROOT / "locales").engine


@pytest.fixture(scope="module")
def docs(shipped):
    return definitions(shipped)


def test_every_menu_gets_a_template_in_every_language(shipped, docs):
    languages = {d["language"] for d in docs}
    assert languages == set(shipped.settings.languages)
    per_language = {lang: sum(d["language"] == lang for d in docs) for lang in languages}
    assert len(set(per_language.values())) == 1  # the same menus in each language
    names = [d["friendly_name"] for d in docs]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(rf"[a-z0-9_]{{1,{NAME_CHARS}}}", n) for n in names)


def test_every_template_fits_whatsapps_limits(docs):
    for doc in docs:
        types = doc["types"]
        assert types[TEXT] == {"body": "{{2}}"}
        assert len(doc["variables"]["1"]) <= BODY_CHARS
        if QUICK_REPLY in types:
            actions = types[QUICK_REPLY]["actions"]
            assert 1 <= len(actions) <= MAX_BUTTONS
            assert all(len(a["title"]) <= BUTTON_CHARS for a in actions)
        else:
            picker = types[LIST_PICKER]
            assert 1 <= len(picker["items"]) <= MAX_ITEMS
            assert len(picker["button"]) <= BUTTON_CHARS
            for item in picker["items"]:
                assert len(item["item"]) <= ITEM_CHARS
                assert len(item.get("description", "")) <= DESCRIPTION_CHARS


def test_every_template_is_a_valid_content_create_request(docs):
    for doc in docs:
        request = ContentList.ContentCreateRequest(doc)
        assert request.to_dict()["friendly_name"] == doc["friendly_name"]
        types = request.types
        rich = types.twilio_quick_reply or types.twilio_list_picker
        assert rich is not None and rich.body == "{{1}}"


def test_every_option_id_leads_where_its_number_leads(shipped, docs):
    """A tap sends the id as ButtonPayload (and the title as Body): it must do what typing
    the option's number does."""
    for doc in docs[:60]:
        rich = doc["types"].get(QUICK_REPLY) or doc["types"][LIST_PICKER]
        entries = rich.get("actions") or rich.get("items")
        for number, entry in enumerate(entries, 1):
            payload, title = entry["id"], entry.get("title") or entry["item"]
            if payload.startswith("lang:") or "." not in payload:
                continue
            flow_id, node_id = payload.rpartition(":")[0].split(".")
            state = State(flow=flow_id, node=node_id, lang=doc["language"], seen=1)
            tapped = shipped.step(state, Inbound(title, payload=payload), 2)
            typed = shipped.step(state, Inbound(str(number)), 2)
            assert tapped.texts == typed.texts, payload


def test_long_labels_are_reported_with_their_position(tmp_path, jobs_flows):
    main_yaml = jobs_flows / "main.yaml"
    text = main_yaml.read_text()
    text = text.replace('"Remind me"', '"Remind me about my appointment in a few days"')
    text = text.replace('"Call me back"', '"' + "Call me back " * 7 + '"')
    main_yaml.write_text(text)
    engine = Runtime.load(jobs_flows, tmp_path / "no-locales").engine
    problems = label_problems(engine)
    assert [p.severity for p in problems] == [WARNING, WARNING]
    lines = text.splitlines()
    longer, too_long = sorted(problems, key=lambda p: p.line)
    assert "Remind me about" in lines[longer.line - 1]
    assert "list row (at most 24 characters) in en (44)" in longer.message
    assert "Call me back" in lines[too_long.line - 1]
    assert "too long for WhatsApp (at most 72 characters) in en (90)" in too_long.message
    assert str(longer).startswith(f"{longer.path}:{longer.line}:{longer.col}: warning:")


def test_short_labels_raise_nothing(jobs_flows, tmp_path):
    engine = Runtime.load(jobs_flows, tmp_path / "no-locales").engine
    assert label_problems(engine) == []


# --- the command ----------------------------------------------------------------------


def test_the_command_prints_the_definitions(jobs_flows, monkeypatch):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(jobs_flows))
    result = CliRunner().invoke(main, ["whatsapp", "templates"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.stdout)
    assert {d["language"] for d in docs} == {"en", "fr", "nl", "ka"}
    for doc in docs:  # two short options: buttons; four languages: a list
        expected = LIST_PICKER if "_language_" in doc["friendly_name"] else QUICK_REPLY
        assert expected in doc["types"]


def test_create_makes_each_template_once_and_saves_the_sids(
    jobs_flows, monkeypatch, worker_env, tmp_path
):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(jobs_flows))
    path = tmp_path / "var" / "templates.json"
    runner = CliRunner()
    first = runner.invoke(main, ["whatsapp", "templates", "--create", "--map", str(path)])
    assert first.exit_code == 0, first.output
    made = load_map(path)
    assert len(made) == len(worker_env.contents) > 0
    assert all(sid.startswith("HX") for sid in made.values())
    assert {c["friendly_name"] for c in worker_env.contents} == set(made)
    again = runner.invoke(main, ["whatsapp", "templates", "--create", "--map", str(path)])
    assert "0 template(s) created" in again.output
    assert len(worker_env.contents) == len(made)


def test_create_needs_credentials(jobs_flows, monkeypatch, tmp_path):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(jobs_flows))
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    path = tmp_path / "t.json"
    result = CliRunner().invoke(main, ["whatsapp", "templates", "--create", "--map", str(path)])
    assert result.exit_code != 0 and "TWILIO_ACCOUNT_SID" in result.output
