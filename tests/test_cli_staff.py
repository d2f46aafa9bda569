"""`bot staff add | list | remove | passwd`: passwords from standard input, audited."""

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.store import audit
from bot.store.staff import Staff

PASSWORD = "a long enough password"


@pytest.fixture
def cli(monkeypatch, redis_url, redis):
    monkeypatch.setenv("REDIS_URL", redis_url)

    def run(*args, stdin=""):
        return CliRunner().invoke(main, ["staff", *args], input=stdin)

    return run


def test_add_reads_one_line_when_piped(cli, redis):
    result = cli("add", "ana", "--role", "counsellor", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert Staff(redis).verify("ana", PASSWORD).role == "counsellor"
    assert [e.action for e in audit.recent(redis, 1)] == ["staff_add"]


def test_a_short_password_is_refused(cli, redis):
    result = cli("add", "ana", "--role", "editor", stdin="short\n")
    assert result.exit_code != 0 and "at least 12" in result.output
    assert Staff(redis).get("ana") is None


def test_a_bad_role_is_refused(cli):
    result = cli("add", "ana", "--role", "boss", stdin=PASSWORD + "\n")
    assert result.exit_code != 0 and "counsellor" in result.output


def test_list_passwd_remove(cli, redis):
    cli("add", "ana", "--role", "admin", stdin=PASSWORD + "\n")
    cli("add", "bob", "--role", "editor", stdin=PASSWORD + "\n")
    assert cli("list").output.splitlines() == ["ana\tadmin", "bob\teditor"]
    assert cli("passwd", "bob", stdin="a brand new password\n").exit_code == 0
    assert Staff(redis).verify("bob", "a brand new password") is not None
    assert cli("remove", "bob").exit_code == 0
    assert cli("list").output.splitlines() == ["ana\tadmin"]
    assert cli("remove", "bob").exit_code != 0


def _read_until(fd: int, text: bytes, seen: bytearray) -> None:
    deadline = time.monotonic() + 20
    while text not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen.extend(os.read(fd, 1024))


def test_a_terminal_is_asked_twice_without_echo(redis, redis_url):
    """A real pseudo-terminal: the password is asked, then asked again, never echoed."""
    master, slave = pty.openpty()
    env = {**os.environ, "REDIS_URL": redis_url}
    bot = Path(sys.executable).with_name("bot")
    process = subprocess.Popen(
        [str(bot), "staff", "add", "ana", "--role", "admin"],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"characters): ", seen)
        os.write(master, PASSWORD.encode() + b"\n")
        _read_until(master, b"Repeat for confirmation: ", seen)
        os.write(master, PASSWORD.encode() + b"\n")
        _read_until(master, b"added ana", seen)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        os.close(master)
    assert PASSWORD.encode() not in seen
    assert Staff(redis).verify("ana", PASSWORD) is not None
