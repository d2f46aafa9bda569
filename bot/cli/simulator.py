"""`bot chat --url`: talk to a running service exactly as Twilio would.

Each line becomes a form-encoded POST to /webhooks/twilio with a fresh MessageSid,
signed with TWILIO_AUTH_TOKEN by twilio's own RequestValidator (the token comes from the
environment, else from var/dev.env written by `bot run`). The TwiML reply is parsed and
its messages printed. If the service sits behind a proxy and PUBLIC_URL is set, the
signature is computed for PUBLIC_URL + path, as Twilio would.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

# Parses only our own service's TwiML: bandit B405 does not apply.
import click
from twilio.request_validator import RequestValidator

from bot.cli.common import settings
from bot.web.simulator import reply_texts

WEBHOOK_PATH = "/webhooks/twilio"
SERVICE_NUMBER = "+15005550006"
"""The `To` of simulated messages: Twilio's documented test number, not a real line."""
TIMEOUT = 15
"""Seconds to wait for a reply, like Twilio."""


def auth_token() -> str:
    """TWILIO_AUTH_TOKEN from the environment, else from var/dev.env; explains if neither."""
    from bot.cli.service import read_env_file

    config = settings()
    token = config.twilio_auth_token or read_env_file(config.var_path / "dev.env").get(
        "TWILIO_AUTH_TOKEN"
    )
    if not token:
        raise click.ClickException(
            "no TWILIO_AUTH_TOKEN: set it to the service's token, or start the service once "
            "with `make run` (it writes development secrets to var/dev.env)"
        )
    return token


def webhook_url(url: str) -> str:
    """http://host:port -> http://host:port/webhooks/twilio (a full webhook URL is kept)."""
    url = url.rstrip("/")
    return url if url.endswith(WEBHOOK_PATH) else url + WEBHOOK_PATH


def twilio_params(text: str, sender: str, channel: str) -> dict[str, str]:
    """The fields Twilio posts for one inbound message (a subset, same names)."""
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": settings().twilio_account_sid or "AC" + "0" * 32,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if channel == "whatsapp":
        params["From"] = "whatsapp:" + sender
        params["To"] = "whatsapp:" + SERVICE_NUMBER
        params["WaId"] = sender.lstrip("+")
        params["ProfileName"] = "Simulator"
    return params


def send(url: str, params: dict[str, str], token: str) -> list[str]:
    """POST one signed message; return the reply texts or raise a helpful ClickException."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise click.ClickException(f"--url must start with http:// or https://, not {url!r}")
    public = settings().public_url.rstrip("/")
    signed = public + urllib.parse.urlsplit(url).path if public else url
    signature = RequestValidator(token).compute_signature(signed, params)
    request = urllib.request.Request(  # noqa: S310 - the URL the user gave
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1 (bot chat simulator)",
        },
    )
    try:
        # The scheme was checked above (http or https only): bandit B310 does not apply.
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310  # nosec B310
            return reply_texts(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()
        if exc.code == 403:
            raise click.ClickException(
                f"the service refused the signature ({detail}). TWILIO_AUTH_TOKEN must be the "
                "service's token, and if the service has PUBLIC_URL set, set the same here."
            ) from None
        raise click.ClickException(f"the service answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise click.ClickException(
            f"cannot reach {url} ({reason}). Is the service running? Start it with "
            "`make run` (or `.venv/bin/bot run`) and use the URL it prints."
        ) from None


def inbound_lines(interactive: bool) -> Iterator[str]:
    """What the person types: a prompt in a terminal, else one message per line of input."""
    while True:
        if interactive:
            try:
                yield click.prompt("you", prompt_suffix="> ", default="", show_default=False)
            except (EOFError, click.Abort):
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
            yield line.rstrip("\n")


def remote_chat(url: str, sender: str, channel: str, as_json: bool) -> None:
    """Read messages (a terminal prompt, or one per line from a pipe) and print replies."""
    endpoint = webhook_url(url)
    token = auth_token()
    interactive = sys.stdin.isatty() and not as_json
    if interactive:
        click.echo(f"Talking to {endpoint} as {channel} {sender} (Ctrl-D to quit).")
    for line in inbound_lines(interactive):
        texts = send(endpoint, twilio_params(line, sender, channel), token)
        if as_json:
            click.echo(json.dumps({"in": line, "out": texts}, ensure_ascii=False))
        else:
            for text in texts:
                click.echo("bot> " + text.replace("\n", "\n     ") + "\n")
