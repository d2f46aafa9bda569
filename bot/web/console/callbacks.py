"""The callback queue: oldest first; a number only for the counsellor who claimed it.

Until a request is claimed its number is nowhere in the page, not even hidden. Claiming,
and each outcome (reached, not reached so try again, give back), is written to the audit
log with the request's short id and the counsellor's name, never the number. "Reached"
erases the request and its number at once; an unclaimed request expires as the privacy
notice says (BOT_CALLBACK_TTL).
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, render_template, request, url_for

from bot.jobs import callbacks as requests_
from bot.store import audit
from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.i18n import gettext
from bot.web.console.security import current, require

OUTCOMES = {
    "reached": "callback_reached",
    "retry": "callback_retry",
    "give_back": "callback_give_back",
}
"""Form value -> audit action."""


def _since(created: int, now: float) -> str:
    minutes = max(0, int(now - created) // 60)
    if minutes < 60:
        return gettext("%(n)s min", n=minutes)
    hours = minutes // 60
    if hours < 48:
        return gettext("%(n)s h", n=hours)
    return gettext("%(n)s days", n=hours // 24)


@bp.get("/callbacks")
@require("counsellor")
def callbacks_page() -> str:
    """The open requests, oldest first; the number shown only to its claimer."""
    who = current()
    now = common.now()
    rows = []
    for item in requests_.open_requests(common.service().redis, now):
        mine = item.claimed_by == who.name
        rows.append(
            {
                "id": item.id,
                "lang": item.lang,
                "language": item.language_name,
                "topic": item.topic,
                "time": item.preferred_time,
                "since": _since(item.created, now),
                "asked": dt.datetime.fromtimestamp(item.created, dt.UTC).strftime("%Y-%m-%d %H:%M"),
                "claimed_by": item.claimed_by,
                "mine": mine,
                "number": item.number if mine else None,
                "channel": item.channel,
                "attempts": item.attempts,
            }
        )
    return render_template("console/callbacks.html", rows=rows)


@bp.post("/callbacks/<request_id>/claim")
@require("counsellor")
def claim(request_id: str) -> Response:
    """Take a request; from now on only this counsellor sees its number."""
    who = current()
    client = common.service().redis
    try:
        found = requests_.claim(client, request_id, who.name)
    except requests_.ClaimedByOther:
        flash(gettext("Another counsellor has already claimed this request."))
        return redirect(url_for("console.callbacks_page"))
    if found is None:
        abort(404, "no such open request (handled, expired or erased)")
    audit.record(client, who.name, "callback_claim", f"request {request_id}")
    return redirect(url_for("console.callbacks_page") + f"#cb-{request_id}")


@bp.post("/callbacks/<request_id>/outcome")
@require("counsellor")
def outcome(request_id: str) -> Response:
    """Reached (erase it), not reached (back to the queue, one more try) or give back."""
    who = current()
    client = common.service().redis
    choice = request.form.get("outcome", "")
    if choice not in OUTCOMES:
        abort(400, "outcome must be reached, retry or give_back")
    try:
        if choice == "reached":
            found = requests_.reached(client, request_id, who.name)
        else:
            found = requests_.release(client, request_id, who.name, tried=choice == "retry")
    except requests_.ClaimedByOther:
        abort(403, "only the counsellor who claimed this request may close it")
    if found is None:
        abort(404, "no such open request (handled, expired or erased)")
    audit.record(client, who.name, OUTCOMES[choice], f"request {request_id}")
    return redirect(url_for("console.callbacks_page"))
