"""What an editor's change added: the problems of the flows before it, to compare with.

`bot flows validate --changed` shows only the problems that are new. "Before" is either a
baseline file saved with `bot flows validate --save-baseline FILE` (one JSON list of
[file name, severity, message]), or, without one, the flows of the last git commit, read
with `git show HEAD:...` into a temporary folder and validated there. Problems are compared
by file name, severity and message, not by line: adding a node above a warning moves it
without making it new.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404
import tempfile
from collections.abc import Callable
from pathlib import Path

import click

from bot.flow.problems import Problem, problem_key


def save(path: Path, problems: list[Problem]) -> None:
    """Write the problems' keys to `path` (JSON), for a later `--changed --baseline`."""
    keys = [list(problem_key(p)) for p in problems]
    path.write_text(json.dumps(keys, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")


def read(path: Path) -> list[tuple[str, str, str]]:
    """The keys saved in a baseline file; a ClickException if it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [(str(a), str(b), str(c)) for a, b, c in data]
    except (OSError, ValueError, TypeError) as exc:
        message = f"{path} is not a baseline saved by --save-baseline ({exc})"
        raise click.ClickException(message) from None


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    git = shutil.which("git")
    if git is None:
        raise click.ClickException("git is not installed: use --baseline FILE instead")
    # Fixed git arguments, no shell: bandit B603 and ruff S603 do not apply.
    command = [git, *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603


def from_git(flows_dir: Path, check: Callable[[Path], list[Problem]]) -> list[tuple]:
    """The problem keys of the flows at git HEAD, validated by `check(folder)`."""
    flows_dir = flows_dir.resolve()
    top = _git("rev-parse", "--show-toplevel", cwd=flows_dir)
    if top.returncode != 0:
        raise click.ClickException(
            f"{flows_dir} is not in a git checkout: save a baseline first "
            "(bot flows validate --save-baseline FILE) and use --baseline FILE"
        )
    root = Path(top.stdout.strip())
    prefix = flows_dir.relative_to(root).as_posix()
    names = _git("ls-tree", "--name-only", "HEAD", prefix + "/", cwd=root)
    with tempfile.TemporaryDirectory(prefix="flows-head-") as tmp:
        for name in names.stdout.split():
            if name.endswith(".yaml"):
                shown = _git("show", f"HEAD:{name}", cwd=root)
                (Path(tmp) / Path(name).name).write_text(shown.stdout, encoding="utf-8")
        return [problem_key(p) for p in check(Path(tmp))]
