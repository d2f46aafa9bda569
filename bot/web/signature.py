"""The X-Twilio-Signature check: twilio's RequestValidator, with its common case made cheap.

Kept apart from the webhook so that the benchmark's floor (bench/floor.py) checks
signatures exactly as the service does, without importing the service.
"""

from __future__ import annotations

from typing import Any

from twilio import request_validator
from twilio.request_validator import RequestValidator


class _Params(dict):
    """Form fields as twilio's compute_signature reads them: `getall(name)` -> values.

    Given werkzeug's MultiDict, compute_signature tries `getall`, fails with AttributeError
    and falls back to `getlist`, once per field: a raised exception per field per message.
    """

    def getall(self, name: str) -> list[str]:
        return self[name]


def signature_ok(validator: RequestValidator, url: str, form: Any, signature: str) -> bool:
    """What `validator.validate(url, form, signature)` answers, in fewer steps when it is yes.

    `form` is werkzeug's MultiDict of the posted fields, or a dict of their value lists.

    `validate` signs the URL both with and without the default port (Twilio's signing is not
    consistent about it) and parses the URL three times; a request signed for the URL as
    configured, the common case, matches the first signature computed here. Anything else
    goes through `validate` itself, so exactly the same requests are accepted
    (tests/test_webhook.py compares the two).
    """
    params = _Params(form.lists() if hasattr(form, "lists") else form)
    expected = validator.compute_signature(url, params)
    if request_validator.compare(expected, signature):  # twilio's constant-time compare
        return True
    return validator.validate(url, params, signature)
