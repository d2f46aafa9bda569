"""The web service: `create_app()` for gunicorn (`'bot.web.app:create_app()'`) and the tests.

Settings come from defaults, then the environment, then `test_config` (bot.settings); the
app keeps the one `Settings` object in `app.extensions["bot.settings"]`. Startup
fails, with a message saying how to fix it, when a required secret is missing, or when the
flows have errors (printed as file:line:col) and no last good set was kept; with a last
good set it serves that one and logs every error (bot.web.publishing). Signature checks
can be turned off only by `BOT_DEV_SKIP_SIGNATURE=1`, never in production, and the
service says so loudly.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from bot.channels.checks import all_problems
from bot.core.runtime import Runtime, refuse_placeholders
from bot.flow import FlowError
from bot.jobs import logs
from bot.settings import SETTINGS, Settings, check_settings
from bot.web import console, publishing, webhook
from bot.web import metrics as metrics_web
from bot.web import simulator as simulator_web
from bot.web.redaction import install as install_redaction
from bot.web.webhook import MAX_BODY_BYTES, MAX_FORM_FIELDS

log = logging.getLogger(__name__)


class App(Flask):
    """Flask, asking once per view or hook whether it is a coroutine function.

    Flask's `ensure_sync` asks `inspect` again on every call, for the view and each
    before-request and teardown function: five times a message, about 1 % of its CPU
    time. The answer cannot change for a given function, so it is kept.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synced: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        synced = self._synced.get(func)
        if synced is None:
            synced = self._synced[func] = super().ensure_sync(func)
        return synced


def _init_logging(log_format: str = "text") -> None:
    """Logs on stderr unless the host configured logging (BOT_LOG_FORMAT: text or JSON lines);
    numbers redacted and request ids added on every handler."""
    logs.configure(log_format)
    install_redaction()


def _load_runtime(settings: Settings) -> Runtime:
    """Load the flows, or the last good set; print every problem and stop if there is none."""
    flows_dir = settings.flows_path
    try:
        runtime = Runtime.from_settings(settings)
    except FlowError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        log.error("the flows in %s have errors; fix them (see above) and restart", flows_dir)
        raise
    warnings = all_problems(runtime.engine, runtime.warnings)
    if warnings:
        log.warning("the flows have %d warning(s); `bot flows validate` lists them", len(warnings))
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
    app = App(__name__)
    app.config.update(
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        MAX_FORM_PARTS=MAX_FORM_FIELDS,
    )
    settings = Settings.from_environ(overrides=test_config)
    _init_logging(settings.log_format)
    logging.getLogger("bot").setLevel(settings.log_level)
    app.extensions["bot.settings"] = settings
    if test_config:  # Flask's own keys (TESTING...) as given; ours only in `settings`
        env_names = {spec.env for spec in SETTINGS}
        app.config.update({k: v for k, v in test_config.items() if k not in env_names})
    for warning in check_settings(settings):
        log.warning("%s", warning)
        if "!!!" in warning:
            print(warning, file=sys.stderr)
    refuse_placeholders(settings)  # production: no TODO staff value reaches people
    runtime = _load_runtime(settings)
    _init_errors(app)

    @app.before_request
    def request_id() -> None:  # bot.jobs.logs: follows the message into its jobs
        logs.begin_request(request.headers.get("X-Request-Id"))

    service = webhook.init_app(app, runtime, settings)
    publishing.init_app(app, runtime, service.redis, service.queue)
    metrics_web.init_app(app, settings, service.redis)
    simulator_web.init_app(app, settings)
    result = "loaded" if not runtime.warnings else "loaded with warnings"
    console.init_app(app, settings, service.redis, {"result": result})
    return app
