"""The audit log page, for administrators: the last days' entries, newest first."""

from __future__ import annotations

from flask import render_template

from bot.store import audit as audit_log
from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.security import require

DAYS = 30
"""Days shown."""


@bp.get("/audit")
@require("admin")
def audit_page() -> str:
    """Who did what, when."""
    entries = audit_log.recent(common.service().redis, DAYS, common.now())
    return render_template("console/audit.html", entries=entries, days=DAYS)
