"""Health: Redis and its persistence, worker heartbeat, queues, jobs, budget, flows load."""

from __future__ import annotations

from flask import current_app, render_template

from bot.jobs import health as jobs_health
from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.security import require

HEARTBEAT_STALE = 120
"""Seconds after which a worker's heartbeat counts as missing (RQ beats every few seconds)."""


@bp.get("/health")
@require("counsellor")
def health_page() -> str:
    """Everything at one glance."""
    client = common.service().redis
    now = common.now()
    found = jobs_health.check(common.service().queue, now, client)
    try:
        spent = common.service().store.spent(now)
    except Exception:  # Redis down: the page still shows what it can
        spent = None
    loaded = current_app.extensions["bot.flows_loaded"]
    return render_template(
        "console/health.html",
        health=found,
        stale=HEARTBEAT_STALE,
        spent=spent,
        budget=common.settings().daily_segments,
        loaded=loaded,
        warnings=len(common.service().runtime.warnings),
    )
