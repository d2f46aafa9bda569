"""The layout the README's "Architecture" section describes, checked.

import-linter (pyproject.toml, run by `make lint`) keeps each package to its layer and
forbids import circles; these tests check that its contracts catch what they must, and the
rules it cannot express: where the environment and redis-py's internals may be read, and
that the README names every module.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MODULES = sorted(p.relative_to(ROOT).as_posix() for p in BOT.rglob("*.py"))


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """import-linter on the `bot` package found under `tree`, with the project's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize(
    "module, planted, contract",
    [
        ("text/split.py", "from bot.web import app", "Layers"),  # upward, inside a function
        ("jobs/queues.py", "from bot.jobs import reminders", "No import circles"),
        ("core/engine.py", "import redis", "The pure layers"),
    ],
)
def test_the_contracts_catch_upward_imports_circles_and_io_in_the_core(
    tmp_path, module, planted, contract
):
    shutil.copytree(BOT, tmp_path / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "bot" / module).open("a", encoding="utf-8") as fh:
        fh.write(f"\n\ndef _planted():\n    {planted}  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert re.search(rf"{contract}[^\n]*BROKEN", done.stdout), done.stdout[-3000:]


def test_only_the_settings_module_reads_the_environment():
    readers = [m for m in MODULES if "os.environ" in (ROOT / m).read_text(encoding="utf-8")]
    assert readers == ["bot/settings.py"]


def test_redis_py_internals_are_used_in_one_module_only():
    internals = ("command_stack", "connection_kwargs", "pack_command", "send_packed_command")
    users = [
        m
        for m in MODULES
        if any(word in (ROOT / m).read_text(encoding="utf-8") for word in internals)
    ]
    assert users == ["bot/store/wire.py"]


def test_the_core_loads_no_web_redis_queue_or_twilio_library():
    code = (
        "import sys, bot.core.engine, bot.core.runtime, bot.core.transcripts, bot.channels.render;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'werkzeug', 'redis', 'rq', 'twilio', 'requests'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_readme_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    missing = [m for m in MODULES if f"`{m}`" not in section and not m.endswith("__init__.py")]
    assert not missing, f"add a line for each to the README's Architecture section: {missing}"
