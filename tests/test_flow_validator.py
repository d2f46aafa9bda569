"""Golden files for the validator: each folder under tests/broken/ holds files laid over a
small working flow set (tests/broken/_base/) and `expected.txt`, the exact problems.

Set BOT_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.flow import read_flows

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir() and not p.name.startswith("_"))
UPDATE = os.environ.get("BOT_UPDATE_GOLDEN") == "1"


def _problems(case: str, tmp_path: Path) -> str:
    shutil.copytree(BROKEN / "_base", tmp_path, dirs_exist_ok=True)
    for path in (BROKEN / case).iterdir():
        if path.name != "expected.txt":
            shutil.copy(path, tmp_path / path.name)
    _, problems = read_flows(tmp_path)
    lines = [f"{Path(p.path).name}:{p.line}:{p.col}: {p.severity}: {p.message}" for p in problems]
    return "\n".join(lines) + "\n"


def test_base_is_valid(tmp_path):
    shutil.copytree(BROKEN / "_base", tmp_path, dirs_exist_ok=True)
    flowset, problems = read_flows(tmp_path)
    assert flowset is not None
    assert problems == []


@pytest.mark.parametrize("case", CASES)
def test_broken_flow(case, tmp_path):
    got = _problems(case, tmp_path)
    expected_path = BROKEN / case / "expected.txt"
    if UPDATE or not expected_path.exists():
        expected_path.write_text(got, encoding="utf-8")
    assert got == expected_path.read_text(encoding="utf-8")


def test_every_case_fails_or_warns():
    for case in CASES:
        text = (BROKEN / case / "expected.txt").read_text(encoding="utf-8")
        assert text.strip(), f"{case}: a broken flow must produce at least one problem"


def test_missing_config(tmp_path):
    (tmp_path / "main.yaml").write_text("nodes: []\n")
    flowset, problems = read_flows(tmp_path)
    assert flowset is None
    assert "_config.yaml is missing" in problems[0].message
