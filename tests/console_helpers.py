"""Helpers for the console tests: staff accounts and a logged-in test client."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery staple"
"""A password long enough for every test account."""
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/console/login") -> str:
    """The CSRF token of a console page's form."""
    page = client.get(path).get_data(as_text=True)
    return _TOKEN.search(page).group(1)


def login(client, name: str, password: str = PASSWORD):
    """POST the login form with a valid CSRF token; returns the response."""
    token = csrf_token(client)
    return client.post(
        "/console/login", data={"username": name, "password": password, "csrf_token": token}
    )


def staff_client(app, redis, name: str, role: str):
    """A test client logged in as a new account `name` with `role`."""
    from bot.store.staff import Staff

    Staff(redis).add(name, role, PASSWORD)
    client = app.test_client()
    response = login(client, name)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client, path: str, data: dict | None = None, page: str = "/console/"):
    """POST to a console URL with the CSRF token of `page`."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)})
