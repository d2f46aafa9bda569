"""`bot i18n check`: the catalogs say only what the English says, in the language's digits,
on screens people can afford.

It runs in CI (`make test`) and fails on any of: a translation with fewer hedges than its
English (bot.i18n.checks.missing_hedges), a Latin digit in a fa/ps/ckb sentence
(`latin_digits`), a main-path screen over `max_segments` SMS segments (`over_segments`, on
`bot.channels.costs.screens` of `MAIN_PATH`), a command word list a language lacks or one
of its words that is also a menu answer (`command_clashes`). `--costs` also lists every
screen of every flow over the limit, main path or not.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from bot.cli.common import flows_option, locales_option, settings


@click.command("check")
@flows_option
@locales_option
@click.option("--costs", is_flag=True, help="Also list every screen over the segment limit.")
def check(flows_dir: Path | None, locales_dir: Path | None, costs: bool) -> None:
    """Hedges kept, the language's digits, main-path screens within their segments, commands."""
    from bot.channels.costs import MAIN_PATH, first_contact, screens, with_staff_standins
    from bot.core.engine import Engine
    from bot.core.runtime import Runtime
    from bot.flow import FlowError
    from bot.i18n.catalogs import catalog_problems
    from bot.i18n.checks import over_segments

    conf = settings()
    flows_dir = flows_dir or conf.flows_path
    locales_dir = locales_dir or conf.locales_path
    logging.disable(logging.WARNING)
    try:
        runtime = Runtime.load(flows_dir, locales_dir)
    except FlowError as exc:
        click.echo(f"flows have errors (bot flows validate):\n{exc}", err=True)
        sys.exit(1)
    finally:
        logging.disable(logging.NOTSET)
    engine = Engine(with_staff_standins(runtime.engine.flows), runtime.engine.tr)
    limit = engine.settings.max_segments
    problems = []
    for lang in engine.settings.languages:
        if lang != engine.settings.default_language:
            problems += catalog_problems(locales_dir, lang, engine.settings.default_language)
    main = [*first_contact(engine), *screens(engine, MAIN_PATH)]
    for screen in main:
        problems += over_segments([(screen.where, screen.text)], limit, screen.lang)
    problems += _command_problems(engine)
    for problem in problems:
        click.echo(str(problem))
    if costs:
        wide = [
            problem
            for screen in screens(engine)
            for problem in over_segments([(screen.where, screen.text)], limit, screen.lang)
        ]
        click.echo(f"screens over {limit} SMS segments (staff placeholders measured short):")
        for problem in wide:
            click.echo(f"  {problem}")
        if not wide:
            click.echo("  none")
    click.echo(
        f"{len(problems)} problem(s) in {len(engine.settings.languages)} languages"
        f" ({len(main)} main-path screens measured)"
    )
    sys.exit(1 if problems else 0)


def _command_problems(engine) -> list:
    """Command words every language has, and none of them a menu answer in any language.

    An option that leads where its command leads (a "Language" option and LANG, an "Erase"
    option in the privacy flow and FORGET) may share its words: either way the person gets
    what they asked for.
    """
    from bot.flow.nodes import Menu, Question
    from bot.i18n.checks import command_clashes, missing_commands
    from bot.text.matching import split_words

    tr, fset, default = engine.tr, engine.flows, engine.settings.default_language
    languages = engine.settings.languages
    words = {
        name: [w for lang in languages for w in split_words(tr.gettext(lang, c.words.msgid))]
        for name, c in fset.commands.items()
    }
    english = {name: c.words.msgid for name, c in fset.commands.items()}
    leads_to = {
        "LANG": "language",
        "HELP": engine.settings.help_flow,
        "MENU": engine.settings.main_flow,
        "FORGET": "privacy",
    }
    problems = []
    for lang in languages:
        if lang != default:
            translated = {
                msgid: text for msgid in english.values()
                if (text := tr.gettext(lang, msgid)) != msgid
            }  # fmt: skip
            problems += missing_commands(english, translated, lang)
        for flow in fset.flows.values():
            for node in flow.nodes.values():
                choices = node.options if isinstance(node, Menu) else ()
                if isinstance(node, Question):
                    choices = node.choices
                for i, choice in enumerate(choices, 1):
                    target = getattr(choice, "target", None)
                    others = {
                        name: said
                        for name, said in words.items()
                        if target is None or leads_to.get(name) != target.flow
                    }
                    said = [tr.gettext(lang, choice.label.msgid)]
                    if choice.synonyms is not None:
                        said += split_words(tr.gettext(lang, choice.synonyms.msgid))
                    where = f"{flow.id}/{node.id}/{i}"
                    problems += command_clashes(others, [(where, said)], lang)
    return problems
