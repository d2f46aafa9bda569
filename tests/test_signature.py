"""bot.web.signature: the same answers as twilio's RequestValidator.validate, sooner."""

from __future__ import annotations


def test_signature_check_accepts_exactly_what_twilios_validate_accepts():
    import random

    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    from bot.web.signature import signature_ok

    validator = RequestValidator("token-123")
    other = RequestValidator("another-token")
    rng = random.Random(5)
    outcomes = {True: 0, False: 0}
    urls = [
        "https://bot.example.org/webhooks/twilio",
        "https://bot.example.org:443/webhooks/twilio",
        "http://127.0.0.1:5000/webhooks/twilio?x=1&y=2",
        "https://bot.example.org/webhooks/twilio?bodySHA256=abc",
    ]
    for _ in range(300):
        pairs = [
            (
                rng.choice(["Body", "From", "To", "NumMedia", "ÄB"]),
                rng.choice(["", "1", "سلام", "a b"]),
            )
            for _ in range(rng.randint(0, 6))
        ]
        form = MultiDict(pairs)
        signed_for = rng.choice(urls)
        checked = rng.choice([signed_for, *urls])
        signer = rng.choice([validator, validator, other])
        signature = signer.compute_signature(signed_for, dict(form.lists()) and _flat(form))
        if rng.random() < 0.1:
            signature = signature[:-2] + "xx"
        expected = validator.validate(checked, form, signature)
        assert signature_ok(validator, checked, form, signature) == expected
        # The webhook passes the fields as a dict of value lists: the same answers.
        assert signature_ok(validator, checked, dict(form.lists()), signature) == expected
        outcomes[expected] += 1
    assert outcomes[True] > 50 and outcomes[False] > 50  # both kinds were tried


def _flat(form):
    """Twilio signs each value of a repeated field; a dict of lists gives it all of them."""

    class Params(dict):
        def getall(self, name):
            return self[name]

    return Params(form.lists())
