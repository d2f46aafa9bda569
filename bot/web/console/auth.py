"""Logging in and out of the console, with the lockout and the audit log."""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, session, url_for

from bot.store import audit as audit_log
from bot.web.console import security
from bot.web.console.blueprint import bp
from bot.web.console.i18n import LANGUAGES, gettext


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a right password opens a session, five wrong ones lock the name."""
    if request.method == "GET":
        return render_template("console/login.html", error="")
    name = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    staff = security.staff()
    client = current_app.extensions["bot"].redis
    if staff.locked(name):
        audit_log.record(client, name or "-", "login_failed", "locked out")
        error = gettext("Too many wrong passwords. Try again in 15 minutes.")
        return render_template("console/login.html", error=error), 429
    account = staff.verify(name, password)
    if account is None:
        locked = staff.fail(name)
        if staff.get(name) is not None or locked:
            audit_log.record(client, name, "lockout" if locked else "login_failed")
        else:
            audit_log.record(client, "-", "login_failed", "unknown name")
        error = gettext("Wrong name or password.")
        return render_template("console/login.html", error=error), 401
    session.clear()
    opened = staff.open_session(account)
    session["sid"] = opened.id
    audit_log.record(client, account.name, "login")
    return redirect(url_for("console.dashboard"))


@bp.post("/logout")
def logout() -> Response:
    """End the session now."""
    who = security.current()
    if who is not None:
        security.staff().close_session(who.id)
        audit_log.record(current_app.extensions["bot"].redis, who.name, "logout")
    session.clear()
    return redirect(url_for("console.login"))


@bp.post("/language")
def language() -> Response:
    """Choose the console's language (kept in the session cookie)."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.form.get("next", "")
    if not target.startswith("/console/") or "//" in target:
        target = url_for("console.dashboard")
    return redirect(target)
