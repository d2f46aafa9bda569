"""The console's protections: sessions kept in Redis, roles, CSRF, cookies and headers.

A session cookie carries only a random session id (in Flask's signed cookie); the session
itself lives in Redis (bot.store.staff) and ends after `SESSION_IDLE` without a page, at
logout, or when the account is removed. Every POST needs Flask-WTF's CSRF token. Every
console answer carries headers that keep it out of frames, send no Referer and allow no
inline script (`CSP`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, abort, current_app, g, redirect, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.settings import Settings
from bot.store.staff import SESSION_IDLE, Session, Staff, may

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The console's Content-Security-Policy: its own files only, nothing inline, no frames."""
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Headers on every console answer (no-store: a shared computer keeps no page)."""

csrf = CSRFProtect()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signer for requests that sent no cookie.

    Flask opens a session for every request, and its interface builds a new
    itsdangerous serializer each time before it looks for the cookie. Twilio's webhooks
    never send one (the cookie's path is /console): they get the same empty session Flask
    would give them, without that work on the message path.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def session_secret(secret_key: str) -> str:
    """Flask's SECRET_KEY for the console, derived from BOT_SECRET_KEY (not the same key)."""
    return hmac.new(secret_key.encode(), b"console-session", hashlib.sha256).hexdigest()


def init_app(app: Flask, settings: Settings) -> None:
    """Cookie settings, CSRF protection (console only) and the headers."""
    app.config.update(
        SECRET_KEY=session_secret(settings.secret_key),
        SESSION_COOKIE_NAME="bot_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=SESSION_IDLE),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        # Flask-WTF's HTTPS Referer check would refuse every form: the console sends
        # Referrer-Policy: no-referrer. The token and the SameSite=Strict cookie protect.
        WTF_CSRF_SSL_STRICT=False,
    )
    # Twilio cannot send a CSRF token: only the console's requests are checked
    # (`check_csrf`, before every console view).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.session_interface = CookieSessions()

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Response:
        text = f"400 Bad Request: {exc.description} Reload the page and try again.\n"
        return Response(text, status=400, mimetype="text/plain")


def check_csrf() -> None:
    """A POST without a valid CSRF token answers 400 (Flask-WTF)."""
    csrf.protect()


def add_headers(response: Response) -> Response:
    """The security headers, on every console answer."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def staff() -> Staff:
    """The staff accounts on the app's Redis."""
    return current_app.extensions["bot.staff"]


def current() -> Session | None:
    """The logged-in staff member of this request, or None."""
    if "staff" not in g:
        sid = session.get("sid")
        g.staff = staff().session(sid) if isinstance(sid, str) else None
    return g.staff


def require(role: str) -> Callable:
    """A view for `role` and above: 302 to the login page when logged out, 403 otherwise."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            who = current()
            if who is None:
                session.clear()
                return redirect(url_for("console.login"))
            if not may(who.role, role):
                abort(403, "your role may not open this page")
            return view(*args, **kwargs)

        checked.required_role = role  # type: ignore[attr-defined]
        return checked

    return wrap
