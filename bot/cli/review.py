"""`bot i18n review LANG`: a sheet for a native speaker, and `--import` to take it back.

The sheet is written as `review-LANG.xlsx` (to fill in) and `review-LANG.html` (to print or
read on a phone); the rows, the checks and the import are in `bot.i18n.review`. Screens are
rendered by the engine as `bot i18n check` renders them, staff placeholders measured short.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from bot.cli.common import flows_option, locales_option, settings


@click.command("review")
@click.argument("lang")
@click.option(
    "--import", "sheet", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Take a filled-in sheet (.xlsx) back into the catalog.",
)  # fmt: skip
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    help="Folder for review-LANG.xlsx and review-LANG.html (default: here).",
)  # fmt: skip
@click.option("--reviewer", default="", help="Who reviewed, when the sheet does not say.")
@flows_option
@locales_option
def review(
    lang: str,
    sheet: Path | None,
    out_dir: Path,
    reviewer: str,
    flows_dir: Path | None,
    locales_dir: Path | None,
) -> None:
    """Write a review sheet of LANG for a native speaker, or import it back (--import)."""
    from bot.i18n.review import ReviewError

    conf = settings()
    locales_dir = locales_dir or conf.locales_path
    try:
        if sheet is not None:
            _import(locales_dir, lang, sheet, reviewer)
        else:
            _write(flows_dir or conf.flows_path, locales_dir, lang, out_dir)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None


def _write(flows_dir: Path, locales_dir: Path, lang: str, out_dir: Path) -> None:
    from babel.messages.pofile import read_po

    from bot.channels.costs import screens, with_staff_standins
    from bot.core.engine import Engine
    from bot.core.runtime import Runtime
    from bot.flow import FlowError
    from bot.i18n.bidi import is_rtl
    from bot.i18n.catalogs import catalog_entries
    from bot.i18n.checks import HEDGE_HEADER, parse_words
    from bot.i18n.review import build_rows, html_page, write_workbook
    from bot.i18n.translator import catalog_path, language_name

    logging.disable(logging.WARNING)
    try:
        runtime = Runtime.load(flows_dir, locales_dir)
    except FlowError as exc:
        raise click.ClickException(f"flows have errors (bot flows validate):\n{exc}") from None
    finally:
        logging.disable(logging.NOTSET)
    engine = Engine(with_staff_standins(runtime.engine.flows), runtime.engine.tr)
    default, languages = engine.settings.default_language, engine.settings.languages
    if lang == default:
        raise click.ClickException(
            f"{lang} is the base language: its texts are the English of the flows"
        )
    if lang not in languages:
        raise click.ClickException(
            f"{lang} is not a language of the flows (languages: {', '.join(languages)})"
        )
    path = catalog_path(locales_dir, lang)
    if not path.exists():
        raise click.ClickException(f"no catalog for {lang} at {path} (bot i18n update)")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    _pairs, fields = catalog_entries(locales_dir, lang)
    _pairs, base_fields = catalog_entries(locales_dir, default)
    shown: dict[str, tuple[str, ...]] = {}
    for screen in screens(engine):
        if screen.lang == lang:
            shown[screen.where] = (*shown.get(screen.where, ()), screen.text)
    rows = build_rows(
        catalog,
        engine.flows,
        shown,
        engine.settings.max_segments,
        parse_words(base_fields.get(HEDGE_HEADER, "may, can")),
        parse_words(fields.get(HEDGE_HEADER, "")),
    )
    title = f"Review of the {language_name(lang)} ({lang}) texts of the return information line"
    out_dir.mkdir(parents=True, exist_ok=True)
    workbook, page = out_dir / f"review-{lang}.xlsx", out_dir / f"review-{lang}.html"
    write_workbook(rows, workbook, lang, title, is_rtl(lang))
    page.write_text(html_page(rows, lang, title, is_rtl(lang)), encoding="utf-8")
    flagged = sum(1 for row in rows if row.flags)
    done = sum(1 for row in rows if row.checked)
    click.echo(f"{workbook}: {len(rows)} texts, {flagged} flagged, {done} already reviewed")
    click.echo(f"{page}: the same, to print")
    click.echo(f"take it back with: bot i18n review {lang} --import {workbook}")


def _import(locales_dir: Path, lang: str, sheet: Path, reviewer: str) -> None:
    from bot.i18n.catalogs import DRAFT, REVIEW_STATUS, catalog_problems
    from bot.i18n.review import import_sheet

    outcome = import_sheet(locales_dir, lang, sheet, reviewer)
    click.echo(
        f"{lang}: {len(outcome.changed)} translation(s) corrected, "
        f"{len(outcome.reviewed)} entr(ies) newly marked reviewed"
    )
    status = f"{REVIEW_STATUS}: {outcome.status}"
    if outcome.status == DRAFT:
        status += f", until all {outcome.total} are reviewed"
    click.echo(f"{lang}: {outcome.done} of {outcome.total} entries reviewed ({status})")
    changed = set(outcome.changed)
    problems = [p for p in catalog_problems(locales_dir, lang) if p.msgid in changed]
    if problems:
        click.echo("check these corrections (bot i18n check will fail on them):")
        for problem in problems:
            click.echo(f"  {problem}")
    if outcome.comments:
        click.echo("the reviewer's comments:")
        for comment in outcome.comments:
            click.echo(f"  {comment}")
    if outcome.skipped:
        click.echo("rows not taken (the rest were):", err=True)
        for line in outcome.skipped:
            click.echo(f"  {line}", err=True)
        sys.exit(1)
