"""The web service: `create_app()` for gunicorn (`'bot.web.app:create_app()'`) and the tests.

Settings come from defaults, then the environment, then `test_config`; each is listed in
SETTINGS with its meaning (the README's Configuration table is written from it). Startup
fails, with a message saying how to fix it, when a required secret is missing or when the
flows have errors (printed as file:line:col). Signature checks can be turned off only by
`BOT_DEV_SKIP_SIGNATURE=1`, never in production, and the service says so loudly.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from bot.core.runtime import Runtime, default_flows_dir, default_locales_dir
from bot.flow import FlowError
from bot.flow.nodes import parse_duration
from bot.web import simulator as simulator_web
from bot.web import webhook
from bot.web.redaction import install as install_redaction
from bot.web.webhook import MAX_BODY_BYTES, MAX_FORM_FIELDS

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message says which and how to fix it."""


def _duration(value: Any) -> int:
    """Seconds, from a number of seconds or a duration such as 90s, 15m, 12h, 14d."""
    if isinstance(value, int | float):
        return int(value)
    seconds = str(value).strip()
    if seconds.isdigit():
        return int(seconds)
    parsed = parse_duration(seconds)
    if parsed is None:
        raise ValueError(f"{value!r} is not a duration such as 3600, 90s, 15m, 12h or 14d")
    return parsed


def _flag(value: Any) -> bool:
    """1/true/yes/on are true; 0/false/no/off and empty are false."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not 1/0, true/false, yes/no or on/off")


def _log_level(value: Any) -> str:
    """A logging level name: DEBUG, INFO, WARNING or ERROR."""
    name = str(value).strip().upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"{value!r} is not DEBUG, INFO, WARNING or ERROR")
    return name


@dataclass(frozen=True)
class Setting:
    """One environment variable: its default, how to read it, what it means."""

    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "REDIS_URL",
        "redis://127.0.0.1:6379/0",
        str,
        "Redis (6.0.6 or newer) for conversation state and jobs. "
        "`bot run` starts an embedded Redis when unset.",
    ),
    Setting(
        "TWILIO_ACCOUNT_SID",
        "",
        str,
        "Your Twilio account (AC...). When set, requests for another account are refused.",
    ),
    Setting(
        "TWILIO_AUTH_TOKEN",
        "",
        str,
        "Checks the X-Twilio-Signature of every webhook request. Required.",
    ),
    Setting(
        "PUBLIC_URL",
        "",
        str,
        "The URL Twilio calls, e.g. https://bot.example.org, when behind a proxy or tunnel; "
        "signatures are checked against PUBLIC_URL + path. Unset: the URL of the request.",
    ),
    Setting(
        "BOT_SECRET_KEY",
        "",
        str,
        "Keys the pseudonyms that name conversations in Redis. Required; keep it secret; "
        "changing it starts every conversation afresh.",
    ),
    Setting(
        "BOT_ENV",
        "development",
        str,
        "`production` refuses development shortcuts (generated secrets, skipped signatures).",
    ),
    Setting(
        "BOT_LOG_LEVEL",
        "INFO",
        _log_level,
        "INFO logs problems and notable actions (refusals, queued parts, callbacks, "
        "reminders); DEBUG adds one line per message. No level logs a number or a message.",
    ),
    Setting("BOT_FLOWS_DIR", "", str, "Folder of YAML flows (default: flows/ of this checkout)."),
    Setting("BOT_LOCALES_DIR", "", str, "Folder of translation catalogs (default: locales/)."),
    Setting(
        "BOT_STATE_TTL",
        "24h",
        _duration,
        "How long a conversation's place and answers are kept after the last message "
        "(seconds or 90s/15m/12h/14d). The privacy notice says so.",
    ),
    Setting(
        "BOT_PREFS_TTL",
        "90d",
        _duration,
        "How long a language the person chose (LANG) and STOP are kept after their last "
        "message; at least BOT_STATE_TTL. The privacy notice says so.",
    ),
    Setting(
        "BOT_CALLBACK_TTL",
        "14d",
        _duration,
        "The longest a callback request is kept, handled or not. The privacy notice says so.",
    ),
    Setting(
        "BOT_REPLIES_TTL",
        "3h",
        _duration,
        "How long the replies to a MessageSid are kept to answer Twilio retries.",
    ),
    Setting(
        "BOT_LOCK_TTL_MS",
        5000,
        int,
        "Milliseconds a conversation lock lasts if its holder dies.",
    ),
    Setting(
        "BOT_LOCK_WAIT_MS",
        3000,
        int,
        "Milliseconds a message waits for an earlier message of the same person.",
    ),
    Setting(
        "BOT_REDIS_TIMEOUT",
        0.3,
        float,
        "Seconds to connect to or wait for Redis before answering 'temporarily unavailable'.",
    ),
    Setting(
        "BOT_RATE_LIMIT",
        20,
        int,
        "Messages accepted from one sender per BOT_RATE_WINDOW; the first one over gets a "
        "short notice, the next ones no reply until the window has passed (0: no limit).",
    ),
    Setting("BOT_RATE_WINDOW", "60s", _duration, "The rate-limit window (seconds or 60s/5m)."),
    Setting(
        "BOT_LOOP_STREAK",
        5,
        int,
        "Bot-like exchanges in a row (our same replies going round, to messages faster than "
        "BOT_LOOP_FAST or repeated word for word) that mute a sender (0: no loop detection).",
    ),
    Setting(
        "BOT_LOOP_FAST",
        "5s",
        _duration,
        "A message that comes sooner than this after the previous one is faster than a person.",
    ),
    Setting(
        "BOT_LOOP_MUTE",
        "1h",
        _duration,
        "How long a sender caught in a loop with our replies gets no reply at all.",
    ),
    Setting(
        "BOT_DAILY_SEGMENTS",
        2000,
        int,
        "Outbound SMS segments (a WhatsApp message counts 1) per UTC day. Past it, replies to "
        "people still go out but reminders and other proactive messages do not, and staff "
        "are told once a day in the log (0: no budget).",
    ),
    Setting(
        "BOT_DEV_SKIP_SIGNATURE",
        False,
        _flag,
        "Development only: accept unsigned webhook requests. Refused when BOT_ENV=production.",
    ),
    # --- background jobs and WhatsApp (bot.jobs, bot.channels.render) ------------------
    Setting(
        "BOT_SMS_MAX_PARTS",
        3,
        int,
        "A long SMS reply is split into at most this many messages (each within the flows' "
        "max_segments); the first goes in the TwiML answer, the rest from the worker.",
    ),
    Setting(
        "BOT_PARTS_DELAY",
        "2s",
        _duration,
        "How long the worker waits before sending the rest of a split reply, so the TwiML "
        "part arrives first (0: at once).",
    ),
    Setting(
        "BOT_WHATSAPP_TEMPLATES",
        "",
        str,
        "The JSON file of WhatsApp template SIDs made by `bot whatsapp templates --create` "
        "(default: var/whatsapp_templates.json); menus without one go as text.",
    ),
    Setting(
        "BOT_STAFF_WEBHOOK_URL",
        "",
        str,
        "Callback requests are POSTed here as JSON (with the person's number: use https).",
    ),
    Setting(
        "BOT_STAFF_WEBHOOK_SECRET",
        "",
        str,
        "Signs each staff webhook POST: header X-Bot-Signature: sha256=<HMAC of the body>.",
    ),
    Setting(
        "BOT_SMTP_URL",
        "",
        str,
        "Callback requests are e-mailed through this server: smtps://user:password@host:465 "
        "or smtp://user:password@host:587 (STARTTLS; clear text only to a local relay).",
    ),
    Setting("BOT_STAFF_EMAIL", "", str, "Who gets the callback e-mails (comma-separated)."),
    Setting("BOT_SMTP_FROM", "", str, "The From of callback e-mails (default: the SMTP user)."),
    Setting(
        "BOT_TWILIO_API_URL",
        "",
        str,
        "Development and tests only: send Twilio REST requests to this base URL (a local "
        "fake or simulator) instead of https://*.twilio.com.",
    ),
)
"""Every setting the web service reads; `PORT` and `BOT_VAR_DIR` belong to `bot run`."""


def read_settings(environ: dict[str, str], overrides: dict[str, Any] | None = None) -> dict:
    """Defaults, then `environ`, then `overrides`, each parsed; raises ConfigError."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = setting.default
        if environ.get(setting.name) not in (None, ""):
            raw = environ[setting.name]
        if overrides and setting.name in overrides:
            raw = overrides[setting.name]
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.name}: {exc}") from None
    return values


MIN_SECRET_CHARS = 32
"""Characters a production BOT_SECRET_KEY needs at least (`token_urlsafe(32)` gives 43)."""
MIN_SECRET_DISTINCT = 10
"""Different characters a production BOT_SECRET_KEY needs at least."""
WEAK_SECRET_WORDS = ("secret", "password", "changeme", "example", "test", "default", "dev")
"""Words a chosen (not generated) secret gives itself away by."""
KEY_RECIPE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def secret_problem(secret: str) -> str | None:
    """Why a secret is too weak to key the pseudonyms in production, or None.

    Pseudonyms are HMACs of phone numbers: with a guessable key anyone holding a Redis
    dump can test which numbers wrote to the service. This catches the usual mistakes (a
    short, repetitive or made-up secret); it cannot prove that a secret is random.
    """
    if len(secret) < MIN_SECRET_CHARS:
        return f"it has {len(secret)} characters, it needs at least {MIN_SECRET_CHARS}"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"it uses only {len(set(secret))} different characters"
    words = [w for w in WEAK_SECRET_WORDS if w in secret.lower()]
    if words:
        return f'it contains the word "{words[0]}": it looks made up, not generated'
    return None


def check_settings(config: dict) -> list[str]:
    """Refuse to start without the secrets; return warnings to log loudly."""
    production = config["BOT_ENV"] == "production"
    skip = config["BOT_DEV_SKIP_SIGNATURE"]
    if not config["BOT_SECRET_KEY"]:
        raise ConfigError(
            "BOT_SECRET_KEY is not set: set it to a long random string (for example the "
            f"output of `{KEY_RECIPE}`), "
            "or use `bot run`, which creates development secrets in var/dev.env."
        )
    weak = secret_problem(config["BOT_SECRET_KEY"])
    if production and weak:
        raise ConfigError(
            f"BOT_SECRET_KEY is too weak for BOT_ENV=production: {weak}. Generate one with "
            f"`{KEY_RECIPE}` and keep it (changing it starts every conversation afresh)."
        )
    if config["BOT_PREFS_TTL"] < config["BOT_STATE_TTL"]:
        raise ConfigError(
            "BOT_PREFS_TTL is shorter than BOT_STATE_TTL: a conversation would outlive its "
            "language and STOP. Set BOT_PREFS_TTL to at least BOT_STATE_TTL."
        )
    if skip and production:
        raise ConfigError("BOT_DEV_SKIP_SIGNATURE is refused when BOT_ENV=production.")
    if not config["TWILIO_AUTH_TOKEN"] and not skip:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: copy the Auth Token from the Twilio console, or "
            "for development only set BOT_DEV_SKIP_SIGNATURE=1."
        )
    warnings = []
    if skip:
        warnings.append(
            "!!! BOT_DEV_SKIP_SIGNATURE is on: webhook signatures are NOT checked; anyone who "
            "can reach this service can post as anyone. Development only. !!!"
        )
    if not config["PUBLIC_URL"]:
        warnings.append(
            "PUBLIC_URL is not set: signatures are checked against the URL of each request. "
            "Behind a proxy or tunnel, set PUBLIC_URL to the URL Twilio calls."
        )
    return warnings


def service_values(config: dict) -> dict[str, str]:
    """The read-only values flow texts may show, from the settings (loader.SERVICE_VALUES).

    The privacy notice shows them, so it can never disagree with the TTLs actually set.
    Rounded up: a notice may say a little longer than the truth, never shorter.
    """
    # What is kept about a conversation for less than its state counts as the conversation:
    # the replies kept for Twilio retries, the rate-limit and loop record (and its mute).
    conversation = max(
        config["BOT_STATE_TTL"],
        config["BOT_REPLIES_TTL"],
        config["BOT_RATE_WINDOW"],
        config["BOT_LOOP_MUTE"],
    )
    return {
        "conversation_hours": str(math.ceil(conversation / 3600)),
        "preferences_days": str(math.ceil(config["BOT_PREFS_TTL"] / 86400)),
        "callback_days": str(math.ceil(config["BOT_CALLBACK_TTL"] / 86400)),
    }


def _init_logging() -> None:
    """Logs on stderr unless the host configured logging; numbers redacted on every handler."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    install_redaction()


def _load_runtime(config: dict) -> Runtime:
    """Load and validate the flows; print every problem as file:line:col and stop if broken."""
    flows_dir = config["BOT_FLOWS_DIR"] or default_flows_dir()
    locales_dir = config["BOT_LOCALES_DIR"] or default_locales_dir()
    try:
        runtime = Runtime.load(flows_dir, locales_dir, service_values(config))
    except FlowError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        log.error("the flows in %s have errors; fix them (see above) and restart", flows_dir)
        raise
    if runtime.warnings:
        log.warning(
            "the flows have %d warning(s); `bot flows validate` lists them", len(runtime.warnings)
        )
    return runtime


def _init_errors(app: Flask) -> None:
    """Plain-text error responses; never a debug page or a stack trace to the client."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        text = f"{exc.code} {exc.name}: {exc.description}\n"
        response = Response(text, status=exc.code, mimetype="text/plain")
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        frames = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unhandled %s\n%s", type(exc).__name__, frames)
        return Response("500 Internal Server Error\n", status=500, mimetype="text/plain")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app: settings, flows, Redis store, webhook routes."""
    _init_logging()
    app = Flask(__name__)
    app.config.update(
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        MAX_FORM_PARTS=MAX_FORM_FIELDS,
    )
    settings = read_settings(dict(os.environ), test_config)
    logging.getLogger("bot").setLevel(settings["BOT_LOG_LEVEL"])
    app.config.update(settings)
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k not in settings})
    for warning in check_settings(app.config):
        log.warning("%s", warning)
        if "!!!" in warning:
            print(warning, file=sys.stderr)
    runtime = _load_runtime(app.config)
    _init_errors(app)
    webhook.init_app(app, runtime)
    simulator_web.init_app(app)
    return app
