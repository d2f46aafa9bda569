"""`bot i18n extract|update|compile|coverage`: thin wrappers over Babel's own commands.

Translators work in standard gettext catalogs (`locales/<lang>/LC_MESSAGES/messages.po`)
with Poedit, Weblate or Crowdin. Every command runs from the checkout's root, so locations
in the catalogs read `flows/main.yaml:12` wherever it is started from.
"""

from __future__ import annotations

import contextlib
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click

from bot.cli.common import settings
from bot.core.runtime import ROOT

LOCALES = Path("locales")
TEMPLATE = LOCALES / "messages.pot"
MAPPING = Path("babel.cfg")
PROJECT = "return-info-line"
HEADER_COMMENT = (
    "# Texts of the return information line (flows/*.yaml), for translators.\n"
    "# Copyright (C) YEAR the return-info-line contributors\n"
    "# This file is distributed under the same license as the PROJECT project"
    " (AGPL-3.0-or-later)."
)


def pybabel(*args: str) -> int:
    """Run one Babel command (`pybabel ARGS`) from the checkout's root; its exit status."""
    from babel.messages.frontend import BaseError, CommandLineInterface

    with contextlib.chdir(ROOT):
        try:
            return CommandLineInterface().run(["pybabel", *args]) or 0
        except BaseError as exc:
            click.echo(f"pybabel {args[0]}: {exc}", err=True)
            return 1


def _version() -> str:
    try:
        return version(PROJECT)
    except PackageNotFoundError:  # pragma: no cover - the package is installed by make
        return "0"


def _settings():
    """(languages, default language, {msgid: where} of every flow text) or Nones if broken."""
    from bot.flow import read_flows

    flowset, _problems = read_flows(settings().flows_path)
    if flowset is None:
        return None, None, None
    texts: dict[str, str] = {}
    for text in flowset.all_texts():
        texts.setdefault(text.msgid, text.where)
    return flowset.settings.languages, flowset.settings.default_language, texts


def _required() -> tuple[str, ...]:
    """The languages _config.yaml requires to be complete (every language if it names none)."""
    from bot.flow import read_flows

    flowset, _problems = read_flows(settings().flows_path)
    return flowset.settings.required if flowset else ()


@click.group()
def i18n() -> None:
    """Translation catalogs: extract texts, update and compile catalogs, show coverage."""


@i18n.command()
def extract() -> None:
    """Pull every text of every flow into locales/messages.pot (pybabel extract)."""
    status = pybabel(
        "extract",
        "--mapping-file", str(MAPPING),
        "--output-file", str(TEMPLATE),
        "--project", PROJECT,
        "--version", _version(),
        "--copyright-holder", "the return-info-line contributors",
        "--header-comment", HEADER_COMMENT,
        ".",
    )  # fmt: skip
    sys.exit(status)


@i18n.command()
def update() -> None:
    """Create missing catalogs (marked draft) and merge new texts into all (pybabel update)."""
    from bot.i18n.catalogs import custom_fields, keep_fields, mark_draft
    from bot.i18n.translator import catalog_path

    languages, _default, _msgids = _settings()
    locales = ROOT / LOCALES
    if languages is None:
        click.echo("flows have errors (bot flows validate); updating existing catalogs only")
        languages = sorted(p.parent.parent.name for p in locales.glob("*/LC_MESSAGES/*.po"))
    status = 0
    for lang in languages:
        path = catalog_path(locales, lang)
        if not path.exists():
            status |= pybabel(
                "init", "-i", str(TEMPLATE), "-d", str(LOCALES), "-D", "messages", "-l", lang
            )
            mark_draft(path)
    kept = {
        path: custom_fields(path.read_text(encoding="utf-8"))
        for path in sorted(locales.glob("*/LC_MESSAGES/messages.po"))
    }
    # No --previous: Babel wraps a long previous msgid inside its `#|` comment lines, which
    # GNU msgfmt then rejects ("end-of-line within string"); the fuzzy mark is kept.
    args = ["update", "-i", str(TEMPLATE), "-d", str(LOCALES), "-D", "messages"]
    status |= pybabel(*args)
    for path, fields in kept.items():
        keep_fields(path, fields)
    sys.exit(status)


@i18n.command("compile")
def compile_() -> None:
    """Compile every catalog to .mo (pybabel compile); fails on a broken translation."""
    sys.exit(pybabel("compile", "-d", str(LOCALES), "-D", "messages", "--statistics"))


@i18n.command()
@click.option("--min", "minimum", type=float, default=0.0, help="Fail below this percentage.")
@click.option("--missing", is_flag=True, help="List the texts each language still lacks.")
@click.option(
    "--required",
    is_flag=True,
    help="Fail only when a language of _config.yaml `required_languages` lacks a text; "
    "list the texts pending in the others.",
)
def coverage(minimum: float, missing: bool, required: bool) -> None:
    """Translated (reviewed or draft), fuzzy and missing texts per language, against the flows."""
    from babel.messages.pofile import read_po

    from bot.i18n.catalogs import coverage as count
    from bot.i18n.translator import language_name

    languages, default, texts = _settings()
    if languages is None:
        with (ROOT / TEMPLATE).open("rb") as fh:
            texts = {m.id: (m.auto_comments or [""])[0] for m in read_po(fh) if m.id}
        languages, default = None, "en"
        click.echo("flows have errors (bot flows validate): counting against messages.pot")
    locales = ROOT / LOCALES
    if languages is None:
        languages = sorted(p.parent.parent.name for p in locales.glob("*/LC_MESSAGES/*.po"))
    msgids = list(texts)
    must = _required() if required else ()
    click.echo(f"{len(msgids)} texts in the flows, {len(languages)} languages")
    click.echo(
        f"{'lang':<5} {'name':<16} {'translated':>10} {'reviewed':>8} {'draft':>6}"
        f" {'fuzzy':>6} {'missing':>8} {'%':>7}"
    )
    below = []
    for lang in languages:
        result = count(locales, lang, msgids, base=lang == default)
        note = "  (base language)" if result.base else ""
        if not result.exists and not result.base:
            note = "  (no catalog: bot i18n update)"
        click.echo(
            f"{lang:<5} {language_name(lang):<16} {result.translated:>10} "
            f"{result.reviewed:>8} {result.draft:>6} "
            f"{result.fuzzy:>6} {result.missing:>8} {result.percent:>6.1f}%{note}"
        )
        if result.percent < minimum:
            below.append(lang)
        if required and result.untranslated:
            if lang in must:
                below.append(lang)
            else:
                click.echo(f"      {len(result.untranslated)} pending (sent in {default} until "
                           "translated):")  # fmt: skip
                for msgid in result.untranslated:
                    click.echo(f"      - {msgid!r} [{texts[msgid]}]")
        if missing:
            for msgid in result.untranslated:
                click.echo(f"      - {msgid!r} [{texts[msgid]}]")
    if below:
        if required:
            click.echo(f"required languages with texts missing: {', '.join(below)} (translate "
                       "them, or change required_languages in _config.yaml)")  # fmt: skip
        else:
            click.echo(f"below {minimum:g}%: {', '.join(below)}")
        sys.exit(1)
