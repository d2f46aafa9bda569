"""`bot segments`: how a text travels as SMS (encoding, segments) and what forced UCS-2."""

from __future__ import annotations

import json
import sys
from collections import Counter

import click

from bot.text.segments import SegmentInfo, analyse


def _code_points(cluster: str) -> str:
    """U+XXXX notation of every code point in a grapheme cluster, space separated."""
    return " ".join(f"U+{ord(char):04X}" for char in cluster)


def _as_dict(info: SegmentInfo, smart_encoding: bool) -> dict[str, object]:
    """JSON-ready form of a SegmentInfo; non-GSM clusters listed once each, with a count."""
    counts = Counter(info.non_gsm)
    return {
        "encoding": info.encoding,
        "segments": info.segments,
        "characters": info.characters,
        "units": info.units,
        "smart_encoding": smart_encoding,
        "non_gsm": [
            {"char": cluster, "code_points": _code_points(cluster).split(), "count": count}
            for cluster, count in counts.items()
        ],
    }


@click.command()
@click.argument("text", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--smart-encoding",
    is_flag=True,
    help="Replace look-alike punctuation (curly quotes, dashes, …) first, as Twilio can.",
)
def segments(text: str | None, as_json: bool, smart_encoding: bool) -> None:
    """Print the SMS encoding and segment count of TEXT (standard input when omitted).

    Counts as Twilio's Message Segment Calculator does. One trailing newline is dropped from
    standard input, so `echo "..." | bot segments` measures the text only.
    """
    if text is None:
        text = sys.stdin.read()
        text = text.removesuffix("\n").removesuffix("\r")
    info = analyse(text, smart_encoding=smart_encoding)
    if as_json:
        click.echo(json.dumps(_as_dict(info, smart_encoding), ensure_ascii=False))
        return
    click.echo(f"encoding:   {info.encoding}")
    click.echo(f"segments:   {info.segments}")
    click.echo(f"characters: {info.characters}")
    if not info.non_gsm:
        return
    click.echo("forced UCS-2 by:")
    for cluster, count in Counter(info.non_gsm).items():
        visible = any(char.isprintable() and not char.isspace() for char in cluster)
        shown = cluster if visible else "(invisible)"
        times = f"  (x{count})" if count > 1 else ""
        click.echo(f"  {_code_points(cluster):<16} {shown}{times}")
