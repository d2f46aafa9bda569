"""WhatsApp menus as Twilio Content API templates: buttons for up to 3 options, a list for 10.

Why templates: WhatsApp shows tappable buttons or a list only for messages sent through a
Content API template (`content_sid` + `content_variables`), never for a plain body. One
template is made per menu (or choice question) and language, from the flows and catalogs,
by `bot whatsapp templates --create`, which stores the `friendly_name -> content_sid` map
in a JSON file the web app reads (`BOT_WHATSAPP_TEMPLATES`). That file and the creation at
Twilio are bot.jobs.whatsapp's; this module is pure.

- Up to 3 options whose labels fit a button (20 characters): `twilio/quick-reply`.
- Up to 10 options whose labels fit a list row's description (72 characters):
  `twilio/list-picker`; a label longer than a row's title (24 characters) is cut at a word
  in the title and given whole in the description.
- Every template also has a `twilio/text` fallback: the numbered text, as on SMS.

The option ids are the engine's payloads (`flow.node:N`, `lang:CODE`, a choice's number),
so the `ButtonPayload` (or `ListId`) of a tap maps back to the option. The message text is
a variable: `{{1}}` is the question and footer above the buttons, `{{2}}` the full text of
the fallback, so staff values and answers in a text never need a new template. The name
ends in a digest of the options, so a template made before a label changed is simply not
found, and the text goes instead. Menus without a template go as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from bot.core.engine import Engine, Reply
from bot.flow.model import Text
from bot.flow.problems import WARNING, Problem

QUICK_REPLY = "twilio/quick-reply"
LIST_PICKER = "twilio/list-picker"
TEXT = "twilio/text"
MAX_BUTTONS = 3
"""Quick-reply buttons WhatsApp shows in a session message sent without approval."""
BUTTON_CHARS = 20
"""Characters of a quick-reply button's title, and of a list's button."""
MAX_ITEMS = 10
"""Rows of a list-picker."""
ITEM_CHARS = 24
"""Characters of a list row's title."""
DESCRIPTION_CHARS = 72
"""Characters of a list row's description."""
BODY_CHARS = 1024
"""Characters of the text above buttons or a list."""
NAME_PREFIX = "avrr"
"""First word of every template's friendly_name, to tell ours apart in the console."""
NAME_CHARS = 64
"""Longest friendly_name made."""


def kind(options: Sequence[tuple[str, str]]) -> str | None:
    """QUICK_REPLY, LIST_PICKER, or None when the options do not fit WhatsApp (text then)."""
    labels = [label for _, label in options]
    if not labels or len(labels) > MAX_ITEMS:
        return None
    if any(not label.strip() or len(label) > DESCRIPTION_CHARS for label in labels):
        return None
    if len(labels) <= MAX_BUTTONS and all(len(label) <= BUTTON_CHARS for label in labels):
        return QUICK_REPLY
    return LIST_PICKER


def _slug(options: Sequence[tuple[str, str]]) -> str:
    payload = options[0][0]
    if payload.startswith("lang:"):
        return "language"
    if ":" in payload:
        return payload.rpartition(":")[0].replace(".", "_")
    return "choice"


def template_name(reply: Reply) -> str | None:
    """The friendly_name of the template for this reply, or None when it needs none."""
    found = kind(reply.options)
    if found is None:
        return None
    doc = json.dumps([found, reply.lang, list(reply.options)], ensure_ascii=False)
    digest = hashlib.sha256(doc.encode()).hexdigest()[:10]
    tail = f"_{reply.lang}_{digest}"
    head = f"{NAME_PREFIX}_{_slug(reply.options)}"[: NAME_CHARS - len(tail)]
    return re.sub(r"[^a-z0-9_]", "_", (head + tail).lower())


def variables(reply: Reply, finish) -> dict[str, str]:
    """The content variables: 1 the question and footer, 2 the full text of the fallback."""
    body = "\n".join(p for p in (reply.prompt, reply.footer) if p)
    return {"1": finish(reply.lang, body) if finish else body, "2": reply.text}


def short_item(label: str) -> str:
    """A list row's title: the label, or its first words with "..." when it is too long."""
    if len(label) <= ITEM_CHARS:
        return label
    cut = label[: ITEM_CHARS - 3]
    if " " in cut.strip():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "..."


def definition(reply: Reply, button: str, finish=None) -> dict[str, Any] | None:
    """The Content API create request (a dict) for this reply's template, or None."""
    name, found = template_name(reply), kind(reply.options)
    if name is None or found is None:
        return None
    if found == QUICK_REPLY:
        actions = [{"type": "QUICK_REPLY", "title": label, "id": payload}
                   for payload, label in reply.options]  # fmt: skip
        rich: dict[str, Any] = {"body": "{{1}}", "actions": actions}
    else:
        items = []
        for payload, label in reply.options:
            item = {"id": payload, "item": short_item(label)}
            if item["item"] != label:
                item["description"] = label
            items.append(item)
        rich = {"body": "{{1}}", "button": button[:BUTTON_CHARS], "items": items}
    return {
        "friendly_name": name,
        "language": reply.lang,
        "variables": variables(reply, finish),
        "types": {found: rich, TEXT: {"body": "{{2}}"}},
    }


def list_button(engine: Engine, lang: str) -> str:
    """The list's button: the first word for MENU in the language ("Menu")."""
    command = engine.flows.commands.get("MENU")
    words = engine.tr.gettext(lang, command.words.msgid) if command else ""
    first = words.split(",")[0].strip()
    return (first[:1].upper() + first[1:])[:BUTTON_CHARS] if first else "Menu"


def _language_menu(engine: Engine, lang: str) -> Reply:
    """The language menu as the engine sends it (bot.core.engine.Engine.show_languages)."""
    options = tuple((f"lang:{c}", engine.tr.language_name(c)) for c in engine.settings.languages)
    prompt = engine.tr.gettext(lang, engine.flows.system["language_prompt"].msgid)
    lines = [f"{engine.tr.number(lang, i)}. {label}" for i, (_, label) in enumerate(options, 1)]
    text = engine.tr.finish(lang, "\n".join([prompt, *lines]))
    return Reply(text, prompt=prompt, options=options, lang=lang)


def _menus(engine: Engine):
    """(flow, node, option texts) of every menu and choice question, in file order."""
    for flow in engine.flows.flows.values():
        for node in flow.nodes.values():
            labels = node.option_labels()
            if labels:
                yield flow, node, list(labels)


def _replies(engine: Engine, flow_id: str, node_id: str, lang: str) -> list[Reply]:
    return [r for r in engine.preview(flow_id, node_id, lang) if r.options]


def definitions(engine: Engine) -> list[dict[str, Any]]:
    """The template of every menu and choice question in every language, once each."""
    made: dict[str, dict[str, Any]] = {}
    for lang in engine.settings.languages:
        replies = [_language_menu(engine, lang)]
        for flow, node, _labels in _menus(engine):
            replies += _replies(engine, flow.id, node.id, lang)
        for reply in replies:
            doc = definition(reply, list_button(engine, lang), engine.tr.finish)
            if doc is not None:
                made.setdefault(doc["friendly_name"], doc)
    return list(made.values())


def label_problems(engine: Engine) -> list[Problem]:
    """Warnings for option labels too long for WhatsApp in some language.

    Over 24 characters a list row shows the label cut (whole in the description); over 72
    the menu cannot be a list at all and goes as numbered text on WhatsApp.
    """
    problems: list[Problem] = []
    for flow, node, texts in _menus(engine):
        long: dict[int, list[str]] = {}
        too_long: dict[int, list[str]] = {}
        for lang in engine.settings.languages:
            replies = _replies(engine, flow.id, node.id, lang)
            if not replies:
                continue
            for index, (_, label) in enumerate(replies[-1].options[: len(texts)]):
                if len(label) > DESCRIPTION_CHARS:
                    too_long.setdefault(index, []).append(f"{lang} ({len(label)})")
                elif len(label) > ITEM_CHARS:
                    long.setdefault(index, []).append(f"{lang} ({len(label)})")
        for index, text in enumerate(texts):
            if index in too_long:
                problems.append(_warn(flow.path, text, (
                    f"option label too long for WhatsApp (at most {DESCRIPTION_CHARS} "
                    f"characters) in {', '.join(too_long[index])}: this menu goes as "
                    "numbered text on WhatsApp; shorten the label")))  # fmt: skip
            if index in long:
                problems.append(_warn(flow.path, text, (
                    f"option label longer than a WhatsApp list row (at most {ITEM_CHARS} "
                    f"characters) in {', '.join(long[index])}: the row shows it cut, whole "
                    "in its description")))  # fmt: skip
    return problems


def _warn(path: str, text: Text, message: str) -> Problem:
    return Problem(path, text.line, text.col, WARNING, message)
