"""The development simulator page talks to the real, signed webhook."""

from bot.web.simulator import PAGE


def test_page_is_served(client):
    response = client.get("/simulator/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == PAGE


def test_messages_go_through_the_signed_webhook_in_any_script(client, redis):
    first = client.post("/simulator/send", json={"body": "გამარჯობა", "from": "+995599000001"})
    assert first.status_code == 200
    replies = first.get_json()["replies"]
    assert replies and any("\u10d0" <= c <= "\u10ff" for c in replies[0])  # Georgian letters
    again = client.post("/simulator/send", json={"body": "1", "from": "+995599000001"})
    assert again.get_json()["replies"]


def test_no_simulator_in_production(make_app):
    import secrets

    app = make_app(BOT_ENV="production", BOT_SECRET_KEY=secrets.token_urlsafe(32))
    assert app.test_client().get("/simulator/").status_code == 404
