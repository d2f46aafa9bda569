"""`bot chat --url` against a real HTTP server running the app, as in the README."""

import json
import threading

import pytest
from click.testing import CliRunner
from conftest import TEST_AUTH_TOKEN
from werkzeug.serving import make_server

from bot.cli import main
from bot.cli.simulator import reply_texts, twilio_params, webhook_url


@pytest.fixture
def server(make_app):
    app = make_app(PUBLIC_URL="")
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()


def test_webhook_url():
    assert webhook_url("http://h:1") == "http://h:1/webhooks/twilio"
    assert webhook_url("http://h:1/webhooks/twilio/") == "http://h:1/webhooks/twilio"


def test_whatsapp_params():
    params = twilio_params("hi", "+32470000001", "whatsapp")
    assert params["From"] == "whatsapp:+32470000001"
    assert params["WaId"] == "32470000001"
    assert params["MessageSid"].startswith("SM")
    assert params["MessageSid"] != twilio_params("hi", "+32470000001", "sms")["MessageSid"]


def test_reply_texts():
    xml = "<Response><Message>a</Message><Message><Body>b</Body></Message></Response>"
    assert reply_texts(xml) == ["a", "b"]


def test_chat_with_a_running_service(server, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TEST_AUTH_TOKEN)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    result = CliRunner().invoke(main, ["chat", "--url", server, "--json"], input="hi\n2\nhello\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["in"] for line in lines] == ["hi", "2", "hello"]
    assert lines[1]["out"] == ["Say something."]
    assert lines[2]["out"][0].startswith("You said: hello\n\nPick one:")


def test_wrong_token_is_explained(server, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong")
    result = CliRunner().invoke(main, ["chat", "--url", server], input="hi\n")
    assert result.exit_code != 0
    assert "refused the signature" in result.output


def test_service_not_running_is_explained(monkeypatch):
    from bot.store.embedded import free_port

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "x")
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["chat", "--url", url], input="hi\n")
    assert result.exit_code != 0
    assert "Is the service running?" in result.output
