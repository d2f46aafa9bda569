"""The staff console under /console: callbacks, statistics, flows, translations, simulator,
health, posters, audit and staff, behind logins with roles (README, "Staff console").

One blueprint (`blueprint.bp`), one module per area; templates and static files live in
this package and nothing is loaded from elsewhere, so staff addresses reach no third party
and the console works on an offline network.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Flask, request, session

from bot.settings import Settings
from bot.store.staff import Staff
from bot.web.console import (
    audit,
    auth,
    callbacks,
    dashboard,
    drafts,
    flows,
    health,
    i18n,
    posters,
    security,
    simulator,
    staff,
    stats,
    translations,
)
from bot.web.console.blueprint import bp

VIEWS = (auth, dashboard, callbacks, stats, flows, translations, simulator, health, posters)
VIEWS += (audit, staff)
"""The view modules; importing them registers their routes on `bp`."""


@bp.before_request
def _before() -> None:
    if request.endpoint == "console.check_upload":  # a flow file, larger than a webhook
        request.max_content_length = drafts.MAX_DRAFT_BYTES + 16 * 1024
        request.max_form_memory_size = drafts.MAX_DRAFT_BYTES + 16 * 1024
    security.check_csrf()
    session.permanent = True


@bp.context_processor
def _context() -> dict:
    return {"who": security.current(), "console_lang": i18n.language()}


@bp.after_request
def _after(response):
    return security.add_headers(response)


def init_app(app: Flask, settings: Settings, client, flows_loaded: dict) -> None:
    """Register the console on the app, with its Redis client and catalogs."""
    app.extensions["bot.staff"] = Staff(client)
    app.extensions["bot.console_catalogs"] = i18n.load(settings.locales_path)
    at = time.time()
    when = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    app.extensions["bot.flows_loaded"] = {"at": at, "when": when, **flows_loaded}
    security.init_app(app, settings)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    app.register_blueprint(bp)
