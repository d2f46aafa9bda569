"""`bot poster LANG [LANG...] --out FILE.pdf`: the console's poster as a PDF file.

Made from the same flows, catalogs and settings as the line; refused in production while
a staff value it prints is a placeholder (bot.web.console.poster).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("langs", nargs=-1, required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def poster(langs: tuple[str, ...], out: Path) -> None:
    """Write the poster for LANG (several: one sheet) as a PDF."""
    from bot.cli.common import load_runtime, settings
    from bot.web.console.poster import PosterError, pdf

    config = settings()
    runtime = load_runtime(config=config)
    try:
        data = pdf(runtime.engine, config, list(langs))
    except PosterError as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes)")
