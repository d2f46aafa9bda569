"""Anonymous statistics: a table per day, flow, node, language and channel, two charts and a
CSV of the same table. Every count below BOT_STATS_MIN_COUNT shows as "<N", here and in
the CSV, so no small group can be singled out."""

from __future__ import annotations

import csv
import io

from flask import Response, render_template, request

from bot.store import stats as counts
from bot.web.console import charts, common
from bot.web.console.blueprint import bp
from bot.web.console.i18n import gettext
from bot.web.console.security import require

DAYS = 14
"""Days shown by default."""
MAX_DAYS = 90
"""Days kept (bot.store.stats.STATS_TTL), so the most that can be asked for."""
FUNNEL_FLOW = "eligibility"
"""The flow whose questions make the funnel chart."""
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
"""Policy of the chart images: pygal's inline <style>, nothing else (an image runs no script)."""


def _days() -> int:
    try:
        return min(max(int(request.args.get("days", DAYS)), 1), MAX_DAYS)
    except ValueError:
        return DAYS


def _table() -> tuple[list[counts.Row], list[str]]:
    client = common.service().redis
    now = common.now()
    days = _days()
    rows = counts.read(client, days, now)
    names = [counts.day_of(now - back * 86400) for back in range(days - 1, -1, -1)]
    return rows, names


def funnel_steps(rows: list[counts.Row]) -> list[tuple[str, int]]:
    """The funnel flow's waiting nodes in file order, with the messages that reached each."""
    flows = common.service().runtime.engine.flows.flows
    flow = flows.get(FUNNEL_FLOW)
    if flow is None:
        return []
    totals: dict[str, int] = {}
    for r in rows:
        if r.kind == "node" and r.flow == FUNNEL_FLOW:
            totals[r.node] = totals.get(r.node, 0) + r.count
    return [(n.id, totals.get(n.id, 0)) for n in flow.nodes.values() if n.waits]


@bp.get("/stats")
@require("counsellor")
def stats_page() -> str:
    """The table and the two charts."""
    rows, _names = _table()
    minimum = common.settings().stats_min_count
    shown = [(r, counts.shown(r.count, minimum)) for r in rows]
    return render_template(
        "console/stats.html", rows=shown, days=_days(), minimum=minimum, funnel=FUNNEL_FLOW
    )


@bp.get("/stats.csv")
@require("counsellor")
def stats_csv() -> Response:
    """The same table as CSV, with the same suppression."""
    rows, _names = _table()
    minimum = common.settings().stats_min_count
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "kind", "flow", "node", "language", "channel", "count"])
    for r in rows:
        writer.writerow(
            [r.day, r.kind, r.flow, r.node, r.lang, r.channel, counts.shown(r.count, minimum)]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=stats.csv"},
    )


@bp.get("/stats/<name>.svg")
@require("counsellor")
def chart(name: str) -> Response:
    """One chart as an SVG image."""
    rows, names = _table()
    minimum = common.settings().stats_min_count
    if name == "languages":
        title = gettext("Conversations per day by language")
        body = charts.conversations_by_language(rows, names, minimum, title)
    elif name == "funnel":
        body = charts.funnel(funnel_steps(rows), minimum, gettext("Eligibility questions reached"))
    else:
        return Response("404 Not Found: no such chart\n", status=404, mimetype="text/plain")
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response
