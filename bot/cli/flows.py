"""`bot flows validate` and `bot flows test`: check flows without any server."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.common import load_runtime, settings
from bot.flow import read_flows
from bot.flow.problems import ERROR, WARNING


@click.group()
def flows() -> None:
    """Check and test the YAML flows."""


@flows.command()
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
def validate(flows_dir: Path | None) -> None:
    """Report every problem in the flows as file:line:col; exit 1 on any error."""
    config = settings()
    flowset, problems = read_flows(flows_dir or config.flows_path)
    if flowset is not None:
        from bot.channels.costs import oversized
        from bot.channels.whatsapp import label_problems
        from bot.core.engine import Engine
        from bot.core.questions import topic_problems
        from bot.core.runtime import make_translator

        engine = Engine(flowset, make_translator(flowset, config.locales_path))
        found = oversized(engine) + label_problems(engine) + topic_problems(engine)
        problems = sorted(problems + found)
    for problem in problems:
        click.echo(str(problem))
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    count = len(flowset.flows) if flowset else 0
    summary = f"{errors} error(s), {warnings} warning(s)"
    if errors:
        click.echo(f"{summary}: the flows cannot be used until the errors are fixed.")
        sys.exit(1)
    click.echo(f"{summary}; {count} flows OK.")


@flows.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option("--update", is_flag=True, help="Rewrite the expected replies (golden update).")
def test_transcripts(paths: tuple[Path, ...], flows_dir: Path | None, update: bool) -> None:
    """Replay conversation transcripts (default: flows/transcripts/) and diff the replies."""
    from bot.core.transcripts import find, replay

    runtime = load_runtime(flows_dir)
    files = find(list(paths), runtime.flows_dir / "transcripts")
    failed = 0
    for path in files:
        outcome = replay(runtime.engine, path, update=update)
        if outcome.updated:
            click.echo(f"updated {path}")
        elif outcome.ok:
            click.echo(f"ok      {path} ({outcome.steps} messages)")
        else:
            failed += 1
            click.echo(f"FAILED  {path}")
            for failure in outcome.failures:
                click.echo("  " + failure.replace("\n", "\n  "))
    click.echo(f"{len(files) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@flows.command()
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def costs(flows_dir: Path | None, as_json: bool) -> None:
    """SMS segments per language for the first contact and each main-menu option."""
    import json

    from bot.channels.costs import main_path

    rows = main_path(load_runtime(flows_dir).engine)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    numbers = sorted({n for row in rows for n in row["options"]})
    head = ["lang", "encoding", "welcome"] + [f"opt {n}" for n in numbers] + ["total"]
    click.echo("  ".join(f"{h:>8}" for h in head))
    for row in rows:
        cells = [row["lang"], row["encoding"], row["first_contact"]]
        cells += [row["options"].get(n, "") for n in numbers] + [row["total"]]
        click.echo("  ".join(f"{c!s:>8}" for c in cells))


@flows.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option("--min-total", default=85.0, show_default=True, help="Least % reached overall.")
@click.option("--min-lang", default=70.0, show_default=True, help="Least % reached per language.")
@click.option("--verbose", "-v", is_flag=True, help="List every question missed or misrouted.")
def questions(
    paths: tuple[Path, ...],
    flows_dir: Path | None,
    min_total: float,
    min_lang: float,
    verbose: bool,
) -> None:
    """Replay the question corpus (default: flows/questions/) and print accuracy per language.

    Exit 1 when fewer than --min-total % of all questions or --min-lang % of one language's
    reach their answer (directly or through a suggestion list), or when an out-of-scope
    message is answered with a screen.
    """
    from bot.core.corpus import files, score

    runtime = load_runtime(flows_dir)
    found: list[Path] = []
    for path in paths or (runtime.flows_dir / "questions",):
        found += files(path) if path.is_dir() else [path]
    head = [
        "lang",
        "asked",
        "direct",
        "suggested",
        "missed",
        "wrong",
        "reached",
        "off-topic",
        "routed",
    ]
    click.echo("  ".join(f"{h:>9}" for h in head))
    scores = [score(runtime.engine, path) for path in found]
    failed = []
    for s in scores:
        c = s.counts
        cells = [s.lang, s.total, c["direct"], c["suggested"], c["missed"], c["wrong"]]
        cells += [f"{100 * s.reached:.0f}%", s.out_of_scope, s.out_of_scope_routed]
        click.echo("  ".join(f"{x!s:>9}" for x in cells))
        if 100 * s.reached < min_lang:
            failed.append(f"{s.lang}: {100 * s.reached:.0f}% reached (at least {min_lang:.0f}%)")
        if s.out_of_scope_routed:
            failed.append(f"{s.lang}: {s.out_of_scope_routed} out-of-scope message(s) answered")
    asked = sum(s.total for s in scores)
    reached = sum(s.counts["direct"] + s.counts["suggested"] for s in scores)
    share = 100 * reached / asked if asked else 0.0
    routed = sum(s.out_of_scope_routed for s in scores)
    click.echo(f"all: {reached}/{asked} reached ({share:.1f}%), {routed} out-of-scope routed")
    if share < min_total:
        failed.append(f"overall: {share:.1f}% reached (at least {min_total:.0f}%)")
    if verbose or failed:
        for s in scores:
            for failure in s.failures:
                click.echo("  " + failure)
    for line in failed:
        click.echo(f"FAILED {line}")
    if failed or not asked:
        sys.exit(1)
