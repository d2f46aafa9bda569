"""`bot flows test --update` shows what it changes and never writes a regression in silently."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main as cli
from bot.core.runtime import ROOT
from bot.core.transcripts import DIFF_LINES

COST_OPTION = """      - label: "What does it cost?"
        synonyms: "cost, price, pay, money"
        goto: about_fedasil
"""
COMMENT = "# Staff notes on this transcript: keep me.\n"
MIDDLE = "# Now the FAQ list, from the main menu.\n"


@pytest.fixture
def flows(tmp_path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder, ignore=shutil.ignore_patterns("transcripts"))
    (folder / "transcripts" / "ka").mkdir(parents=True)
    for name in ("faq.yaml", "main.yaml", "ka/faq.yaml"):
        shutil.copy(ROOT / "flows" / "transcripts" / name, folder / "transcripts" / name)
    faq = folder / "transcripts" / "faq.yaml"
    text = faq.read_text(encoding="utf-8").replace("- send: '6'", MIDDLE + "- send: '6'", 1)
    faq.write_text(COMMENT + text, encoding="utf-8")
    return folder


def _diffs(output: str) -> list[list[str]]:
    """The diff lines printed under each "updated" line."""
    diffs: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("updated"):
            diffs.append([])
        elif diffs and line.startswith("  ") and not line.startswith("  note:"):
            diffs[-1].append(line)
    return diffs


def _assert_points_at_a_send(path: Path, pattern: str, output: str) -> None:
    """The output names a line of `path` that sends what the output says it sends."""
    found = re.search(pattern, output)
    assert found, output
    line = path.read_text(encoding="utf-8").splitlines()[int(found[1]) - 1]
    assert line.startswith("- send:") and found[2] in line


def _run(*args: str):
    return CliRunner().invoke(cli, ["flows", *args])


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_update_names_only_changed_files_with_a_short_diff_and_keeps_comments(flows):
    _edit(flows / "faq.yaml", "Can I change my mind?", "Can I still change my mind?")
    result = _run("test", "--flows", str(flows), "--update")
    assert result.exit_code == 0, result.output
    updated = [line for line in result.output.splitlines() if line.startswith("updated")]
    assert len(updated) == 3  # the FAQ list; in ka the edited text is now English
    assert "+    2. Can I still change my mind?" in result.output
    assert "-    2. Can I change my mind?" in result.output
    assert all(len(lines) <= DIFF_LINES + 1 for lines in _diffs(result.output))
    rewritten = (flows / "transcripts" / "faq.yaml").read_text(encoding="utf-8")
    assert rewritten.startswith(COMMENT) and MIDDLE in rewritten
    assert "3 updated, 0 unchanged, 0 refused" in result.output
    assert "note:" in result.output and "transcript now expects en text" in result.output
    assert _run("test", "--flows", str(flows)).exit_code == 0


def test_update_refuses_a_not_understood_reply_and_names_file_line_and_send(flows):
    _edit(flows / "faq.yaml", COST_OPTION, "")
    before = (flows / "transcripts" / "faq.yaml").read_text(encoding="utf-8")
    result = _run("test", "--flows", str(flows), "--update")
    assert result.exit_code == 1
    assert f"NOT UPDATED {flows / 'transcripts' / 'faq.yaml'}" in result.output
    _assert_points_at_a_send(
        flows / "transcripts" / "faq.yaml",
        r"faq\.yaml:(\d+):3: send '([^']+)' at faq\.questions is now answered",
        result.output,
    )
    assert (flows / "transcripts" / "faq.yaml").read_text(encoding="utf-8") == before
    accepted = _run("test", "--flows", str(flows), "--update", "--accept-fallbacks")
    assert accepted.exit_code == 0, accepted.output
    assert (flows / "transcripts" / "faq.yaml").read_text(encoding="utf-8") != before


def test_validate_reports_a_transcript_send_the_flow_no_longer_has(flows):
    _edit(flows / "faq.yaml", COST_OPTION, "")
    result = _run("validate", "--flows", str(flows))
    assert result.exit_code == 1
    _assert_points_at_a_send(
        flows / "transcripts" / "faq.yaml",
        r"faq\.yaml:(\d+):3: error: transcript sends '([^']+)' at faq\.questions, an answer "
        "the flow no longer has",
        result.output,
    )


def test_a_broken_transcript_is_one_line_not_a_traceback(flows):
    (flows / "transcripts" / "bad.yaml").write_text("conversation:\n  - send: [x\n")
    result = _run("test", "--flows", str(flows))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "bad.yaml:" in result.output and "YAML syntax" in result.output
