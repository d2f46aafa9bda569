"""The floor: the thinnest honest Flask + Redis TwiML endpoint, to compare the service with.

It does what any Twilio webhook must do and nothing more: parse the form, check the
X-Twilio-Signature with twilio's RequestValidator for PUBLIC_URL + path the same way as the
service (bot.web.signature: one HMAC in the common case, cheaper than twilio's `validate`; the
floor must not be slower than it need be), one Redis GET and one SET (with a TTL) of a key
named by a hash of the sender, and a fixed TwiML reply. The benchmark runs it under the
same gunicorn settings as the service; the service's cost above this floor is what the
flows, the lock and the state cost.

    gunicorn 'bench.floor:create_app()' --workers 1 --worker-class gevent ...

Settings from the environment: REDIS_URL, TWILIO_AUTH_TOKEN, PUBLIC_URL.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import redis
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

from bot.web.signature import signature_ok

KEY_PREFIX = "bench:floor:"
"""Prefix of the floor's keys; the rest is a hash of the sender, never the number."""
TTL = 14 * 24 * 3600
"""Seconds the floor's value lives, like a conversation state (BOT_STATE_TTL's default)."""
VALUE = b'{"v":1,"f":"main","n":"menu","l":"en","h":["main.menu"],"t":1700000000,' + b"x" * 40
"""What the floor stores: about the size of a conversation state (bytes)."""
REPLY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
    "Thank you, this is the floor.</Message></Response>"
)
"""The fixed TwiML answer."""


def floor_key(sender: str) -> str:
    """The floor's Redis key for a sender: a hash, so no number is ever in a key."""
    return KEY_PREFIX + hashlib.sha256(sender.encode()).hexdigest()[:22]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The floor app; `test_config` overrides REDIS_URL, TWILIO_AUTH_TOKEN and PUBLIC_URL."""
    config = {
        name: os.environ.get(name, "") for name in ("REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_URL")
    }
    config.update(test_config or {})
    if not config["TWILIO_AUTH_TOKEN"]:
        raise RuntimeError("TWILIO_AUTH_TOKEN is not set: the floor checks signatures too")
    validator = RequestValidator(config["TWILIO_AUTH_TOKEN"])
    client = redis.Redis.from_url(
        config["REDIS_URL"] or "redis://127.0.0.1:6379/0",
        socket_timeout=0.3,
        socket_connect_timeout=0.3,
    )
    public = config["PUBLIC_URL"].rstrip("/")
    app = Flask(__name__)

    @app.post("/webhooks/twilio")
    def inbound() -> Response:
        form = request.form
        url = public + request.path if public else request.url
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not signature_ok(validator, url, form, signature):
            abort(403)
        key = floor_key(form.get("From") or "")
        client.get(key)
        client.set(key, VALUE, ex=TTL)
        return Response(REPLY, status=200, mimetype="text/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/readyz")
    def readyz() -> Response:
        client.ping()
        return Response("ready\n", mimetype="text/plain")

    return app
