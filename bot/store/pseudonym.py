"""Turn a Twilio address into a channel, a normalized number and a pseudonym.

The pseudonym names a conversation in Redis and in logs. It is an HMAC of the channel and
the E.164 number keyed with `BOT_SECRET_KEY`: without the key nobody can test whether a
given number wrote to the service. The channel is part of the input, so the same number
on SMS and on WhatsApp are two conversations (as they are two threads on the phone).
Changing the key starts every conversation afresh.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

import phonenumbers

SMS = "sms"
WHATSAPP = "whatsapp"
PSEUDONYM_BYTES = 16
"""Bytes of HMAC kept: 128 bits, 22 characters of base64url inside every key."""


def split_address(address: str) -> tuple[str, str]:
    """`whatsapp:+32...` -> ("whatsapp", "+32..."); a plain number is an SMS address."""
    address = (address or "").strip()
    scheme, sep, rest = address.partition(":")
    if sep and scheme.isalpha():
        return scheme.lower(), rest.strip()
    return SMS, address


CANONICAL_CACHE = 4096
"""How many already-normalized senders each process recognises without parsing again."""
_canonical_key = secrets.token_bytes(32)
_canonical: set[bytes] = set()


def normalize_number(number: str) -> str:
    """E.164 when the number parses (`+32 470 00 00 00` -> `+32470000000`).

    Twilio already sends E.164; short codes and alphanumeric senders do not parse and are
    kept as they are (without spaces), so they still get a stable pseudonym.

    Parsing costs about 30 µs, a few percent of a message, and a person sends many
    messages, so each process remembers which inputs came out unchanged: as digests keyed
    with a random key made at start, never the numbers.
    """
    raw = "".join((number or "").split())
    seen = hashlib.blake2b(raw.encode(), key=_canonical_key, digest_size=16).digest()
    if seen in _canonical:
        return raw
    normalized = _parse(raw)
    if normalized == raw:
        if len(_canonical) >= CANONICAL_CACHE:
            _canonical.clear()
        _canonical.add(seen)
    return normalized


def _parse(raw: str) -> str:
    candidate = raw if raw.startswith("+") else "+" + raw
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize(address: str) -> tuple[str, str]:
    """A Twilio `From` address -> (channel, normalized number)."""
    channel, number = split_address(address)
    return channel, normalize_number(number)


@functools.lru_cache(maxsize=4)
def _keyed(secret: str | bytes) -> hmac.HMAC:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, digestmod=hashlib.sha256)


def keyed_sha256(secret: str | bytes) -> hmac.HMAC:
    """A fresh HMAC-SHA256 keyed with `secret`: a copy of one keyed once per secret
    (keying costs as much as hashing a short message, on every message otherwise)."""
    return _keyed(secret).copy()


def pseudonym(secret: str | bytes, channel: str, number: str, *, normalized: bool = False) -> str:
    """HMAC-SHA256 of `channel:number`, first 16 bytes, base64url without padding.

    The number is normalized first (parsing costs about 20 µs) unless the caller says it
    already went through `normalize_number`, as the webhook's has.
    """
    if not secret:
        raise ValueError("BOT_SECRET_KEY is empty: pseudonyms need a secret key")
    mac = keyed_sha256(secret)
    mac.update(f"{channel}:{number if normalized else normalize_number(number)}".encode())
    digest = mac.digest()[:PSEUDONYM_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
