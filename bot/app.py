"""The web service: `create_app()` for gunicorn (`'bot.app:create_app()'`) and the tests.

Settings come from defaults, then the environment, then `test_config`; each is listed in
SETTINGS with its meaning (the README's Configuration table is written from it). Startup
fails, with a message saying how to fix it, when a required secret is missing or when the
flows have errors (printed as file:line:col). Signature checks can be turned off only by
`BOT_DEV_SKIP_SIGNATURE=1`, never in production, and the service says so loudly.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from bot import webhook
from bot.flow import FlowError
from bot.flow.nodes import parse_duration
from bot.runtime import Runtime, default_flows_dir, default_locales_dir
from bot.webhook import MAX_BODY_BYTES, MAX_FORM_FIELDS

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
        "Redis for conversation state and jobs. `bot run` starts an embedded Redis when unset.",
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
    Setting("BOT_FLOWS_DIR", "", str, "Folder of YAML flows (default: flows/ of this checkout)."),
    Setting("BOT_LOCALES_DIR", "", str, "Folder of translation catalogs (default: locales/)."),
    Setting(
        "BOT_STATE_TTL",
        "14d",
        _duration,
        "How long an idle conversation is kept (seconds or 90s/15m/12h/14d).",
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
        "BOT_DEV_SKIP_SIGNATURE",
        False,
        _flag,
        "Development only: accept unsigned webhook requests. Refused when BOT_ENV=production.",
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


def check_settings(config: dict) -> list[str]:
    """Refuse to start without the secrets; return warnings to log loudly."""
    production = config["BOT_ENV"] == "production"
    skip = config["BOT_DEV_SKIP_SIGNATURE"]
    if not config["BOT_SECRET_KEY"]:
        raise ConfigError(
            "BOT_SECRET_KEY is not set: set it to a long random string (for example the "
            'output of `python -c "import secrets; print(secrets.token_urlsafe(32))"`), '
            "or use `bot run`, which creates development secrets in var/dev.env."
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


def _init_logging() -> None:
    """INFO logs on stderr unless the host configured logging; numbers redacted if we can."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    try:
        from bot.redact import install
    except ImportError:  # pragma: no cover - until the redaction module lands
        return
    install()


def _load_runtime(config: dict) -> Runtime:
    """Load and validate the flows; print every problem as file:line:col and stop if broken."""
    flows_dir = config["BOT_FLOWS_DIR"] or default_flows_dir()
    locales_dir = config["BOT_LOCALES_DIR"] or default_locales_dir()
    try:
        runtime = Runtime.load(flows_dir, locales_dir)
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
        return Response(text, status=exc.code, mimetype="text/plain")

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
    return app
