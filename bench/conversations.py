"""Realistic conversations from many distinct senders, as signed Twilio webhook requests.

A conversation is one script (what one person types, message by message) from one made-up
number on SMS or WhatsApp. The scripts are what people send to the shipped flows in English,
Georgian, Armenian, Persian, Arabic and Russian: greetings, menu numbers (Latin and native
digits), eligibility answers in words, country names, global commands (MENU, BACK, LANG, STOP,
FORGET), typos and free text the flows do not understand. Inputs in ka, hy, fa and ar follow
the native-script transcripts of the test suite; every script is checked against the engine
by tests/test_bench.py (the first reply is in the script's language).

Numbers are generated from an index, so every conversation of a run has its own sender; they
never leave the machine (the load generator posts to 127.0.0.1 only). Requests are signed the
way Twilio signs them, with twilio's RequestValidator, once, before the load starts.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

WEBHOOK_PATH = "/webhooks/twilio"
"""The inbound route of the service (and of the floor)."""
TWILIO_NUMBER = "+15005550006"
"""The service's own number in the requests: Twilio's magic test number, never a real line."""
WHATSAPP_SHARE = 0.6
"""Share of conversations on WhatsApp; the others are SMS."""
BELGIAN_SHARE = 0.4
"""Share of senders with a Belgian number (which says nothing about their language)."""

# fmt: off
SCRIPTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        # Eligibility, a wrong answer, visa required (flows/transcripts/eligibility_visa_required)
        ("hi", "1", "perhaps", "no", "2", "1", "2", "2", "Irak", "1", "BACK", "2"),
        # Eligibility by keyword, Georgia, then the steps
        ("Hello", "eligible", "2", "I am not sure", "3", "3", "yes", "Georgia", "2", "BACK"),
        # Free text first, the six steps with a typo, back to the menu
        ("Hello I want to go back home, can you help me?", "2", "1", "nxt", "1", "1", "MENU"),
        # FAQ and a counsellor desk
        ("hi", "6", "1", "2", "BACK", "other questions", "family", "0", "4", "1", "gent"),
        # Help, STOP and START, reintegration
        ("hi", "3", "1", "medical", "HELP", "STOP", "START", "3", "housing"),
        # Privacy, FORGET cancelled
        ("hello", "7", "1", "2", "FORGET", "no", "menu"),
        # Visa-free country after an asylum refusal
        ("hi", "1", "2", "2", "refused", "2", "2", "Kosovo", "1"),
    ),
    "ka": (
        ("გამარჯობა", "1", "არა", "არა", "კი, გადაწყვეტილებას ველოდები", "არა", "2",
         "საქართველო", "მენიუ", "ენა", "Русский", "ენა", "ქართული", "უკან"),
        ("გამარჯობა, მინდა სახლში დაბრუნება", "2", "1", "1", "მენიუ", "3", "1"),
    ),
    "hy": (
        ("Բարեւ", "1", "ոչ", "ոչ", "3", "ոչ", "ոչ", "Հայաստան", "գլխավոր մենյու", "լեզու",
         "4", "LANG", "Հայերեն"),
        ("Բարեւ ձեզ", "4", "1", "գլխավոր մենյու", "6", "1"),
    ),
    "fa": (
        ("سلام", "۱", "نه", "۲", "بله، و رد شد", "۲", "نه", "افغانستان", "منو", "۴",
         "زبان", "العربية", "زبان", "۶", "برگشت"),
        ("سلام، می‌خواهم به کشورم برگردم", "۲", "۱", "۱", "منو", "۳"),
    ),
    "ar": (
        ("مرحبا", "١", "لا", "لا", "١", "لا", "٢", "سوريا", "القائمة", "٢", "اللغة", "فارسی",
         "تغيير اللغة", "٧"),
        ("مرحبا، أريد العودة إلى بلدي", "٤", "١", "القائمة", "٦", "١"),
    ),
    "ru": (
        ("Здравствуйте", "1", "нет", "2", "3", "2", "2", "Молдова", "1", "назад", "меню",
         "язык", "8"),
        ("Привет, хочу вернуться домой", "2", "1", "1", "назад", "меню", "3", "1"),
    ),
}
# fmt: on
"""What people send, by the language they write in: one tuple per conversation script."""

LANGUAGE_WEIGHTS = {"en": 3, "ka": 2, "hy": 1, "fa": 2, "ar": 2, "ru": 2}
"""How often each language is picked, roughly as an NGO's inbound mix might look."""

COUNTRY_PREFIXES: dict[str, tuple[tuple[str, int], ...]] = {
    "en": (("+234803", 7), ("+44770", 6)),  # Nigeria, United Kingdom
    "ka": (("+99559", 7),),  # Georgia
    "hy": (("+37491", 6),),  # Armenia
    "fa": (("+9370", 7), ("+98912", 7)),  # Afghanistan, Iran
    "ar": (("+963944", 6), ("+964770", 7)),  # Syria, Iraq
    "ru": (("+7916", 7),),  # Russia
}
"""Mobile prefixes of each language's countries, with how many digits follow them."""
BELGIAN_PREFIX = ("+32470", 6)
"""A Belgian mobile prefix: many people write from a Belgian SIM."""


@dataclass(frozen=True)
class Conversation:
    """One person's messages, in order, from one number on one channel."""

    sender: str  # E.164, made up from the conversation's index
    channel: str  # "sms" or "whatsapp"
    lang: str  # the language the script is written in
    script: tuple[str, ...]


def _number(prefix: tuple[str, int], index: int) -> str:
    start, digits = prefix
    return start + str(index % 10**digits).zfill(digits)


def make_conversations(count: int, seed: int = 0, first_index: int = 0) -> list[Conversation]:
    """`count` conversations with distinct senders (indexes first_index, first_index + 1, ...)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
    langs = list(LANGUAGE_WEIGHTS)
    weights = [LANGUAGE_WEIGHTS[lang] for lang in langs]
    result = []
    for index in range(first_index, first_index + count):
        lang = rng.choices(langs, weights)[0]
        script = rng.choice(SCRIPTS[lang])
        belgian = rng.random() < BELGIAN_SHARE
        prefix = BELGIAN_PREFIX if belgian else rng.choice(COUNTRY_PREFIXES[lang])
        channel = "whatsapp" if rng.random() < WHATSAPP_SHARE else "sms"
        result.append(Conversation(_number(prefix, index), channel, lang, script))
    return result


def message_sid(conversation: Conversation, position: int, salt: str = "") -> str:
    """A MessageSid unique to this message of this conversation (SM + 32 hex digits)."""
    seed = f"{salt}:{conversation.channel}:{conversation.sender}:{position}".encode()
    return "SM" + hashlib.sha256(seed).hexdigest()[:32]


def form_fields(conversation: Conversation, position: int, salt: str = "") -> dict[str, str]:
    """The form fields Twilio posts for message `position` of the conversation."""
    fields = {
        "MessageSid": message_sid(conversation, position, salt),
        "AccountSid": "AC" + "0" * 32,
        "From": conversation.sender,
        "To": TWILIO_NUMBER,
        "Body": conversation.script[position],
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if conversation.channel == "whatsapp":
        fields.update(
            From="whatsapp:" + conversation.sender,
            To="whatsapp:" + TWILIO_NUMBER,
            WaId=conversation.sender.lstrip("+"),
            ProfileName="Bench Person",
        )
    return fields


@dataclass(frozen=True)
class SignedRequest:
    """A form-encoded body and the X-Twilio-Signature Twilio would send with it."""

    body: str
    signature: str


def sign(fields: dict[str, str], token: str, url: str) -> SignedRequest:
    """Encode `fields` and sign them for `url` the way Twilio does."""
    signature = RequestValidator(token).compute_signature(url, fields)
    return SignedRequest(urlencode(fields), signature)


def signed_conversations(
    conversations: Iterable[Conversation], token: str, public_url: str, salt: str = ""
) -> list[list[SignedRequest]]:
    """Every message of every conversation, signed for `public_url` + WEBHOOK_PATH."""
    url = public_url.rstrip("/") + WEBHOOK_PATH
    return [
        [sign(form_fields(c, i, salt), token, url) for i in range(len(c.script))]
        for c in conversations
    ]


def write_requests(path: Path, requests: Sequence[Sequence[SignedRequest]]) -> int:
    """Write the requests for bench.loadgen (JSON); returns how many messages."""
    doc = [[[r.body, r.signature] for r in conv] for conv in requests]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return sum(len(conv) for conv in requests)


def read_requests(path: Path) -> list[list[SignedRequest]]:
    """Read what write_requests wrote."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return [[SignedRequest(body, sig) for body, sig in conv] for conv in doc]
