"""bot.channels.render: SMS splitting and WhatsApp rendering, checked with twilio's own
TwiML and REST payload classes, and through the webhook with a real worker and the fake
Twilio API."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from conftest import LONG_TEXT, SENDER, TwilioHelper
from twilio.rest.content.v1.content import ContentList
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels import render
from bot.channels.message import Outgoing
from bot.channels.whatsapp import (
    LIST_PICKER,
    QUICK_REPLY,
    definition,
    kind,
    template_name,
)
from bot.core.engine import Reply
from bot.jobs.whatsapp import load_map, save_map
from bot.text.segments import analyse

LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"
PHONE = "0800 32 745"


def menu(*labels: str, prompt: str = "Pick one:", lang: str = "en", footer: str = "") -> Reply:
    options = tuple((f"main.menu:{i}", label) for i, label in enumerate(labels, 1))
    lines = [f"{i}. {label}" for i, label in enumerate(labels, 1)]
    text = "\n".join([prompt, *lines, *([footer] if footer else [])])
    return Reply(text, prompt=prompt, options=options, footer=footer, lang=lang)


def twiml_texts(texts: list[str]) -> list[str]:
    """What Twilio reads: the texts through twilio's MessagingResponse and back."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return [m.text or "" for m in ElementTree.fromstring(str(response)).iter("Message")]


# --- SMS ------------------------------------------------------------------------------


def test_a_long_sms_reply_is_split_at_sentences_within_budget():
    parts = render.sms_parts(LONG_TEXT, max_segments=3, max_parts=3)
    assert len(parts) == 3
    assert all(analyse(p).segments <= 3 for p in parts)
    assert " ".join(parts).split() == LONG_TEXT.split()
    assert all(p.endswith(".") for p in parts)  # cut between sentences


def test_a_reply_that_fits_is_one_message():
    assert render.sms_parts("Short.", max_segments=3, max_parts=3) == ["Short."]


def test_max_parts_is_a_hard_limit():
    parts = render.sms_parts(LONG_TEXT, max_segments=1, max_parts=2)
    assert len(parts) == 2
    assert " ".join(parts).split() == LONG_TEXT.split()


def test_a_number_is_never_cut():
    for filler in range(140, 160):
        text = "x" * filler + f" Call {PHONE} free. " + "More words here. " * 20
        parts = render.sms_parts(text, max_segments=1, max_parts=5)
        assert sum(PHONE in p for p in parts) == 1, filler


def test_a_bidi_isolate_is_never_cut():
    isolate = f"{LRI}Rue des Chartreux 21, 1000 Bruxelles{PDI}"
    text = "نشانی " * 20 + isolate + " پایان" * 30
    parts = render.sms_parts(text, max_segments=1, max_parts=5)
    assert sum(isolate in p for p in parts) == 1
    assert all(p.count(LRI) == p.count(PDI) for p in parts)


def test_an_sms_turn_sends_its_first_part_in_twiml_and_the_rest_by_job():
    replies = [Reply(LONG_TEXT), menu("Count", "Echo")]
    plan = render.plan(replies, "sms", max_segments=3, max_parts=3)
    assert len(plan.twiml) == 1 and len(plan.rest) == 3
    assert all(m.free_form for m in plan.rest)
    assert twiml_texts(plan.twiml) == plan.twiml  # survives twilio's TwiML as it is
    assert plan.rest[-1].body.startswith("Pick one:\n1. Count")


def test_a_twilio_retry_gets_the_same_twiml_part():
    texts = [LONG_TEXT, "Pick one:"]
    plan = render.plan([Reply(t) for t in texts], "sms", max_segments=3, max_parts=3)
    again = render.replan(texts, "sms", len(plan.twiml), max_segments=3, max_parts=3)
    assert again == plan.twiml


# --- WhatsApp -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels,expected",
    [
        (["Yes", "No"], QUICK_REPLY),
        (["Return desks", "Other places", "Call back"], QUICK_REPLY),
        (["Return desks", "Other places to get help"], LIST_PICKER),  # 24 > 20 for a button
        ([f"City {i}" for i in range(4)], LIST_PICKER),
        ([f"City {i}" for i in range(10)], LIST_PICKER),
        ([f"City {i}" for i in range(11)], None),
        (["x" * 73], None),
        ([], None),
    ],
)
def test_kind_of_interactive_message(labels, expected):
    assert kind([(str(i), label) for i, label in enumerate(labels)]) == expected


def test_a_quick_reply_template_with_twilios_payload_classes():
    reply = menu("Count", "Echo")
    doc = definition(reply, "Menu")
    request = ContentList.ContentCreateRequest(doc)
    quick = request.types.twilio_quick_reply
    assert isinstance(quick, ContentList.TwilioQuickReply)
    assert [(a.title, a.id, a.type) for a in quick.actions] == [
        ("Count", "main.menu:1", "QUICK_REPLY"),
        ("Echo", "main.menu:2", "QUICK_REPLY"),
    ]
    assert quick.body == "{{1}}"
    assert request.types.twilio_text.body == "{{2}}"  # the numbered text as fallback
    assert request.to_dict()["types"]["twilio/quick-reply"] == doc["types"][QUICK_REPLY]
    assert doc["variables"] == {"1": "Pick one:", "2": reply.text}


def test_a_list_picker_template_cuts_long_titles_and_keeps_them_whole_below():
    long = "Help after return (reintegration)"
    reply = menu("Am I eligible?", long, "Talk to a counsellor", "FAQ", footer="0 Main menu")
    doc = definition(reply, "Menu")
    picker = ContentList.ContentCreateRequest(doc).types.twilio_list_picker
    assert isinstance(picker, ContentList.TwilioListPicker)
    assert picker.button == "Menu"
    items = {i.id: i for i in picker.items}
    assert items["main.menu:2"].item == "Help after return..."
    assert items["main.menu:2"].description == long
    assert items["main.menu:1"].description is None
    assert all(len(i.item) <= 24 for i in picker.items)
    assert doc["variables"]["1"] == "Pick one:\n0 Main menu"


def test_a_whatsapp_turn_with_a_template_goes_all_by_job_in_order():
    reply = menu("Count", "Echo")
    templates = {template_name(reply): "HX" + "1" * 32}
    plan = render.plan(
        [Reply("Hello."), reply], "whatsapp", max_segments=3, max_parts=3, templates=templates
    )
    assert plan.twiml == []
    assert plan.rest[0] == Outgoing(body="Hello.")
    assert plan.rest[1].content_sid == "HX" + "1" * 32
    assert dict(plan.rest[1].content_variables) == {"1": "Pick one:", "2": reply.text}


def test_a_whatsapp_menu_without_a_template_stays_text():
    reply = menu("Count", "Echo")
    other = {template_name(menu("Count", "Echo", lang="fr")): "HX" + "2" * 32}
    plan = render.plan([reply], "whatsapp", max_segments=3, max_parts=3, templates=other)
    assert plan.twiml == [reply.text] and plan.rest == []


def test_a_changed_label_changes_the_template_name():
    assert template_name(menu("Count", "Echo")) == template_name(menu("Count", "Echo"))
    assert template_name(menu("Count", "Echo")) != template_name(menu("Count", "Echo!"))
    assert template_name(menu("Count", "Echo")).startswith("avrr_main_menu_en_")


def test_a_body_too_long_for_buttons_goes_as_text():
    reply = menu("Count", "Echo", prompt="x" * 1100)
    templates = {template_name(reply): "HX" + "3" * 32}
    assert render.interactive(reply, templates) is None


def test_whatsapp_text_is_cut_only_above_1600_characters():
    assert render.whatsapp_parts(LONG_TEXT, 3) == [LONG_TEXT]
    parts = render.whatsapp_parts(LONG_TEXT * 2, 3)
    assert len(parts) == 2 and all(len(p) <= 1600 for p in parts)


def test_the_template_map_is_reread_when_it_changes(tmp_path):
    path = tmp_path / "map.json"
    assert load_map(path) == {}
    save_map(path, {"a": "HX1"})
    assert load_map(path) == {"a": "HX1"}
    save_map(path, {"a": "HX1", "b": "HX2"})
    import os

    os.utime(path, (1, 1))  # a different mtime, whatever the clock's resolution
    assert load_map(path) == {"a": "HX1", "b": "HX2"}


# --- through the webhook --------------------------------------------------------------


def main_menu(app) -> Reply:
    engine = app.extensions["bot"].runtime.engine
    [reply] = [r for r in engine.preview("main", "menu", "en") if r.options]
    return reply


def test_a_whatsapp_menu_with_a_template_is_sent_by_rest_with_empty_twiml(
    jobs_app, redis, run_jobs, worker_env
):
    name = template_name(main_menu(jobs_app))
    save_map(jobs_app.extensions["bot.settings"].whatsapp_templates, {name: "HX" + "4" * 32})
    twilio = TwilioHelper(jobs_app.test_client())
    response = twilio.whatsapp("hi")
    assert twilio.texts(response) == []
    run_jobs()
    first, second = worker_env.messages
    assert (
        first["Body"].startswith("I will write in English") and first["To"] == "whatsapp:" + SENDER
    )
    assert first["From"] == "whatsapp:+15005550006"
    assert second["ContentSid"] == "HX" + "4" * 32 and "Body" not in second
    variables = json.loads(second["ContentVariables"])
    assert variables["1"] == "Pick one:" and "1. Remind me" in variables["2"]


@pytest.mark.parametrize("field", ["ButtonPayload", "ListId"])
def test_a_tapped_option_maps_back_to_the_option(jobs_app, redis, field):
    twilio = TwilioHelper(jobs_app.test_client())
    twilio.whatsapp("hi")
    reply = twilio.whatsapp("Call me back", **{field: "main.menu:1"})
    assert twilio.texts(reply)[0].startswith("I will remind you in 3 days.\n\nPick one:")


def test_a_map_written_by_another_process_is_seen_after_the_recheck_interval(tmp_path, monkeypatch):
    import os

    from bot.jobs import whatsapp as whatsapp_templates

    path = tmp_path / "map.json"
    assert load_map(path) == {}
    path.write_text('{"a": "HX1"}', encoding="utf-8")  # as `bot whatsapp templates` would
    assert load_map(path) == {}  # looked at less than a second ago
    monkeypatch.setattr(whatsapp_templates, "RECHECK_SECONDS", 0.0)
    assert load_map(path) == {"a": "HX1"}
    path.write_text('{"a": "HX2"}', encoding="utf-8")
    os.utime(path, (2, 2))
    assert load_map(path) == {"a": "HX2"}
