"""`bot chat`: talk to the flows from a terminal, or to a running service with `--url`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from bot.cli.common import load_runtime
from bot.cli.simulator import inbound_lines, remote_chat
from bot.core.engine import Inbound
from bot.i18n.detect import suggest_language


@click.command()
@click.option("--from", "sender", default="+32470000000", show_default=True, help="Sender.")
@click.option("--channel", type=click.Choice(["sms", "whatsapp"]), default="sms")
@click.option("--lang", default=None, help="Start in this language (e.g. ka).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per inbound message.")
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), help="Flow folder.")
@click.option("--url", default=None, help="Talk to a running service (signed like Twilio).")
def chat(sender, channel, lang, as_json, flows_dir, url) -> None:
    """Chat with the flows; reads one message per line when input is not a terminal."""
    if url:
        remote_chat(url, sender=sender, channel=channel, as_json=as_json)
        return
    from bot.core.state import State

    runtime = load_runtime(flows_dir)
    engine = runtime.engine
    state = State(lang=lang, lang_confirmed=True) if lang else None
    interactive = sys.stdin.isatty() and not as_json
    if interactive:
        click.echo("Type a message (Ctrl-D to quit). Commands: MENU, BACK, LANG, HELP, STOP.")
    for line in inbound_lines(interactive):
        hint = None
        if state is None or state.lang is None:
            hint = suggest_language(line, sender, engine.settings.languages)
        turn = engine.step(state, Inbound(line, channel=channel, lang_hint=hint), int(time.time()))
        state = turn.state
        if as_json:
            record = {
                "in": line,
                "out": turn.texts,
                "lang": state.lang,
                "flow": state.flow,
                "node": state.node,
                "events": [e.type for e in turn.events],
            }
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            for text in turn.texts:
                click.echo("bot> " + text.replace("\n", "\n     ") + "\n")
