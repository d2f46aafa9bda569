"""`bot flows validate`, `test` and `costs` check flows without any server; `reload` publishes,
`status` shows which version every process of the service serves."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.common import cli_client, load_runtime, settings
from bot.flow import read_flows
from bot.flow.problems import ERROR, WARNING, added


@click.group()
def flows() -> None:
    """Check and test the YAML flows."""


def _shown(path: Path) -> Path:
    """The path relative to the current folder when it is inside it (shorter to read)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _check(folder: Path, locales: Path):
    """(flow set or None, every problem): the loader's and the rendering checks, one count."""
    flowset, problems = read_flows(folder)
    if flowset is not None:
        from bot.channels.checks import all_problems
        from bot.core.engine import Engine
        from bot.core.runtime import make_translator

        engine = Engine(flowset, make_translator(flowset, locales))
        problems = all_problems(engine, problems) + _stale_sends(engine, folder / "transcripts")
    return flowset, problems


def _stale_sends(engine, folder: Path) -> list:
    """An error for each transcript whose send the flows no longer understand (the first)."""
    from bot.core.transcripts import TranscriptError, find, replay
    from bot.flow.problems import Problem

    if not folder.is_dir():
        return []
    problems = []
    for path in map(_shown, find([], folder)):
        try:
            outcome = replay(engine, path)
        except TranscriptError:
            continue  # `bot flows test` reports it
        if outcome.fallbacks:
            line, col, sent, where = outcome.fallbacks[0]
            message = (
                f"transcript sends {sent!r}{where}, an answer the flow no longer has: it is "
                "now answered as not understood (fix the flow, or the transcript's send)"
            )
            problems.append(Problem(str(path), line, col, ERROR, message))
    return problems


@flows.command()
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option(
    "--changed", is_flag=True, help="Show only problems your change added (against git HEAD)."
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --changed: compare with this saved baseline instead of git.",
)
@click.option(
    "--save-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save today's problems to this file, for a later --changed --baseline.",
)
def validate(
    flows_dir: Path | None, changed: bool, baseline: Path | None, save_baseline: Path | None
) -> None:
    """Report every problem in the flows as file:line:col; exit 1 on any error."""
    from bot.cli import baseline as before

    config = settings()
    folder = flows_dir or config.flows_path
    flowset, problems = _check(folder, config.locales_path)
    if save_baseline:
        before.save(save_baseline, problems)
    shown = problems
    if changed or baseline:
        if baseline:
            keys = before.read(baseline)
        else:
            keys = before.from_git(folder, lambda d: _check(d, config.locales_path)[1])
        shown = added(problems, keys)
    for problem in shown:
        click.echo(problem.render())
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    count = len(flowset.flows) if flowset else 0
    summary = f"{errors} error(s), {warnings} warning(s)"
    if changed or baseline:
        new_errors = sum(p.severity == ERROR for p in shown)
        new_warnings = len(shown) - new_errors
        what = "the baseline" if baseline else "git HEAD"
        summary += f"; new since {what}: {new_errors} error(s), {new_warnings} warning(s)"
    if errors:
        click.echo(f"{summary}: the flows cannot be used until the errors are fixed.")
        sys.exit(1)
    click.echo(f"{summary}; {count} flows OK.")


@flows.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option("--update", is_flag=True, help="Rewrite the expected replies (golden update).")
@click.option(
    "--accept-fallbacks",
    is_flag=True,
    help='With --update: also write replies such as "Sorry, I did not understand".',
)
def test_transcripts(
    paths: tuple[Path, ...], flows_dir: Path | None, update: bool, accept_fallbacks: bool
) -> None:
    """Replay conversation transcripts (default: flows/transcripts/) and diff the replies.

    With --update, only the files whose replies changed are rewritten and named, each with
    a short diff; comments and layout are kept.
    """
    from bot.core.transcripts import TranscriptError, find, replay

    runtime = load_runtime(flows_dir)
    files = [_shown(p) for p in find(list(paths), runtime.flows_dir / "transcripts")]
    failed = refused = updated = 0
    for path in files:
        try:
            outcome = replay(runtime.engine, path, update=update, accept_fallbacks=accept_fallbacks)
        except TranscriptError as exc:
            failed += 1
            click.echo(str(exc))
            continue
        if outcome.refused:
            refused += 1
            click.echo(f"NOT UPDATED {path}: a send is now answered by a fallback")
            for line in outcome.refused:
                click.echo("  " + line)
        elif outcome.updated:
            updated += 1
            click.echo(f"updated {path}")
            for line in outcome.diff:
                click.echo("  " + line)
        elif not update and outcome.ok:
            click.echo(f"ok      {path} ({outcome.steps} messages)")
        elif not update:
            failed += 1
            click.echo(f"FAILED  {path}")
            for failure in outcome.failures:
                click.echo("  " + failure.replace("\n", "\n  "))
        for note in outcome.notes:
            click.echo("  note: " + note)
    if update:
        click.echo(
            f"{updated} updated, {len(files) - updated - refused} unchanged, {refused} refused"
        )
        if refused:
            click.echo(
                "Refused files were not written: fix the flow or the transcript's send, or run "
                "again with --accept-fallbacks if the fallback is what you want."
            )
            sys.exit(1)
        return
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
def reload() -> None:
    """Publish the flows on disk to the running service, only if they validate.

    Every web process loads them within about a second (and keeps them as the last good
    set); with errors, nothing changes, the errors are printed, kept for /readyz and told
    to staff.
    """
    import redis

    from bot.core.snapshot import Snapshot, changed_files, flow_files
    from bot.core.snapshot import version as flows_version
    from bot.jobs import queues
    from bot.store import published
    from bot.store.connections import queue_client

    config = settings()
    snapshot = Snapshot.for_folder(config.var_path, config.flows_path)
    before_dir = snapshot.unpack()
    before = flow_files(before_dir) if before_dir else {}
    files = flow_files(config.flows_path)
    flowset, problems = read_flows(config.flows_path)
    client = cli_client(config)
    try:
        if flowset is None:
            lines = [str(p) for p in problems if p.severity == ERROR]
            for line in lines:
                click.echo(line, err=True)
            published.record_failure(client, lines)
            if published.first_alert(client, lines):
                queue = queue_client(config) or client  # where the worker listens
                queues.enqueue_flows_report(queue, lines, "the flows it had")
            raise click.ClickException(
                f"{len(lines)} error(s): nothing published; the service keeps the flows it "
                "has, and staff are told. Fix them and run `bot flows reload` again."
            )
        version = flows_version(files)
        snapshot.save(files)
        published.publish(client, version)
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Redis at REDIS_URL is unreachable ({type(exc).__name__}): nothing published"
        ) from None
    changed = changed_files(before, files)
    what = ", ".join(changed) if changed else "no file changed since the last publish"
    click.echo(
        f"published {version}: {what}; the service loads it within a second "
        "(`bot flows status` lists what each process serves)."
    )


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


@flows.command()
def status() -> None:
    """Which flows version each web process serves, against the one last published.

    Exit 1 when a process that looked after the last publish serves another version (its
    disk has errors, or other files than the host that published): /readyz on that
    process says which. A process that has not looked since (idle) looks before it answers.
    """
    import time

    import redis

    from bot.store import published

    config = settings()
    client = cli_client(config)
    try:
        version, at = published.current(client)
        found = published.processes(client)
        workers = _workers(config)
    except redis.RedisError as exc:
        raise click.ClickException(
            f"Redis is unreachable ({type(exc).__name__}): no status to show"
        ) from None
    now = time.time()
    click.echo(f"published: {version} ({_ago(now - at)})" if version else "published: none yet")
    behind = 0
    for name, serving in found.items():
        if not version or serving.version == version:
            state = "serves the published version"
        elif serving.looked < at:
            state = "has not looked since the publish (it looks before its next request)"
        else:
            behind += 1
            why = f"{serving.refused} error(s) on its disk" if serving.refused else "other files"
            state = f"does NOT serve the published version: {why}"
        if serving.last_good:
            state += "; serving the last good set"
        click.echo(
            f"{serving.kind} {name}: {serving.version}, loaded {_ago(now - serving.loaded)}, "
            f"looked {_ago(now - serving.looked)}: {state}"
        )
    if not found:
        click.echo("no web process has told its version (none answered a request yet)")
    click.echo(
        f"workers: {workers} running; they hold no flows (the texts they send, replies and "
        "reminders, were written by a web process at the person's turn)"
    )
    if behind:
        raise click.ClickException(f"{behind} process(es) do not serve the published version")


def _workers(config) -> int:
    """How many RQ workers run (on the queue Redis)."""
    from rq import Worker

    from bot.store.connections import worker_client

    return Worker.count(connection=worker_client(config))


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
