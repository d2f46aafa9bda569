"""Fixtures of the fault suite (`make faults`): a harness per test, all processes killed after.

Every test in tests/faults gets the `faults` marker, so `make test` (`-m "not faults"`)
leaves them out and `make faults` runs only them. Figures go to `var/faults/figures.json`
(or `FAULTS_FIGURES`) and are printed (`-s` or `-rA` shows them).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from .harness import ROOT, Harness, describe, record_figures, tagged

FIGURES = Path(os.environ.get("FAULTS_FIGURES") or ROOT / "var" / "faults" / "figures.json")


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: real-process fault tests (make faults)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def faults_tag(tmp_path_factory):
    """The session's tag, and at the end: no process of ours may be left."""
    tag = f"faults-{os.getpid()}-{secrets.token_hex(4)}"
    roots = (tmp_path_factory.getbasetemp(),)
    yield tag
    left = describe(tagged(tag, roots))
    for pid in tagged(tag, roots):
        os.kill(pid, 9)
    assert not left, f"processes left behind by the fault suite: {left}"


@pytest.fixture
def harness(faults_tag, tmp_path):
    """A Harness in this test's tmp dir; everything it started is killed afterwards."""
    h = Harness(tmp_path / "h", faults_tag)
    yield h
    h.cleanup()


@pytest.fixture
def figures(request):
    """`figures(dict)` records this test's measured figures (printed and in FIGURES)."""

    def record(values: dict) -> None:
        record_figures(FIGURES, request.node.name, values)

    return record
