"""What the flows cost in SMS segments, per language.

NGOs pay per segment, and a Georgian or Persian SMS holds 70 characters where an English
one holds 160. `oversized` turns every screen longer than `max_segments` into a validator
warning; `main_path` gives the cost table that `bot flows costs` prints.
"""

from __future__ import annotations

import unicodedata

from bot.core.engine import Engine, Inbound
from bot.flow.nodes import Menu
from bot.flow.problems import WARNING, Problem
from bot.text.segments import analyse


def _latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    return bool(letters) and latin / len(letters) > 0.8


def _culprits(text: str, non_gsm: tuple[str, ...]) -> str:
    shown = ", ".join(f"'{c}' U+{ord(c[0]):04X}" for c in dict.fromkeys(non_gsm))
    return f"; these characters make it UCS-2: {shown}" if shown else ""


def untranslated(engine: Engine, node) -> list[str]:
    """The languages in which some text of `node` has no translation yet (sent in English)."""
    catalogs = getattr(engine.tr, "catalogs", None)
    if catalogs is None:
        return []
    default = engine.settings.default_language
    msgids = [t.msgid for t in node.texts() if t.msgid]
    return [
        lang
        for lang in engine.settings.languages
        if lang != default and any(m not in catalogs.get(lang, {}) for m in msgids)
    ]


def oversized(engine: Engine) -> list[Problem]:
    """A warning for every screen, in every language, above the segment limit.

    A screen not yet translated into a language is not measured there: mixed with the
    language's menu footer it would look like a cost problem, when it is a pending
    translation (bot.channels.checks says so).
    """
    limit = engine.settings.max_segments
    problems = []
    for flow in engine.flows.flows.values():
        for node in flow.nodes.values():
            pending = untranslated(engine, node)
            for lang in engine.settings.languages:
                if lang in pending:
                    continue
                for reply in engine.preview(flow.id, node.id, lang):
                    info = analyse(reply.text)
                    # A stray quote, dash or space is worth a warning; a language's own letters
                    # (Turkish ş, French ç) are not: the translator cannot avoid them.
                    stray = [c for c in info.non_gsm if not c[:1].isalpha()]
                    ucs2_latin = bool(stray) and info.encoding == "UCS-2" and _latin(reply.text)
                    if info.segments <= limit and not ucs2_latin:
                        continue
                    why = _culprits(reply.text, info.non_gsm) if ucs2_latin else ""
                    if info.segments <= limit and not why:
                        continue
                    size = f"{info.segments} SMS segments in {lang} (limit {limit})"
                    if info.segments <= limit:
                        size = f"{info.segments} SMS segment(s) in {lang} but UCS-2"
                    problems.append(
                        Problem(
                            flow.path,
                            node.line,
                            node.col,
                            WARNING,
                            f'node "{node.id}" sends {size}{why}',
                        )
                    )
    return problems


def main_path(engine: Engine) -> list[dict]:
    """Per language: segments of the first contact and of each main-menu option's first reply."""
    settings = engine.settings
    main = engine.flows.flows[settings.main_flow]
    menu = next((n for n in main.nodes.values() if isinstance(n, Menu)), None)
    rows = []
    for lang in settings.languages:
        first = engine.step(None, Inbound("hi", lang_hint=lang), 1)
        row = {
            "lang": lang,
            "first_contact": sum(analyse(t).segments for t in first.texts),
            "encoding": analyse("\n".join(first.texts)).encoding,
            "options": {},
        }
        for option in menu.options if menu else ():
            turn = engine.step(first.state, Inbound(str(option.number)), 2)
            row["options"][option.number] = sum(analyse(t).segments for t in turn.texts)
        row["total"] = row["first_contact"] + sum(row["options"].values())
        rows.append(row)
    return rows
