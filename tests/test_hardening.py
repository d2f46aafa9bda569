"""The webhooks refuse what Twilio would never send: oversized bodies, too many fields, other
methods, unsigned or wrongly signed requests; and an error never shows a debug page."""

from __future__ import annotations

import logging

import pytest
from conftest import SENDER, stored_nothing
from twilio import request_validator

from bot.web.webhook import MAX_BODY_BYTES, MAX_FORM_FIELDS

ROUTES = ["/webhooks/twilio", "/webhooks/twilio/status"]


def status_params() -> dict[str, str]:
    return {"MessageSid": "SM" + "7" * 32, "MessageStatus": "delivered", "To": SENDER}


def params_for(twilio, path: str, **extra) -> dict[str, str]:
    params = twilio.message("hi") if path == ROUTES[0] else status_params()
    params.update(extra)
    return params


# --- sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
def test_a_body_over_the_limit_is_413(twilio, redis, path):
    params = params_for(twilio, path, Body="x" * (MAX_BODY_BYTES + 1))
    response = twilio.post(path, params)
    assert response.status_code == 413
    assert response.mimetype == "text/plain"
    assert stored_nothing(redis)


def test_a_large_unsigned_body_is_refused_before_it_is_read(client):
    response = client.post(
        ROUTES[0], data=b"x" * (MAX_BODY_BYTES * 4), content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_a_body_just_under_the_limit_is_read(twilio):
    params = twilio.message("y" * (MAX_BODY_BYTES - 2000))
    assert twilio.post(ROUTES[0], params).status_code == 200


@pytest.mark.parametrize("path", ROUTES)
def test_too_many_form_fields_is_413(twilio, redis, path):
    params = params_for(twilio, path)
    params.update({f"X{i}": "1" for i in range(MAX_FORM_FIELDS + 1 - len(params))})
    assert len(params) == MAX_FORM_FIELDS + 1
    response = twilio.post(path, params)
    assert response.status_code == 413
    assert "form fields" in response.get_data(as_text=True)
    assert stored_nothing(redis)


def test_too_many_multipart_parts_is_413(client):
    data = {f"X{i}": "1" for i in range(MAX_FORM_FIELDS * 2)}
    response = client.post(ROUTES[0], data=data, content_type="multipart/form-data")
    assert response.status_code == 413


# --- methods --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("method", ["get", "head", "put", "patch", "delete", "options"])
def test_only_post_is_allowed(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    if method != "head":
        assert response.mimetype == "text/plain"


# --- signatures -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", "x" * 28])
def test_a_missing_or_bad_signature_is_403(twilio, redis, path, signature):
    response = twilio.post(path, params_for(twilio, path), signature=signature)
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert stored_nothing(redis)


def test_a_signature_for_other_parameters_is_403(twilio, redis):
    params = twilio.message("hi")
    signature = twilio.sign("https://bot.example.org/webhooks/twilio", params)
    params["Body"] = "changed on the way"
    assert twilio.post(ROUTES[0], params, signature=signature).status_code == 403
    assert stored_nothing(redis)


def test_a_json_body_is_403(client, redis):
    response = client.post(ROUTES[0], json={"From": SENDER, "Body": "hi"})
    assert response.status_code == 403
    assert stored_nothing(redis)


def test_signatures_are_compared_in_constant_time(twilio, monkeypatch):
    """twilio's validator compares with its own `compare`, which reads every character
    whatever the first difference; every check must go through it, never through `==`."""
    compare = request_validator.compare
    calls = []

    def spy(a, b):
        calls.append(1)
        return compare(a, b)

    monkeypatch.setattr(request_validator, "compare", spy)
    assert twilio.sms("hi").status_code == 200
    checked = len(calls)
    assert checked > 0
    assert twilio.sms("hi", signature="A" * 28).status_code == 403
    assert len(calls) > checked
    assert compare("abc", "abd") is False and compare("abc", "abc") is True


# --- errors ---------------------------------------------------------------------------


def test_an_exception_gives_a_plain_500_without_traceback(app, client, monkeypatch, caplog):
    def broken(_service):
        raise RuntimeError(f"boom for {SENDER}")

    monkeypatch.setattr("bot.web.webhook.check_request", broken)
    with caplog.at_level(logging.ERROR):
        response = client.post(ROUTES[0], data={"From": SENDER, "Body": "secret words"})
    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert body == "500 Internal Server Error\n"
    assert "Traceback" not in body and "RuntimeError" not in body
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged  # staff see what failed, where
    assert SENDER.lstrip("+") not in logged and "secret words" not in logged


def test_debug_mode_cannot_be_switched_on_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = make_app()
    assert app.debug is False
    assert app.config["PROPAGATE_EXCEPTIONS"] is False
    app.view_functions["webhook.healthz"] = lambda: 1 / 0
    response = app.test_client().get("/healthz")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert "Werkzeug Debugger" not in response.get_data(as_text=True)


def test_errors_name_no_server_internals(client):
    response = client.get("/nothing")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert "/work" not in response.get_data(as_text=True)
