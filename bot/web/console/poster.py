"""The posters NGOs put on a wall or hand out, made from the line's own configuration.

For each language: the number to text, a QR code that opens WhatsApp's click-to-chat with
the first message filled in (segno), that word written out, and two lines saying what the
line is (free, confidential, information and not decisions; how to erase your data), taken
from the flows' own translated texts so the poster never says more than the line. One
sheet may hold several languages. The same HTML is the printable page (print CSS) and,
through weasyprint, the PDF; Debian's Noto fonts render Georgian, Armenian and Arabic
script.

A poster uses staff values (the line's numbers, the organisation's name): in production
none is made while one of them is empty or a TODO placeholder (`PosterError`); in
development the poster carries a large SAMPLE mark instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import segno
from markupsafe import Markup, escape

from bot.core.engine import Engine
from bot.flow.config import is_unfilled
from bot.settings import Settings

CSS_PATH = Path(__file__).parent / "static" / "console" / "poster.css"
"""The poster's stylesheet: the page links it, weasyprint reads it."""
SAMPLE_NUMBER = "+32 000 00 00 00"
"""What a development poster prints for a number not configured yet."""
RTL = ("ar", "fa", "ckb", "ps")
GREETINGS = {"en": "hello", "fr": "bonjour", "nl": "hallo", "tr": "merhaba", "ckb": "سڵاو"}
"""First messages where the language's own name would not select it: the Latin-script
languages (greetings the language guess knows) and Sorani (its name has no letter only
Sorani uses; "سڵاو", hello, has ڵ)."""


class PosterError(RuntimeError):
    """No poster may be made (production with placeholder staff values)."""


@dataclass(frozen=True)
class Block:
    """One language's part of a sheet."""

    lang: str
    name: str
    word: str
    what: str
    erase: str
    qr: str  # an SVG data URI
    rtl: bool


def placeholder(value: str) -> bool:
    """True for a staff value not filled in: empty, a TODO, or `[its name]` (bot.flow.config)."""
    return not value.strip() or "TODO" in value or is_unfilled(value.strip())


def first_word(engine: Engine, lang: str) -> str:
    """What to send first so the line answers in `lang`: a greeting, or the language's name.

    The language guess (bot.i18n.detect) reads the script and telling letters, so the
    language's own name selects it; tests check this for every shipped language.
    """
    if lang in GREETINGS:
        return GREETINGS[lang]
    return engine.tr.language_name(lang)


def _lines(engine: Engine, lang: str) -> tuple[str, str]:
    """The welcome (free, confidential, information not decisions) and the FORGET line."""
    flows = engine.flows
    main = flows.flows[engine.settings.main_flow]
    welcome = next(t for n in main.nodes.values() for t in n.texts())
    what = engine.tr.gettext(lang, welcome.msgid).replace("\n", " ")
    erase = ""
    help_flow = flows.flows.get(engine.settings.help_flow)
    if help_flow is not None:
        for node in help_flow.nodes.values():
            for text in node.texts():
                for line in engine.tr.gettext(lang, text.msgid).splitlines():
                    if "FORGET" in line and not erase:
                        erase = line
    return what, erase


def missing_values(engine: Engine, settings: Settings) -> list[str]:
    """The staff values a poster uses that are not filled in."""
    missing = []
    if placeholder(settings.line_number):
        missing.append("BOT_LINE_NUMBER")
    if placeholder(engine.flows.staff.get("organisation_name", "")):
        missing.append("organisation_name (flows/_staff.yaml)")
    return missing


def whatsapp_link(number: str, word: str) -> str:
    """WhatsApp's click-to-chat link with the first message filled in."""
    digits = "".join(c for c in number if c.isdigit()) or "32000000000"
    return f"https://wa.me/{digits}?text={quote(word)}"


def blocks(engine: Engine, settings: Settings, langs: list[str]) -> list[Block]:
    """One block per language, in the order asked."""
    wa = settings.whatsapp_number or settings.line_number
    found = []
    for lang in langs:
        word = first_word(engine, lang)
        what, erase = _lines(engine, lang)
        qr = segno.make(whatsapp_link(wa, word), error="m")
        uri = qr.svg_data_uri(scale=4, border=2)
        found.append(
            Block(lang, engine.tr.language_name(lang), word, what, erase, uri, lang in RTL)
        )
    return found


def html(engine: Engine, settings: Settings, langs: list[str], css_href: str = "") -> str:
    """The poster sheet as a whole HTML page (the print view and the PDF's source)."""
    unknown = [x for x in langs if x not in engine.settings.languages]
    if not langs or unknown:
        raise PosterError(f"unknown language(s): {', '.join(unknown) or 'none given'}")
    missing = missing_values(engine, settings)
    if missing and settings.production:
        raise PosterError(
            "no poster in production while these staff values are placeholders: "
            + ", ".join(missing)
        )
    number = settings.line_number if not placeholder(settings.line_number) else SAMPLE_NUMBER
    org = engine.flows.staff.get("organisation_name", "")
    org = "" if placeholder(org) else org
    sample = Markup('<div class="sample" aria-hidden="true">SAMPLE</div>') if missing else ""
    parts = []
    for b in blocks(engine, settings, langs):
        direction = "rtl" if b.rtl else "ltr"
        parts.append(
            Markup(
                '<section class="block" lang="{lang}" dir="{dir}">'
                "<h2>{name}</h2>"
                '<p class="number"><bdi dir="ltr">{number}</bdi></p>'
                '<img class="qr" src="{qr}" alt="QR: WhatsApp {number}">'
                '<p class="word">→ <bdi>{word}</bdi></p>'
                '<p class="what">{what}</p><p class="erase">{erase}</p>'
                "</section>"
            ).format(
                lang=b.lang,
                dir=direction,
                name=b.name,
                number=number,
                qr=b.qr,
                word=b.word,
                what=b.what,
                erase=b.erase,
            )
        )
    many = " many" if len(langs) > 1 else ""
    link = Markup('<link rel="stylesheet" href="{}">').format(css_href) if css_href else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Poster {escape(', '.join(langs))}</title>{link}</head>"
        f'<body class="poster{many}">{sample}'
        + "".join(parts)
        + (f'<footer class="org">{escape(org)}</footer>' if org else "")
        + "</body></html>"
    )


def pdf(engine: Engine, settings: Settings, langs: list[str]) -> bytes:
    """The poster as PDF (weasyprint), A4, with the print stylesheet."""
    from weasyprint import CSS, HTML  # heavy: only when a PDF is asked for

    document = HTML(string=html(engine, settings, langs))
    return document.write_pdf(stylesheets=[CSS(filename=str(CSS_PATH))])
