"""The dashboard: today's conversations, callbacks waiting, budget spent, health at a glance."""

from __future__ import annotations

from flask import render_template

from bot.jobs import callbacks as requests_
from bot.jobs import health as jobs_health
from bot.store import stats as counts
from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.security import require


@bp.get("/")
@require("counsellor")
def dashboard() -> str:
    """Four numbers staff look at first."""
    client = common.service().redis
    now = common.now()
    minimum = common.settings().stats_min_count
    today = [r for r in counts.read(client, 1, now) if r.kind == "conversations"]
    conversations = counts.shown(sum(r.count for r in today), minimum)
    waiting = len(requests_.open_requests(client, now))
    spent = common.service().store.spent(now)
    health = jobs_health.check(common.service().queue, now, client)
    return render_template(
        "console/dashboard.html",
        conversations=conversations,
        waiting=waiting,
        spent=spent,
        budget=common.settings().daily_segments,
        health=health,
    )
