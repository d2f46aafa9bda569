"""Pseudonyms: HMAC of channel and E.164 number; no number ever reaches a key."""

import base64
import hashlib
import hmac

import pytest

from bot.store.pseudonym import normalize, normalize_number, pseudonym, split_address


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("+32470000001", ("sms", "+32470000001")),
        ("whatsapp:+32470000001", ("whatsapp", "+32470000001")),
        ("WhatsApp: +32 470 00 00 01", ("whatsapp", "+32470000001")),
        ("  +32 (0)470 00 00 01 ", ("sms", "+32470000001")),
        ("32470000001", ("sms", "+32470000001")),
    ],
)
def test_normalize(address, expected):
    assert normalize(address) == expected


def test_unparseable_senders_are_kept_without_spaces():
    assert normalize_number("ACME INFO") == "ACMEINFO"
    assert split_address("messenger:12345") == ("messenger", "12345")


def test_pseudonym_is_the_documented_hmac():
    expected = hmac.new(b"k", b"sms:+32470000001", hashlib.sha256).digest()[:16]
    encoded = base64.urlsafe_b64encode(expected).rstrip(b"=").decode()
    assert pseudonym("k", "sms", "+32470000001") == encoded
    assert len(encoded) == 22


def test_pseudonym_normalizes_the_number_first():
    assert pseudonym("k", "sms", "+32 470 00 00 01") == pseudonym("k", "sms", "+32470000001")


def test_channel_and_secret_are_part_of_the_input():
    sms = pseudonym("k", "sms", "+32470000001")
    assert sms != pseudonym("k", "whatsapp", "+32470000001")
    assert sms != pseudonym("other", "sms", "+32470000001")
    assert "32470000001" not in sms


def test_pseudonym_needs_a_secret():
    with pytest.raises(ValueError, match="BOT_SECRET_KEY"):
        pseudonym("", "sms", "+32470000001")


def test_numbers_seen_before_are_recognised_by_keyed_digest_only():
    from bot.store import pseudonym as module

    module._canonical.clear()
    assert normalize_number("+32470000009") == "+32470000009"
    assert normalize_number("+32470000009") == "+32470000009"  # from the cache
    assert normalize_number("+32 (0)470 00 00 09") == "+32470000009"  # changed: parsed
    assert normalize_number("+32 (0)470 00 00 09") == "+32470000009"  # every time
    assert len(module._canonical) == 1
    [digest] = module._canonical
    assert isinstance(digest, bytes) and len(digest) == 16 and b"470000009" not in digest
    for i in range(module.CANONICAL_CACHE + 5):
        normalize_number(f"+3247{i:07d}")
    assert len(module._canonical) <= module.CANONICAL_CACHE
