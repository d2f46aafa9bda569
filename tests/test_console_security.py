"""The console's security rules: logins, CSRF, lockout, sessions, cookies, headers, roles."""

import re

import pytest

from bot.store import audit, keys
from bot.store.staff import Staff
from tests.console_helpers import PASSWORD, csrf_token, login, post, staff_client

PAGES = {
    "/console/": "counsellor",
    "/console/callbacks": "counsellor",
    "/console/stats": "counsellor",
    "/console/stats.csv": "counsellor",
    "/console/health": "counsellor",
    "/console/flows": "editor",
    "/console/translations": "editor",
    "/console/simulator": "editor",
    "/console/posters": "editor",
    "/console/audit": "admin",
    "/console/staff": "admin",
}
"""Every console page and the least role that may open it."""
ROLES = ("counsellor", "editor", "admin")


def test_login_form_has_the_fields_and_a_csrf_token(client):
    page = client.get("/console/login").get_data(as_text=True)
    assert re.search(r'<input[^>]+name="username"', page)
    assert re.search(r'<input[^>]+name="password"[^>]+type="password"', page)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}"', page)


def test_every_page_redirects_to_login_when_logged_out(app, client):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("console.")]
    gets = [
        r
        for r in rules
        if "GET" in r.methods and r.endpoint not in ("console.login", "console.static")
    ]
    assert len(gets) >= len(PAGES)
    for rule in gets:
        path = rule.rule.replace("<name>", "languages").replace("<draft_id>", "x")
        path = path.replace("<lang>", "ka")
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/console/login"), path


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_a_valid_csrf_token_answers_400(app, redis, token):
    Staff(redis).add("ana", "admin", PASSWORD)
    client = app.test_client()
    client.get("/console/login")
    data = {"username": "ana", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/console/login", data=data)
    assert response.status_code == 400
    assert client.get("/console/").status_code == 302  # no session


def test_csrf_is_checked_on_every_console_post_once_logged_in(app, redis):
    client = staff_client(app, redis, "ana", "admin")
    for path in ("/console/logout", "/console/staff/add", "/console/callbacks/abc/claim"):
        assert client.post(path, data={}).status_code == 400, path
    assert client.get("/console/").status_code == 200  # still logged in


def test_a_wrong_password_creates_no_session(app, redis):
    Staff(redis).add("ana", "admin", PASSWORD)
    client = app.test_client()
    response = login(client, "ana", PASSWORD + "!")
    assert response.status_code == 401
    assert client.get("/console/").status_code == 302
    assert redis.keys(keys.staff_session_key("*")) == []


def test_five_wrong_passwords_answer_429_even_with_the_right_one(app, redis):
    Staff(redis).add("ana", "counsellor", PASSWORD)
    client = app.test_client()
    codes = [login(client, "ana", f"wrong password {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    response = login(client, "ana", PASSWORD)
    assert response.status_code == 429
    assert client.get("/console/").status_code == 302
    assert 800 < redis.ttl(keys.staff_lockout_key("ana")) <= 900
    other = app.test_client()
    Staff(redis).add("bob", "counsellor", PASSWORD)
    assert login(other, "bob").status_code == 302  # only that name is locked
    actions = [e.action for e in audit.recent(redis, 1)]
    assert actions.count("login_failed") == 5 and actions.count("lockout") == 1


def test_logout_ends_the_session_even_for_a_copied_cookie(app, redis):
    client = staff_client(app, redis, "ana", "counsellor")
    cookie = client.get_cookie("bot_console", path="/console")
    assert client.get("/console/").status_code == 200
    response = post(client, "/console/logout")
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("bot_console", cookie.value, path="/console")
    assert replay.get("/console/").status_code == 302
    assert redis.keys(keys.staff_session_key("*")) == []


def test_an_idle_session_ends(app, redis):
    client = staff_client(app, redis, "ana", "counsellor")
    (name,) = redis.keys(keys.staff_session_key("*"))
    assert 1790 <= redis.ttl(name) <= 1800
    redis.delete(name)  # what Redis does after 30 minutes without a page
    assert client.get("/console/").status_code == 302


@pytest.mark.parametrize("env", ["development", "production"])
def test_session_cookie_flags(make_app, redis, env):
    secret = "Zq7vN2xK9pL4mR8sT1wY6bC3dF5gH0jQ-aE"
    app = make_app(BOT_ENV=env, BOT_SECRET_KEY=secret)
    Staff(redis).add("ana", "counsellor", PASSWORD)
    client = app.test_client()
    base = "https://bot.example.org" if env == "production" else "http://localhost"
    token_page = client.get("/console/login", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', token_page).group(1)
    response = client.post(
        "/console/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": token},
        base_url=base,
        headers={"Referer": base + "/console/login"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert ("Secure" in cookie) == (env == "production")


def test_security_headers_on_every_console_page(app, redis):
    client = staff_client(app, redis, "ana", "admin")
    for path in [*PAGES, "/console/login", "/console/posters/sheet?langs=en"]:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_no_page_has_an_inline_script_style_or_remote_file(app, redis):
    client = staff_client(app, redis, "ana", "admin")
    for path in [*PAGES, "/console/posters/sheet?langs=ka"]:
        page = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script[^>]*>", page):
            assert 'src="/console/static/' in tag, (path, tag)
        assert not re.search(r"<script[^>]*>[^<]+</script>", page), path
        assert not re.search(r"\son[a-z]+=", page), path
        assert "style=" not in page and "<style" not in page, path
        assert not re.search(r'(src|href)="(https?:)?//', page), path


@pytest.mark.parametrize("role", ROLES)
def test_roles_open_their_pages_and_get_403_elsewhere(app, redis, role):
    client = staff_client(app, redis, f"a-{role}", role)
    for path, needed in PAGES.items():
        expected = 200 if ROLES.index(role) >= ROLES.index(needed) else 403
        assert client.get(path).status_code == expected, (role, path)


def test_a_removed_account_is_logged_out_at_its_next_page(app, redis):
    client = staff_client(app, redis, "ana", "editor")
    Staff(redis).remove("ana")
    assert client.get("/console/").status_code == 302


def test_staff_changes_in_the_console_are_audited(app, redis):
    client = staff_client(app, redis, "root", "admin")
    data = {"username": "bob", "role": "counsellor", "password": PASSWORD}
    assert post(client, "/console/staff/add", data).status_code == 302
    assert Staff(redis).get("bob").role == "counsellor"
    assert post(client, "/console/staff/bob/remove").status_code == 302
    assert Staff(redis).get("bob") is None
    found = [(e.actor, e.action, e.detail) for e in audit.recent(redis, 1)]
    assert ("root", "staff_add", "bob as counsellor") in found
    assert ("root", "staff_remove", "bob") in found
    assert ("root", "login", "") in found
    page = client.get("/console/audit").get_data(as_text=True)
    assert "staff_remove" in page and "login" in page


def test_every_console_key_has_a_ttl(app, redis):
    client = staff_client(app, redis, "ana", "admin")
    login(app.test_client(), "ana", "a wrong password")
    client.get("/console/stats")
    found = redis.keys("bot:*")
    assert found
    assert all(redis.ttl(k) > 0 for k in found), [k for k in found if redis.ttl(k) <= 0]


def test_csrf_token_is_per_session(app, redis):
    one = staff_client(app, redis, "ana", "admin")
    two = app.test_client()
    two.get("/console/login")
    token = csrf_token(one, "/console/")
    response = two.post(
        "/console/login", data={"username": "ana", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400
