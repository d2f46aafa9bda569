"""Every setting of the service, in one frozen, typed object built once from the environment.

`Settings.from_environ()` is the one place that reads `os.environ`: the app factory, the
worker and each CLI command build a `Settings` and hand it (or the few values needed) to
the modules below them, which never read the environment nor look a setting up by name.
Each field names its environment variable, default, unit and meaning (`SETTINGS`, from
which the README's Configuration table is checked). A bad value stops the service with a
`ConfigError` that names the variable and says how to fix it.

This module imports nothing of bot but the plain text functions: every layer may use it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.text.durations import parse_duration

CHECKOUT = Path(__file__).resolve().parent.parent
"""The folder of this checkout: the default home of flows/, locales/, var/ and the Procfile."""


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""REDIS_URL's default: a REDIS_URL other than this one was set on purpose."""


class ConfigError(RuntimeError):
    """A setting is missing or unusable; the message says which and how to fix it."""


def _duration(value: Any) -> int:
    """Seconds, from a number of seconds or a duration such as 90s, 15m, 12h, 14d."""
    if isinstance(value, int | float):
        return int(value)
    seconds = str(value).strip()
    if seconds.isdigit():
        return int(seconds)
    parsed = parse_duration(seconds)
    if parsed is None:
        raise ValueError(f"{value!r} is not a duration such as 3600, 90s, 15m, 12h or 14d")
    return parsed


def _flag(value: Any) -> bool:
    """1/true/yes/on are true; 0/false/no/off and empty are false."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not 1/0, true/false, yes/no or on/off")


def _log_level(value: Any) -> str:
    """A logging level name: DEBUG, INFO, WARNING or ERROR."""
    name = str(value).strip().upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"{value!r} is not DEBUG, INFO, WARNING or ERROR")
    return name


def _int(value: Any) -> int:
    """A whole number."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def _float(value: Any) -> float:
    """A number, decimals allowed."""
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number such as 0.3") from None


def _log_format(value: Any) -> str:
    """`text` or `json`."""
    name = str(value).strip().lower()
    if name not in ("text", "json"):
        raise ValueError(f"{value!r} is not text or json")
    return name


def _host_ports(value: Any) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as ((host, port), ...); empty for none."""
    if isinstance(value, tuple):
        return value
    pairs = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{item!r} is not host:port (e.g. sentinel1:26379)")
        pairs.append((host.strip("[]"), int(port)))
    return tuple(pairs)


def _setting(env: str, default: Any, parse: Callable[[Any], Any], unit: str, help: str) -> Any:
    """A dataclass field bound to environment variable `env`."""
    return field(
        default=parse(default),
        metadata={"env": env, "default": default, "parse": parse, "unit": unit, "help": help},
    )


@dataclass(frozen=True)
class Settings:
    """The service's settings; `Settings()` is every default, `from_environ()` the real ones."""

    redis_url: str = _setting(
        "REDIS_URL",
        DEFAULT_REDIS_URL,
        str,
        "URL",
        "Redis (6.0.6 or newer) for conversation state and jobs. "
        "`bot run` starts an embedded Redis when unset.",
    )
    twilio_account_sid: str = _setting(
        "TWILIO_ACCOUNT_SID",
        "",
        str,
        "",
        "Your Twilio account (AC...). When set, requests for another account are refused.",
    )
    twilio_auth_token: str = _setting(
        "TWILIO_AUTH_TOKEN",
        "",
        str,
        "",
        "Checks the X-Twilio-Signature of every webhook request. Required.",
    )
    public_url: str = _setting(
        "PUBLIC_URL",
        "",
        str,
        "URL",
        "The URL Twilio calls, e.g. https://bot.example.org, when behind a proxy or tunnel; "
        "signatures are checked against PUBLIC_URL + path. Unset: the URL of the request.",
    )
    secret_key: str = _setting(
        "BOT_SECRET_KEY",
        "",
        str,
        "",
        "Keys the pseudonyms that name conversations in Redis. Required; keep it secret; "
        "changing it starts every conversation afresh.",
    )
    env: str = _setting(
        "BOT_ENV",
        "development",
        str,
        "",
        "`production` refuses development shortcuts (generated secrets, skipped signatures).",
    )
    log_level: str = _setting(
        "BOT_LOG_LEVEL",
        "INFO",
        _log_level,
        "",
        "INFO logs problems and notable actions (refusals, queued parts, callbacks, "
        "reminders); DEBUG adds one line per message. No level logs a number or a message.",
    )
    flows_dir: str = _setting(
        "BOT_FLOWS_DIR", "", str, "path", "Folder of YAML flows (default: flows/ of this checkout)."
    )
    locales_dir: str = _setting(
        "BOT_LOCALES_DIR", "", str, "path", "Folder of translation catalogs (default: locales/)."
    )
    var_dir: str = _setting(
        "BOT_VAR_DIR",
        "",
        str,
        "path",
        "Folder of what `bot run` keeps: the embedded Redis's data, development secrets, the "
        "WhatsApp template map (default: var/ of this checkout).",
    )
    state_ttl: int = _setting(
        "BOT_STATE_TTL",
        "24h",
        _duration,
        "seconds",
        "How long a conversation's place and answers are kept after the last message "
        "(seconds or 90s/15m/12h/14d). The privacy notice says so.",
    )
    prefs_ttl: int = _setting(
        "BOT_PREFS_TTL",
        "90d",
        _duration,
        "seconds",
        "How long a language the person chose (LANG) and STOP are kept after their last "
        "message; at least BOT_STATE_TTL. The privacy notice says so.",
    )
    callback_ttl: int = _setting(
        "BOT_CALLBACK_TTL",
        "14d",
        _duration,
        "seconds",
        "The longest a callback request is kept, handled or not. The privacy notice says so.",
    )
    replies_ttl: int = _setting(
        "BOT_REPLIES_TTL",
        "3h",
        _duration,
        "seconds",
        "How long the replies to a MessageSid are kept to answer Twilio retries.",
    )
    lock_ttl_ms: int = _setting(
        "BOT_LOCK_TTL_MS",
        5000,
        _int,
        "milliseconds",
        "Milliseconds a conversation lock lasts if its holder dies.",
    )
    lock_wait_ms: int = _setting(
        "BOT_LOCK_WAIT_MS",
        3000,
        _int,
        "milliseconds",
        "Milliseconds a message waits for an earlier message of the same person.",
    )
    redis_timeout: float = _setting(
        "BOT_REDIS_TIMEOUT",
        0.3,
        _float,
        "seconds",
        "Seconds to connect to or wait for Redis before answering 'temporarily unavailable'.",
    )
    rate_limit: int = _setting(
        "BOT_RATE_LIMIT",
        20,
        _int,
        "messages",
        "Messages accepted from one sender per BOT_RATE_WINDOW; the first one over gets a "
        "short notice, the next ones no reply until the window has passed (0: no limit).",
    )
    rate_window: int = _setting(
        "BOT_RATE_WINDOW",
        "60s",
        _duration,
        "seconds",
        "The rate-limit window (seconds or 60s/5m).",
    )
    loop_streak: int = _setting(
        "BOT_LOOP_STREAK",
        5,
        _int,
        "exchanges",
        "Bot-like exchanges in a row (our same replies going round, to messages faster than "
        "BOT_LOOP_FAST or repeated word for word) that mute a sender (0: no loop detection).",
    )
    loop_fast: int = _setting(
        "BOT_LOOP_FAST",
        "5s",
        _duration,
        "seconds",
        "A message that comes sooner than this after the previous one is faster than a person.",
    )
    loop_mute: int = _setting(
        "BOT_LOOP_MUTE",
        "1h",
        _duration,
        "seconds",
        "How long a sender caught in a loop with our replies gets no reply at all.",
    )
    daily_segments: int = _setting(
        "BOT_DAILY_SEGMENTS",
        2000,
        _int,
        "segments",
        "Outbound SMS segments (a WhatsApp message counts 1) per UTC day. Past it, replies to "
        "people in a conversation still go out, new conversations get a one-segment notice, "
        "reminders and other proactive messages do not, and staff are told at 80 % and "
        "100 % (0: no budget).",
    )
    segments_per_hour: int = _setting(
        "BOT_SEGMENTS_PER_HOUR",
        400,
        _int,
        "segments",
        "Outbound segments per UTC hour; past it, and past BOT_DAILY_SEGMENTS, new "
        "conversations get only a one-segment notice; people already in a conversation "
        "are still answered (0: no hourly brake).",
    )
    new_per_minute: int = _setting(
        "BOT_NEW_PER_MINUTE",
        20,
        _int,
        "conversations",
        "New conversations per minute; past it, new ones get only a one-segment notice "
        "until the next minute (0: no limit).",
    )
    dev_skip_signature: bool = _setting(
        "BOT_DEV_SKIP_SIGNATURE",
        False,
        _flag,
        "",
        "Development only: accept unsigned webhook requests. Refused when BOT_ENV=production.",
    )
    sms_max_parts: int = _setting(
        "BOT_SMS_MAX_PARTS",
        3,
        _int,
        "messages",
        "A long SMS reply is split into at most this many messages (each within the flows' "
        "max_segments); the first goes in the TwiML answer, the rest from the worker.",
    )
    parts_delay: int = _setting(
        "BOT_PARTS_DELAY",
        "2s",
        _duration,
        "seconds",
        "How long the worker waits before sending the rest of a split reply, so the TwiML "
        "part arrives first (0: at once).",
    )
    whatsapp_templates: str = _setting(
        "BOT_WHATSAPP_TEMPLATES",
        "",
        str,
        "path",
        "The JSON file of WhatsApp template SIDs made by `bot whatsapp templates --create` "
        "(default: var/whatsapp_templates.json); menus without one go as text.",
    )
    staff_webhook_url: str = _setting(
        "BOT_STAFF_WEBHOOK_URL",
        "",
        str,
        "URL",
        "Callback requests are POSTed here as JSON (with the person's number: use https).",
    )
    staff_webhook_secret: str = _setting(
        "BOT_STAFF_WEBHOOK_SECRET",
        "",
        str,
        "",
        "Signs each staff webhook POST: header X-Bot-Signature: sha256=<HMAC of the body>.",
    )
    smtp_url: str = _setting(
        "BOT_SMTP_URL",
        "",
        str,
        "URL",
        "Callback requests are e-mailed through this server: smtps://user:password@host:465 "
        "or smtp://user:password@host:587 (STARTTLS; clear text only to a local relay).",
    )
    staff_email: str = _setting(
        "BOT_STAFF_EMAIL", "", str, "", "Who gets the callback e-mails (comma-separated)."
    )
    smtp_from: str = _setting(
        "BOT_SMTP_FROM", "", str, "", "The From of callback e-mails (default: the SMTP user)."
    )
    stats_min_count: int = _setting(
        "BOT_STATS_MIN_COUNT",
        5,
        _int,
        "count",
        'The staff console shows every count below this as "<N" (pages, charts, CSV), '
        "so no small group of people can be singled out. At least 1.",
    )
    line_number: str = _setting(
        "BOT_LINE_NUMBER",
        "",
        str,
        "E.164",
        "The number people text (the Twilio number), as posters print it, e.g. +32460000000. "
        "Empty: posters carry a SAMPLE mark, and none is made in production.",
    )
    whatsapp_number: str = _setting(
        "BOT_WHATSAPP_NUMBER",
        "",
        str,
        "E.164",
        "The WhatsApp number of the line, for the posters' QR code (wa.me click-to-chat). "
        "Empty: BOT_LINE_NUMBER.",
    )
    twilio_api_url: str = _setting(
        "BOT_TWILIO_API_URL",
        "",
        str,
        "URL",
        "Development and tests only: send Twilio REST requests to this base URL (a local "
        "fake or simulator) instead of https://*.twilio.com.",
    )
    metrics_token: str = _setting(
        "BOT_METRICS_TOKEN",
        "",
        str,
        "",
        "When set, GET /metrics needs `Authorization: Bearer <token>` (401 without). "
        "Production refuses /metrics until it is set.",
    )
    metrics_dir: str = _setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "",
        str,
        "path",
        "Folder where every web and worker process of one machine keeps its metric files, so "
        "/metrics adds them up. `bot run` sets and empties var/metrics; otherwise set it to an "
        "empty folder shared by web and worker, emptied before they start.",
    )
    log_format: str = _setting(
        "BOT_LOG_FORMAT",
        "text",
        _log_format,
        "",
        "`text`, or `json`: one JSON object per line with a request_id that follows a message "
        "from the webhook into its jobs. Numbers are redacted in both.",
    )
    redis_sentinels: tuple[tuple[str, int], ...] = _setting(
        "REDIS_SENTINELS",
        "",
        _host_ports,
        "host:port,...",
        "Redis Sentinels (e.g. s1:26379,s2:26379,s3:26379): web and worker ask them for the "
        "master of REDIS_SENTINEL_MASTER and follow a failover. Used instead of REDIS_URL.",
    )
    redis_sentinel_master: str = _setting(
        "REDIS_SENTINEL_MASTER",
        "",
        str,
        "",
        "The master's name in the Sentinels' configuration (`sentinel monitor <name> ...`).",
    )
    redis_password: str = _setting(
        "REDIS_PASSWORD",
        "",
        str,
        "",
        "Password of the Redis servers found through Sentinel or of the Cluster nodes "
        "(REDIS_URL carries its own).",
    )
    redis_sentinel_password: str = _setting(
        "REDIS_SENTINEL_PASSWORD",
        "",
        str,
        "",
        "Password of the Sentinels themselves (`requirepass` in sentinel.conf), if any.",
    )
    redis_sentinel_tls: bool = _setting(
        "REDIS_SENTINEL_TLS",
        False,
        _flag,
        "",
        "Talk TLS to the Sentinels and the servers they name, as a rediss:// URL does.",
    )

    redis_queue_url: str = _setting(
        "REDIS_QUEUE_URL",
        "",
        str,
        "URL",
        "A Redis of its own for RQ's queues, jobs, scheduler and workers (e.g. "
        "redis://queue-host:6379/0); conversation state, limits and staff stay on REDIS_URL, "
        "REDIS_SENTINELS or REDIS_CLUSTER_NODES. Unset: the queues live on the state Redis.",
    )
    redis_cluster_nodes: tuple[tuple[str, int], ...] = _setting(
        "REDIS_CLUSTER_NODES",
        "",
        _host_ports,
        "host:port,...",
        "Some nodes of a Redis Cluster (e.g. n1:6379,n2:6379,n3:6379) for conversation "
        "state, instead of REDIS_URL or REDIS_SENTINELS; needs REDIS_QUEUE_URL (RQ does not "
        "run on a Cluster). Costs one round trip more per message (bot.store.cluster).",
    )

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> Settings:
        """Defaults, then `environ` (the process's own when None), then `overrides`.

        Both are keyed by variable name (`BOT_STATE_TTL`); a bad value raises ConfigError.
        """
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in SETTINGS:
            raw = spec.default
            if source.get(spec.env) not in (None, ""):
                raw = source[spec.env]
            if overrides and spec.env in overrides:
                raw = overrides[spec.env]
            try:
                values[spec.name] = spec.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{spec.env}: {exc}") from None
        return cls(**values)

    @property
    def production(self) -> bool:
        """BOT_ENV=production: no development shortcuts."""
        return self.env == "production"

    @property
    def flows_path(self) -> Path:
        """BOT_FLOWS_DIR, or the `flows/` folder of this checkout."""
        return Path(self.flows_dir) if self.flows_dir else CHECKOUT / "flows"

    @property
    def locales_path(self) -> Path:
        """BOT_LOCALES_DIR, or the `locales/` folder of this checkout."""
        return Path(self.locales_dir) if self.locales_dir else CHECKOUT / "locales"

    @property
    def var_path(self) -> Path:
        """BOT_VAR_DIR, or the `var/` folder of this checkout."""
        return Path(self.var_dir) if self.var_dir else CHECKOUT / "var"


@dataclass(frozen=True)
class Spec:
    """One setting as the README's Configuration table shows it."""

    name: str
    env: str
    default: Any
    parse: Callable[[Any], Any]
    unit: str
    help: str


SETTINGS: tuple[Spec, ...] = tuple(
    Spec(f.name, f.metadata["env"], f.metadata["default"], f.metadata["parse"],
         f.metadata["unit"], f.metadata["help"])
    for f in dataclasses.fields(Settings)
)  # fmt: skip
"""Every setting, in the order of the README's Configuration table."""


def environment() -> dict[str, str]:
    """A copy of the process environment, for `bot run` to hand to the processes it starts."""
    return dict(os.environ)


# --- checks at start ------------------------------------------------------------------

MIN_SECRET_CHARS = 32
"""Characters a production BOT_SECRET_KEY needs at least (`token_urlsafe(32)` gives 43)."""
MIN_SECRET_DISTINCT = 10
"""Different characters a production BOT_SECRET_KEY needs at least."""
WEAK_SECRET_WORDS = ("secret", "password", "changeme", "example", "test", "default", "dev")
"""Words a chosen (not generated) secret gives itself away by."""
KEY_RECIPE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def secret_problem(secret: str) -> str | None:
    """Why a secret is too weak to key the pseudonyms in production, or None.

    Pseudonyms are HMACs of phone numbers: with a guessable key anyone holding a Redis
    dump can test which numbers wrote to the service. This catches the usual mistakes (a
    short, repetitive or made-up secret); it cannot prove that a secret is random.
    """
    if len(secret) < MIN_SECRET_CHARS:
        return f"it has {len(secret)} characters, it needs at least {MIN_SECRET_CHARS}"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"it uses only {len(set(secret))} different characters"
    words = [w for w in WEAK_SECRET_WORDS if w in secret.lower()]
    if words:
        return f'it contains the word "{words[0]}": it looks made up, not generated'
    return None


def check_settings(settings: Settings) -> list[str]:
    """Refuse to start without the secrets (ConfigError); return warnings to log loudly."""
    production = settings.production
    skip = settings.dev_skip_signature
    if not settings.secret_key:
        raise ConfigError(
            "BOT_SECRET_KEY is not set: set it to a long random string (for example the "
            f"output of `{KEY_RECIPE}`), "
            "or use `bot run`, which creates development secrets in var/dev.env."
        )
    weak = secret_problem(settings.secret_key)
    if production and weak:
        raise ConfigError(
            f"BOT_SECRET_KEY is too weak for BOT_ENV=production: {weak}. Generate one with "
            f"`{KEY_RECIPE}` and keep it (changing it starts every conversation afresh)."
        )
    if settings.prefs_ttl < settings.state_ttl:
        raise ConfigError(
            "BOT_PREFS_TTL is shorter than BOT_STATE_TTL: a conversation would outlive its "
            "language and STOP. Set BOT_PREFS_TTL to at least BOT_STATE_TTL."
        )
    if settings.stats_min_count < 1:
        raise ConfigError(
            "BOT_STATS_MIN_COUNT must be at least 1 (5 is the default): counts below it "
            'are shown as "<N" in the staff console.'
        )
    if skip and production:
        raise ConfigError("BOT_DEV_SKIP_SIGNATURE is refused when BOT_ENV=production.")
    api = settings.twilio_api_url
    if production and api and not api.lower().startswith("https://"):
        raise ConfigError(
            f"BOT_TWILIO_API_URL={api} is refused when BOT_ENV=production: it sends Twilio "
            "requests (with your credentials) to a test server in clear text. Unset it."
        )
    check_redis_topology(settings)
    if not settings.twilio_auth_token and not skip:
        raise ConfigError(
            "TWILIO_AUTH_TOKEN is not set: copy the Auth Token from the Twilio console, or "
            "for development only set BOT_DEV_SKIP_SIGNATURE=1."
        )
    warnings = []
    if skip:
        warnings.append(
            "!!! BOT_DEV_SKIP_SIGNATURE is on: webhook signatures are NOT checked; anyone who "
            "can reach this service can post as anyone. Development only. !!!"
        )
    if not settings.public_url:
        warnings.append(
            "PUBLIC_URL is not set: signatures are checked against the URL of each request. "
            "Behind a proxy or tunnel, set PUBLIC_URL to the URL Twilio calls."
        )
    return warnings


def service_values(settings: Settings) -> dict[str, str]:
    """The read-only values flow texts may show (bot.flow.loader.SERVICE_VALUES).

    The privacy notice shows them, so it can never disagree with the TTLs actually set.
    Rounded up: a notice may say a little longer than the truth, never shorter.
    """
    # What is kept about a conversation for less than its state counts as the conversation:
    # the replies kept for Twilio retries, the rate-limit and loop record (and its mute).
    conversation = max(
        settings.state_ttl, settings.replies_ttl, settings.rate_window, settings.loop_mute
    )
    return {
        "conversation_hours": str(math.ceil(conversation / 3600)),
        "preferences_days": str(math.ceil(settings.prefs_ttl / 86400)),
        "callback_days": str(math.ceil(settings.callback_ttl / 86400)),
    }


def check_redis_topology(settings: Settings) -> None:
    """Refuse Redis settings that cannot work together (ConfigError says how to fix them)."""
    if settings.redis_cluster_nodes:
        if settings.redis_sentinels:
            raise ConfigError(
                "REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: conversation state goes "
                "on one of them. Unset REDIS_SENTINELS to keep state on the Cluster (a Cluster "
                "fails over by itself), or unset REDIS_CLUSTER_NODES."
            )
        if settings.redis_url != DEFAULT_REDIS_URL:
            raise ConfigError(
                "REDIS_CLUSTER_NODES and REDIS_URL are both set: conversation state goes on "
                "one of them. Unset REDIS_URL to keep state on the Cluster (the queues go on "
                "REDIS_QUEUE_URL), or unset REDIS_CLUSTER_NODES."
            )
        if not settings.redis_queue_url:
            raise ConfigError(
                "REDIS_CLUSTER_NODES needs REDIS_QUEUE_URL: RQ's queues and jobs cannot live "
                "on a Redis Cluster (rq/rq#1048). Set REDIS_QUEUE_URL to a plain Redis "
                "(e.g. redis://queue-host:6379/0) for the queues."
            )
    if bool(settings.redis_sentinels) != bool(settings.redis_sentinel_master):
        raise ConfigError(
            "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: set both (the Sentinels' "
            "host:port list and the master's name in their configuration), or neither."
        )
