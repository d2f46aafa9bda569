"""Translation status per language: translated, draft or reviewed, missing; screens over the
segment limit; the language's review sheet where one exists."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, render_template

from bot.i18n.catalogs import REVIEW_STATUS, coverage, header_fields
from bot.i18n.checks import over_segments
from bot.i18n.translator import catalog_path
from bot.settings import CHECKOUT
from bot.web.console import common
from bot.web.console.blueprint import bp
from bot.web.console.security import require

REVIEW_SHEETS = ("docs/review/{lang}.md", "docs/review/{lang}.csv", "locales/{lang}/review.md")
"""Where a language's review sheet may be, relative to the checkout."""


def review_sheet(lang: str) -> Path | None:
    """The language's review sheet, if one exists."""
    for pattern in REVIEW_SHEETS:
        path = CHECKOUT / pattern.format(lang=lang)
        if path.is_file():
            return path
    return None


def status(lang: str) -> dict:
    """One row of the page."""
    service = common.service()
    engine = service.runtime.engine
    locales = common.settings().locales_path
    msgids = list(dict.fromkeys(t.msgid for t in engine.flows.all_texts()))
    base = lang == engine.settings.default_language
    found = coverage(locales, lang, msgids, base=base)
    path = catalog_path(locales, lang)
    review = ""
    if path.exists():
        review = header_fields(path.read_text(encoding="utf-8")).get(REVIEW_STATUS, "")
    limit = engine.settings.max_segments
    screens = [
        (f"{flow_id}/{node_id}", reply.text)
        for flow_id, flow in engine.flows.flows.items()
        for node_id in flow.nodes
        for reply in engine.preview(flow_id, node_id, lang)
    ]
    return {
        "lang": lang,
        "name": engine.tr.language_name(lang),
        "translated": found.translated,
        "fuzzy": found.fuzzy,
        "missing": found.missing,
        "review": "source" if base else (review or "unknown"),
        "over": over_segments(screens, limit, lang),
        "limit": limit,
        "sheet": review_sheet(lang) is not None,
        "rtl": lang in ("ar", "fa", "ckb", "ps"),
    }


@bp.get("/translations")
@require("editor")
def translations_page() -> str:
    """Every language of the flows."""
    languages = common.service().runtime.engine.settings.languages
    return render_template("console/translations.html", rows=[status(x) for x in languages])


@bp.get("/translations/<lang>/review")
@require("editor")
def review(lang: str) -> Response:
    """The language's review sheet, as text."""
    if lang not in common.service().runtime.engine.settings.languages:
        abort(404)
    path = review_sheet(lang)
    if path is None:
        abort(404, "no review sheet for this language yet")
    return Response(path.read_text(encoding="utf-8"), mimetype="text/plain")
