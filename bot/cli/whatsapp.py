"""`bot whatsapp templates [--create]`: WhatsApp menu templates from the flows and catalogs.

Without `--create` it prints the Content API definitions as JSON (to review, or to create
by other means). With `--create` it creates those not made yet through twilio's REST client
and stores the friendly_name -> content_sid map the web app reads (BOT_WHATSAPP_TEMPLATES,
by default var/whatsapp_templates.json). Run it again after changing a menu's labels: the
changed menus get new templates; until then they go as text.
"""

from __future__ import annotations

import json

import click


@click.group()
def whatsapp() -> None:
    """WhatsApp: tappable menus (quick replies and lists) through Twilio's Content API."""


@whatsapp.command()
@click.option("--create", "do_create", is_flag=True, help="Create missing templates in Twilio.")
@click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where the SIDs are kept (default: BOT_WHATSAPP_TEMPLATES or var/).",
)
def templates(do_create: bool, map_path: str | None) -> None:
    """Print the template of every menu in every language, or create them (--create)."""
    from bot.channels.whatsapp import definitions, label_problems
    from bot.cli.common import load_runtime, settings
    from bot.jobs.whatsapp import create, default_map_path

    config = settings()
    runtime = load_runtime(config=config)
    for problem in label_problems(runtime.engine):
        click.echo(str(problem), err=True)
    docs = definitions(runtime.engine)
    if not do_create:
        click.echo(json.dumps(docs, indent=2, ensure_ascii=False))
        return
    from twilio.base.exceptions import TwilioException

    from bot.jobs.outbound import PermanentError, twilio_client

    path = map_path or str(default_map_path(config))
    try:
        client = twilio_client(
            config.twilio_account_sid, config.twilio_auth_token, config.twilio_api_url
        )
    except PermanentError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        created, kept = create(client, docs, path)
    except TwilioException as exc:  # a template refused: say which error, keep what was made
        raise click.ClickException(f"Twilio refused a template: {exc}") from None
    click.echo(f"{created} template(s) created, {kept} already there; SIDs in {path}")
