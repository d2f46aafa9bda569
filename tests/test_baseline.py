"""`bot flows validate --changed`: only what the editor's change added."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main as cli
from bot.core.runtime import ROOT

UNREACHABLE = """
  - id: forgotten
    type: message
    text: "A node nothing leads to."
"""


@pytest.fixture
def flows(tmp_path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder, ignore=shutil.ignore_patterns("transcripts"))
    return folder


def _validate(*args: str):
    return CliRunner().invoke(cli, ["flows", "validate", *args])


def _new_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": warning: " in line or ": error: " in line]


def test_a_saved_baseline_shows_only_the_new_warning(flows, tmp_path):
    baseline = tmp_path / "baseline.json"
    everything = _validate("--flows", str(flows), "--save-baseline", str(baseline))
    assert everything.exit_code == 0 and len(_new_lines(everything.output)) > 10
    with (flows / "faq.yaml").open("a") as out:
        out.write(UNREACHABLE)
    result = _validate("--flows", str(flows), "--changed", "--baseline", str(baseline))
    assert result.exit_code == 0, result.output
    new = _new_lines(result.output)
    assert any('"forgotten" can never be reached' in line for line in new)
    assert all('"forgotten"' in line for line in new)  # the untranslated note, at most
    assert "new since the baseline: 0 error(s), " in result.output


def test_changed_against_git_head(flows):
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    who = {"NAME": "t", "EMAIL": "t@example.org"}
    env = {f"GIT_{role}_{k}": v for role in ("AUTHOR", "COMMITTER") for k, v in who.items()}
    env["HOME"] = str(flows)
    root = flows.parent
    for args in (["init", "-q"], ["add", "flows"], ["commit", "-qm", "flows"]):
        subprocess.run([git, *args], cwd=root, check=True, env=env)
    unchanged = _validate("--flows", str(flows), "--changed")
    assert _new_lines(unchanged.output) == []
    assert "new since git HEAD: 0 error(s), 0 warning(s)" in unchanged.output
    with (flows / "faq.yaml").open("a") as out:
        out.write(UNREACHABLE)
    result = _validate("--flows", str(flows), "--changed")
    assert any('"forgotten" can never be reached' in line for line in _new_lines(result.output))


def test_the_service_log_and_validate_count_the_same_warnings(make_app, caplog):
    result = _validate()
    count = int(result.output.rsplit("error(s), ", 1)[1].split(" warning")[0])
    make_app(BOT_FLOWS_DIR=str(ROOT / "flows"))
    logged = [r.getMessage() for r in caplog.records if "warning(s)" in r.getMessage()]
    assert logged == [f"the flows have {count} warning(s); `bot flows validate` lists them"]
