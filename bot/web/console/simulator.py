"""The simulator for logged-in editors, in production too: the real webhook, signed.

A language is chosen the way a person chooses it: "Start" sends the word the posters
print for that language (`poster.first_word`), which the language guess reads as that
language. The page's script is a static file (no inline script); it posts with the CSRF token in the
X-CSRFToken header, and the message goes through /webhooks/twilio exactly as the
development simulator sends it (bot.web.simulator.post_to_webhook).
"""

from __future__ import annotations

import json

from flask import Response, jsonify, render_template, request

from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.poster import first_word
from bot.web.console.security import require
from bot.web.simulator import post_to_webhook


@bp.get("/simulator")
@require("editor")
def simulator_page() -> str:
    """The chat page, with a language and a channel to choose."""
    engine = common.service().runtime.engine
    words = {lang: first_word(engine, lang) for lang in engine.settings.languages}
    return render_template(
        "console/simulator.html",
        languages=engine.settings.languages,
        words=json.dumps(words, ensure_ascii=False),
    )


@bp.post("/simulator/send")
@require("editor")
def simulator_send() -> Response | tuple[Response, int]:
    """One message through the real webhook; the replies as JSON."""
    data = request.get_json(silent=True) or {}
    channel = data.get("channel") if data.get("channel") in ("sms", "whatsapp") else "sms"
    sender = str(data.get("from") or "").strip() or "+32470000099"
    status, replies = post_to_webhook(
        common.settings(), str(data.get("body", ""))[:1600], sender, channel
    )
    if status != 200:
        return jsonify(error=f"webhook answered {status}"), 502
    return jsonify(replies=replies)
