"""What several console pages need: the app's service, settings, clock and small counts."""

from __future__ import annotations

from typing import Any

from flask import current_app

from bot.settings import Settings


def service() -> Any:
    """The webhook's Service (bot.web.webhook): runtime, store, Redis client, clock."""
    return current_app.extensions["bot"]


def settings() -> Settings:
    """The app's settings."""
    return current_app.extensions["bot.settings"]


def now() -> float:
    """The service's clock (tests move it)."""
    return service().clock()
