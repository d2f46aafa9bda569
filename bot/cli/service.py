"""`bot run` (the whole service from the Procfile) and `bot worker` (the RQ worker).

`bot run` is what `make run` calls on a fresh machine: it checks the flows, starts an
embedded Redis when `REDIS_URL` is unset, creates development secrets in `var/dev.env` on
first use (never when `BOT_ENV=production`), then runs the Procfile's `web` and `worker`
with honcho and says where the service listens.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

import click

from bot.cli.common import load_runtime, settings
from bot.settings import CHECKOUT, Settings, environment

PROCFILE = CHECKOUT / "Procfile"
DEFAULT_PORT = 5000
"""Where the web process listens unless PORT is set (or 5000 is taken)."""
READY_WAIT = 60.0
"""Seconds `bot run` waits for /readyz before saying the web process did not start."""
DEV_SECRETS = ("BOT_SECRET_KEY", "TWILIO_AUTH_TOKEN")
"""Secrets `bot run` generates into var/dev.env in development when they are unset."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines; blank lines and # comments ignored; a missing file is empty."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def dev_secrets(path: Path, environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Development secrets from `path`, creating the missing ones; returns (values, created)."""
    values = read_env_file(path)
    created = [n for n in DEV_SECRETS if not environ.get(n) and not values.get(n)]
    if created:
        for name in created:
            values[name] = secrets.token_urlsafe(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Development secrets made by `bot run`; never use them in production.",
            *(f"{k}={v}" for k, v in values.items()),
        ]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    return {k: v for k, v in values.items() if not environ.get(k)}, created


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(environ: dict[str, str]) -> int:
    """PORT if set (it must be free), else 5000, else any free port."""
    from bot.store.embedded import free_port

    if environ.get("PORT"):
        port = int(environ["PORT"])
        if not port_is_free(port):
            raise click.ClickException(f"PORT={port} is already in use; choose another PORT.")
        return port
    return DEFAULT_PORT if port_is_free(DEFAULT_PORT) else free_port()


def _announce_when_ready(port: int, stop: threading.Event) -> None:
    """Print the banner once /readyz answers (or say that it did not)."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WAIT
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            # Fixed http://127.0.0.1 URL: bandit B310 does not apply.
            with urllib.request.urlopen(base + "/readyz", timeout=1) as response:  # noqa: S310  # nosec B310
                if response.status == 200:
                    click.echo(
                        f"\nService listening on {base}/webhooks/twilio — "
                        f"try: .venv/bin/bot chat --url {base}\n"
                        f"Simulator in your browser: {base}/simulator/\n"
                    )
                    sys.stdout.flush()
                    return
        except OSError:
            pass
        stop.wait(0.3)
    if not stop.is_set():
        click.echo(f"\nThe web process did not become ready on {base}; see its log above.\n")


def metrics_folder(config: Settings) -> Path:
    """PROMETHEUS_MULTIPROC_DIR, or var/metrics: created, and emptied of the last run's files.

    Every web and worker process of this run keeps its figures there (bot.jobs.metrics);
    files left by an earlier run would add its counts to this one's.
    """
    folder = Path(config.metrics_dir) if config.metrics_dir else config.var_path / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    return folder


@click.command()
def run() -> None:
    """Run the service: web + worker from the Procfile, embedded Redis unless REDIS_URL."""
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    environ = environment()
    config = settings()
    production = config.production
    extra: dict[str, str] = {}
    own_redis = bool(environ.get("REDIS_URL") or config.redis_sentinels)
    if production:
        needed = (*(() if own_redis else ("REDIS_URL",)), *DEV_SECRETS)
        missing = [n for n in needed if not environ.get(n)]
        if missing:
            raise click.ClickException(
                f"BOT_ENV=production needs {', '.join(missing)} set in the environment."
            )
    else:
        env_file = config.var_path / "dev.env"
        values, created = dev_secrets(env_file, environ)
        extra.update(values)
        if created:
            click.echo(f"Created development secrets in {env_file}: {', '.join(created)}")
    load_runtime(config=config)  # stops here, listing every problem, when the flows are broken
    port = choose_port(environ)
    embedded = None
    if not own_redis:
        from bot.store.embedded import EmbeddedRedis, EmbeddedRedisError

        embedded = EmbeddedRedis(config.var_path / "redis")
        try:
            extra["REDIS_URL"] = embedded.start()
        except EmbeddedRedisError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Embedded Redis on 127.0.0.1:{embedded.port}, data in {embedded.data_dir}")
    extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_folder(config))
    bin_dir = str(Path(sys.executable).parent)
    children = {
        **environ,
        **extra,
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "PATH": bin_dir + os.pathsep + environ.get("PATH", ""),
    }
    manager = Manager()
    for name, command in parse_procfile(PROCFILE.read_text()).processes.items():
        manager.add_process(name, command, env={**children, "HONCHO_PROCESS_NAME": name},
                            cwd=str(CHECKOUT))  # fmt: skip
    click.echo(f"Starting web on http://127.0.0.1:{port} and the worker (Ctrl-C stops all)")
    stop = threading.Event()
    threading.Thread(target=_announce_when_ready, args=(port, stop), daemon=True).start()
    try:
        manager.loop()
    finally:
        stop.set()
        if embedded is not None:
            embedded.stop()
            click.echo("Embedded Redis stopped.")
    sys.exit(manager.returncode or 0)


def run_worker(
    connection,
    queues: tuple[str, ...] | None = None,
    burst: bool = False,
    config: Settings | None = None,
) -> bool:
    """An RQ worker with the scheduler on `queues` (bot.jobs.queues.QUEUES); whether it ran a job.

    Its jobs get `config` (default: the environment's settings). Job descriptions (a function
    call with its arguments) are never logged: arguments may hold a number. Failed jobs keep
    their arguments for bot.jobs.queues.FAILURE_TTL only.
    """
    from rq import Queue, Worker

    from bot.jobs import tasks
    from bot.jobs.queues import QUEUES

    if config is not None:
        tasks.configure(config)

    class QuickStopWorker(Worker):
        """RQ's worker, whose pub/sub thread stops at once when the worker quits.

        rq 3.0 unsubscribes, then stops the thread: with redis-py 8.2 a thread that read the
        unsubscribe reply first waits up to 60 s for a new subscription, and so does the
        worker's exit (`bot worker --burst`, a SIGTERM). Its flag is cleared first here, so
        the reply ends the thread's loop.
        """

        def unsubscribe(self) -> None:
            if self.pubsub_thread:
                self.pubsub_thread.stop(timeout=0)
            super().unsubscribe()

    worker = QuickStopWorker(
        [Queue(name, connection=connection) for name in queues or QUEUES],
        connection=connection,
        log_job_description=False,
    )
    return worker.work(with_scheduler=True, burst=burst)


@click.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker(burst: bool) -> None:
    """Run the background worker (RQ, with its scheduler) on REDIS_URL."""
    from bot.jobs import logs, metrics
    from bot.store.connections import worker_client
    from bot.web.redaction import install

    config = settings()
    logs.configure(config.log_format)  # RQ then logs through these, numbers redacted
    install()
    metrics.share_files_with_work_horses()
    run_worker(worker_client(config), burst=burst, config=config)
