"""`bot run` (the whole service from the Procfile) and `bot worker` (the RQ worker).

`bot run` is what `make run` calls on a fresh machine: it checks the flows, starts an
embedded Redis when `REDIS_URL` is unset, creates development secrets in `var/dev.env` on
first use (never when `BOT_ENV=production`), says whether Redis keeps its data and erasures
(bot.store.persistence), then runs the Procfile's `web` and `worker` under its own small
supervisor (bot.cli.supervisor: restarts what dies, stops in order, dies with `bot run`)
and says where the service listens.

`bot worker` survives an outage of Redis: it waits for Redis, then starts again, after
clearing what a dead worker left behind (bot.jobs.recovery). It holds two clients when
REDIS_QUEUE_URL is set: RQ's on the queue Redis, its jobs' on the state Redis (a Cluster's
with REDIS_CLUSTER_NODES), bot.store.connections.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from bot.cli.common import load_runtime, refuse_placeholders, settings
from bot.settings import CHECKOUT, Settings, environment

PROCFILE = CHECKOUT / "Procfile"
DEFAULT_PORT = 5000
"""Where the web process listens unless PORT is set (or 5000 is taken)."""
READY_WAIT = 60.0
"""Seconds `bot run` waits for /readyz before saying the web process did not start."""
STOPS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop `bot worker` (RQ's warm shutdown) and `bot run` (in order)."""
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
    """True when nothing listens on 127.0.0.1:port.

    Binds with SO_REUSEADDR, as gunicorn does: a port whose last connections are still in
    TIME_WAIT is free for a server, so it must be free for this check too.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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


def check_persistence(url: str) -> None:
    """Say whether the Redis at `url` keeps data across a restart and erasures off disk."""
    import redis

    from bot.store import persistence

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        notes = persistence.check(client)
    except redis.RedisError as exc:
        notes = [("warning", f"Redis persistence cannot be checked ({type(exc).__name__})")]
    finally:
        client.close()
    for level, message in notes:
        click.echo(("WARNING: " if level == "warning" else "") + message, err=level == "warning")


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

    from bot.cli.supervisor import Command, Program, Redis, Supervisor
    from bot.settings import ConfigError, check_redis_topology

    environ = environment()
    config = settings()
    try:
        check_redis_topology(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    production = config.production
    extra: dict[str, str] = {}
    # State on REDIS_URL, Sentinel or a Cluster: no embedded Redis. REDIS_QUEUE_URL only
    # moves the queues; without one of those the embedded Redis still holds the state.
    own_redis = bool(
        environ.get("REDIS_URL") or config.redis_sentinels or config.redis_cluster_nodes
    )
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
    refuse_placeholders(config)  # production with TODO staff values: stops here
    load_runtime(config=config, last_good=True)  # broken and no last good set: stops here
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
    if not (config.redis_sentinels or config.redis_cluster_nodes):
        check_persistence(extra.get("REDIS_URL") or environ["REDIS_URL"])
    if config.redis_queue_url:
        click.echo("Queues on REDIS_QUEUE_URL; conversation state apart from them.")
        check_persistence(config.redis_queue_url)
    extra["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_folder(config))
    bin_dir = str(Path(sys.executable).parent)
    children = {
        **environ,
        **extra,
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "PATH": bin_dir + os.pathsep + environ.get("PATH", ""),
    }
    if not production:  # a save is live within 2 s
        from bot.cli import watch

        watch.start(config, children.get("REDIS_URL", ""))  # the embedded one, if started
    programs: list[Program] = [Redis(embedded)] if embedded is not None else []
    procfile = parse_procfile(PROCFILE.read_text()).processes
    for name in ("worker", "web", *(n for n in procfile if n not in ("worker", "web"))):
        if name in procfile:
            env = {**children, "HONCHO_PROCESS_NAME": name}
            programs.append(Command(name, procfile[name], env, str(CHECKOUT)))
    click.echo(f"Starting web on http://127.0.0.1:{port} and the worker (Ctrl-C stops all)")
    stop = threading.Event()
    threading.Thread(target=_announce_when_ready, args=(port, stop), daemon=True).start()
    supervisor = Supervisor(programs, say=lambda line: click.echo(line, err=True))
    try:
        code = supervisor.run(started=("redis",))
    finally:
        stop.set()
        if embedded is not None:
            embedded.stop()
    click.echo("Stopped web, worker and Redis." if embedded else "Stopped web and worker.")
    sys.exit(code)


WORKER_TTL = 30
"""Seconds a worker's registration lives without a heartbeat; it waits for jobs 15 s at a
time (RQ: TTL - 15), so its maintenance below runs at least that often."""
MAINTENANCE = 10
"""Seconds between the worker's maintenance tasks (RQ's default: 10 minutes): restarting a
dead scheduler, retrying abandoned jobs. Due jobs wait at most about this long after a
Redis restart."""
JOB_MONITORING = 10
"""Seconds between heartbeats of a running job; it counts as abandoned 60 s after the last."""
RECONNECT_BACKOFF = (0.5, 1.0, 2.0, 3.0, 5.0)
"""Seconds between attempts to reach Redis again after the worker lost it."""


def _wait_for_redis(connection, stop: list[int]) -> None:
    """Ping Redis with backoff until it answers (or a stop signal came)."""
    import redis

    for attempt in itertools.count():
        if stop:
            return
        try:
            connection.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError):
            time.sleep(RECONNECT_BACKOFF[min(attempt, len(RECONNECT_BACKOFF) - 1)])


def _quiet_maintenance(record) -> bool:
    """A logging filter: RQ's "cleaning registries" lines only when rq.worker logs DEBUG.

    RQ logs its maintenance at INFO each time it runs, every MAINTENANCE seconds here: three
    lines every 10 s that bury what an operator looks for in `bot run`'s output.
    """
    import logging

    if isinstance(record.msg, str) and record.msg.startswith("Worker %s: cleaning"):
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
    return True


class PromptExit:
    """Mixed into RQ's workers (`bot worker`'s, and the tests' burst workers): they exit at once.

    rq 3.0 unsubscribes, then stops its pub/sub thread: with redis-py 8.2 a thread that read
    the unsubscribe reply first waits up to 60 s for a new subscription, and so does the
    worker's exit (`bot worker --burst`, a SIGTERM). Stopping the thread's loop first lets
    the reply end it at once.
    """

    pubsub_thread: Any

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.pubsub_thread.stop(timeout=0)
        super().unsubscribe()  # type: ignore[misc]


def _worker_class(pending: list[int]):
    """RQ's Worker, remembering whether it was asked to stop (else it lost Redis).

    A stop signal that came while it started, before RQ's own handlers were in place, is in
    `pending`: the worker stops at the top of its loop, as RQ does on a stop when idle.
    """
    from rq import Worker
    from rq.exceptions import StopRequested

    class StoppableWorker(PromptExit, Worker):
        stop_signal = 0

        def request_stop(self, signum, frame):
            self.stop_signal = signum
            super().request_stop(signum, frame)

        def check_for_suspension(self, burst: bool) -> None:
            if pending:
                self.stop_signal = pending[0]
                raise StopRequested()
            super().check_for_suspension(burst)

    return StoppableWorker


def run_worker(
    connection,
    queues: tuple[str, ...] | None = None,
    burst: bool = False,
    config: Settings | None = None,
    state=None,
) -> bool:
    """An RQ worker with the scheduler on `queues` (bot.jobs.queues.QUEUES); whether it ran a job.

    `connection` is RQ's Redis (the queue Redis); `state` the state Redis of its jobs when
    that is another (REDIS_QUEUE_URL), else they use `connection`.
    Its jobs get `config` (default: the environment's settings). Job descriptions (a function
    call with its arguments) are never logged: arguments may hold a number. Failed jobs keep
    their arguments for bot.jobs.queues.FAILURE_TTL only. Before it starts it clears what a
    dead worker left (bot.jobs.recovery). When it loses Redis (RQ's worker quits on a
    timeout or an error it did not expect), it waits for Redis and starts again, unless it
    was asked to stop (SIGINT, SIGTERM) or runs in burst mode.
    """
    import logging

    import redis
    from rq import Queue

    from bot.jobs import recovery, tasks
    from bot.jobs.queues import QUEUES

    if config is not None or state is not None:
        tasks.configure(config or Settings.from_environ(), state)
    log = logging.getLogger("bot.worker")
    rq_log = logging.getLogger("rq.worker")
    if _quiet_maintenance not in rq_log.filters:
        rq_log.addFilter(_quiet_maintenance)
    names = tuple(queues or QUEUES)
    gone: list[str] = []
    worked = False
    stop: list[int] = []
    while True:
        # Between two workers a stop signal ends the loop; while one works, RQ's handlers
        # (a warm shutdown) take over, and work() returns with _stop_requested set.
        for sig in STOPS:
            signal.signal(sig, lambda n, _f: stop.append(n))
        if stop:
            return worked
        worker = None
        try:
            recovery.recover(connection, names, gone)
            if stop:
                return worked
            worker = _worker_class(stop)(
                [Queue(name, connection=connection) for name in names],
                connection=connection,
                log_job_description=False,
                worker_ttl=WORKER_TTL,
                maintenance_interval=MAINTENANCE,
                job_monitoring_interval=JOB_MONITORING,
            )
            worker.max_connection_wait_time = RECONNECT_BACKOFF[-1]
            worked = worker.work(with_scheduler=True, burst=burst) or worked
            if burst or worker.stop_signal:
                return worked
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if burst:
                raise
            log.warning("worker lost Redis (%s)", type(exc).__name__)
        if worker is not None:
            if worker.stop_signal:  # asked to stop as Redis went away (bot run killed)
                return worked
            gone.append(worker.name)  # its registration and job are cleared at the restart
        for sig in STOPS:
            signal.signal(sig, lambda n, _f: stop.append(n))
        log.warning("waiting for Redis, then starting the worker again")
        _wait_for_redis(connection, stop)


@click.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker(burst: bool) -> None:
    """Run the background worker (RQ, with its scheduler) on REDIS_URL."""
    from bot.jobs import logs, metrics
    from bot.settings import ConfigError, check_redis_topology
    from bot.store.connections import worker_client, worker_state_client
    from bot.web.redaction import install

    config = settings()
    refuse_placeholders(config)
    try:
        check_redis_topology(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(config.log_format)  # RQ then logs through these, numbers redacted
    install()
    metrics.share_files_with_work_horses()
    state = worker_state_client(config)
    run_worker(worker_client(config), burst=burst, config=config, state=state)
