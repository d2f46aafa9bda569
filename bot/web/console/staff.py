"""Staff management for administrators: the accounts, add one, remove one (audited).

Passwords are set here or with `bot staff add/passwd`; they are never shown again.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from bot.store import audit
from bot.store.staff import ROLES, StaffError
from bot.web.console import common, security
from bot.web.console.blueprint import bp
from bot.web.console.i18n import gettext
from bot.web.console.security import current, require


@bp.get("/staff")
@require("admin")
def staff_page() -> str:
    """The accounts."""
    return render_template("console/staff.html", accounts=security.staff().list(), roles=ROLES)


@bp.post("/staff/add")
@require("admin")
def staff_add() -> Response:
    """Make an account."""
    name = request.form.get("username", "").strip().lower()
    role = request.form.get("role", "")
    try:
        security.staff().add(name, role, request.form.get("password", ""))
    except StaffError as exc:
        flash(str(exc))
    else:
        audit.record(common.service().redis, current().name, "staff_add", f"{name} as {role}")
    return redirect(url_for("console.staff_page"))


@bp.post("/staff/<name>/remove")
@require("admin")
def staff_remove(name: str) -> Response:
    """Remove an account; its sessions end at their next page."""
    who = current()
    if name == who.name:
        flash(gettext("You cannot remove your own account here; use `bot staff remove`."))
    elif security.staff().remove(name):
        audit.record(common.service().redis, who.name, "staff_remove", name)
    return redirect(url_for("console.staff_page"))
