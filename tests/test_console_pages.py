"""Translations, health, simulator and the console's own languages (en, fr, nl)."""

import json
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.settings import CHECKOUT
from tests.console_helpers import csrf_token, post, staff_client

CONSOLE = CHECKOUT / "bot" / "web" / "console"


def test_translations_page_counts_each_language(make_app, redis):
    app = make_app(BOT_FLOWS_DIR=str(CHECKOUT / "flows"))
    client = staff_client(app, redis, "ed", "editor")
    page = client.get("/console/translations").get_data(as_text=True)
    for lang in app.extensions["bot"].runtime.engine.settings.languages:
        assert f'id="lang-{lang}"' in page
    row = re.search(r'<tr id="lang-ka">.*?</tr>', page, re.S).group(0)
    numbers = re.findall(r'<td class="num">(\d+)</td>', row)
    assert len(numbers) == 3 and int(numbers[0]) > 100  # translated, fuzzy, missing
    assert "draft" in row
    fa = re.search(r'<tr id="lang-fa">.*?</tr>', page, re.S).group(0)
    assert 'dir="rtl"' in fa


def test_health_page(app, redis):
    client = staff_client(app, redis, "co", "counsellor")
    page = client.get("/console/health").get_data(as_text=True)
    assert "reachable" in page and ("RDB" in page and "AOF" in page)
    assert '<th scope="row">replies</th>' in page and '<th scope="row">default</th>' in page
    assert "no heartbeat" in page  # no worker runs in this test
    assert re.search(r'id="flows-loaded">loaded at \d{4}-\d\d-\d\d', page)


def test_health_sees_a_worker_heartbeat(app, redis):
    from rq import Queue, Worker

    worker = Worker([Queue("default", connection=redis)], connection=redis)
    worker.register_birth()
    worker.heartbeat()
    try:
        client = staff_client(app, redis, "co", "counsellor")
        page = client.get("/console/health").get_data(as_text=True)
        assert re.search(r'id="workers">1, last heartbeat \d+ s ago', page)
    finally:
        worker.register_death()


def test_the_simulator_goes_through_the_real_webhook_in_production_too(make_app, redis):
    secret = "Zq7vN2xK9pL4mR8sT1wY6bC3dF5gH0jQ-aE"
    app = make_app(BOT_ENV="production", BOT_SECRET_KEY=secret)
    client = staff_client(app, redis, "ed", "editor")
    assert client.get("/simulator/").status_code == 404  # the development page stays off
    page = client.get("/console/simulator").get_data(as_text=True)
    assert 'id="sim-channel"' in page and 'id="sim-lang"' in page
    token = csrf_token(client, "/console/simulator")
    body = {"body": "hi", "channel": "whatsapp", "from": "+32470000099"}
    response = client.post(
        "/console/simulator/send",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
        base_url="https://localhost",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["replies"]
    refused = client.post("/console/simulator/send", json=body, base_url="https://localhost")
    assert refused.status_code == 400  # no CSRF token


def _console_msgids() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = extract_from_dir(
        str(CONSOLE), method_map, keywords={"_": None, "gettext": None, "N_": None}
    )
    return {m[2] for m in found if isinstance(m[2], str)}


def test_every_console_text_is_translated_in_french_and_dutch():
    msgids = _console_msgids()
    assert len(msgids) > 80
    for lang in ("fr", "nl"):
        path = CHECKOUT / "locales" / lang / "LC_MESSAGES" / "console.po"
        with Path(path).open("rb") as fh:
            catalog = {m.id: m for m in read_po(fh) if m.id}
        missing = [m for m in msgids if m not in catalog or not catalog[m].string]
        assert missing == [], (lang, missing)
        fuzzy = [m for m in msgids if catalog[m].fuzzy]
        assert fuzzy == [], (lang, fuzzy)


def test_the_console_speaks_the_chosen_language(app, redis):
    client = staff_client(app, redis, "co", "counsellor")
    assert "Dashboard" in client.get("/console/").get_data(as_text=True)
    post(client, "/console/language", {"lang": "fr", "next": "/console/callbacks"})
    page = client.get("/console/callbacks").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Demandes de rappel" in page
    other = app.test_client()
    page = other.get("/console/login", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    assert "Aanmelden" in page.get_data(as_text=True)


def test_pages_are_usable_by_keyboard(app, redis):
    client = staff_client(app, redis, "ad", "admin")
    for path in ("/console/", "/console/callbacks", "/console/staff", "/console/simulator"):
        page = client.get(path).get_data(as_text=True)
        assert '<a class="skip" href="#main">' in page
        assert 'tabindex="-1"' in page.split('<main id="main"')[1][:20]
        assert not re.search(r'tabindex="[1-9]', page)  # no focus-order traps
        inputs = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page)
        for ident in inputs:
            assert f'for="{ident}"' in page, (path, ident)
