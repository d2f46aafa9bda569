"""The last good flows: kept when a set validates, served when the disk is broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.runtime import Runtime
from bot.core.snapshot import Snapshot, changed_files, flow_files
from bot.flow import FlowError

SERVICE_FLOWS = Path(__file__).parent / "data" / "service_flows"
BROKEN = "  - id: [unclosed\n    type: message\n"


@pytest.fixture
def flows(tmp_path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(SERVICE_FLOWS, folder)
    return folder


def test_a_set_that_validates_is_kept_and_unpacked_whole(flows, tmp_path):
    Runtime.load(flows, var_dir=tmp_path / "var")
    snapshot = Snapshot.for_folder(tmp_path / "var", flows)
    assert snapshot.file.exists() and snapshot.saved_at()
    assert flow_files(snapshot.unpack()) == flow_files(flows)
    assert str(flows) not in snapshot.file.name  # named by a digest, not by a path


def test_broken_flows_on_disk_load_the_last_good_set_and_name_the_errors(flows, tmp_path):
    Runtime.load(flows, var_dir=tmp_path / "var")
    with (flows / "main.yaml").open("a") as out:
        out.write(BROKEN)
    runtime = Runtime.load(flows, var_dir=tmp_path / "var")
    assert runtime.last_good
    assert runtime.engine.flows.flows["main"].nodes["welcome"]
    assert runtime.disk_problems
    assert all(p.path.endswith("main.yaml") and p.line > 1 for p in runtime.disk_problems)
    assert runtime.changes() == ["main.yaml"]


def test_broken_flows_without_a_last_good_set_still_refuse_to_start(flows, tmp_path):
    with (flows / "main.yaml").open("a") as out:
        out.write(BROKEN)
    with pytest.raises(FlowError):
        Runtime.load(flows, var_dir=tmp_path / "var")
    with pytest.raises(FlowError):
        Runtime.load(flows)  # no var directory: no fallback at all


def test_reload_swaps_only_a_set_that_validates(flows, tmp_path):
    runtime = Runtime.load(flows, var_dir=tmp_path / "var")
    engine = runtime.engine
    text = (flows / "main.yaml").read_text()
    (flows / "main.yaml").write_text(text + BROKEN)
    assert runtime.reload()
    assert runtime.engine is engine and runtime.disk_problems
    (flows / "main.yaml").write_text(text.replace("Service test flow.", "Edited flow."))
    runtime.reload()
    assert runtime.engine is not engine and not runtime.disk_problems
    saved = flow_files(Snapshot.for_folder(tmp_path / "var", flows).unpack())
    assert "Edited flow." in saved["main.yaml"]


def test_changed_files_names_added_removed_and_edited():
    assert changed_files(
        {"a.yaml": "1", "b.yaml": "2"}, {"a.yaml": "1", "b.yaml": "3", "c.yaml": ""}
    ) == ["b.yaml", "c.yaml"]
