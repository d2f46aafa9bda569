"""Staff opening hours and per-language values, written out in each person's language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.runtime import ROOT, Runtime
from bot.flow import read_flows
from bot.flow.model import Hours
from bot.i18n.hours import render

GHENT = """desk_ghent_hours:
  days: mon-thu
  hours: "9:00-12:00"
desk_ghent_address:
  en: "1 Example Street, Ghent"
  fa: "خیابان نمونه ۱، گنت"
"""


def test_days_and_hours_in_each_language_from_cldr():
    hours = Hours((0, 1, 2, 3), ((9 * 60, 12 * 60),))
    assert render(hours, "en") == "Mon-Thu 09:00-12:00"
    assert render(hours, "fr") == "lun.-jeu. 09:00-12:00"
    assert render(hours, "ka") == "ორშ-ხუთ 09:00-12:00"
    assert (
        render(Hours((0, 2, 4), ((540, 720), (810, 960))), "nl")
        == "ma, wo, vr 09:00-12:00, 13:30-16:00"
    )


@pytest.fixture
def flows(tmp_path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder, ignore=shutil.ignore_patterns("transcripts"))
    staff = (folder / "_staff.yaml").read_text(encoding="utf-8")
    for line in staff.splitlines():
        if line.startswith(("desk_ghent_hours:", "desk_ghent_address:")):
            staff = staff.replace(line + "\n", "")
    (folder / "_staff.yaml").write_text(staff + GHENT, encoding="utf-8")
    return folder


def _ghent(runtime: Runtime, lang: str) -> str:
    return runtime.engine.preview("counsellor", "desk_ghent", lang)[0].text


def test_the_desk_screen_shows_hours_and_address_as_each_language_writes_them(flows):
    runtime = Runtime.load(flows)
    assert "Mon-Thu 09:00-12:00" in _ghent(runtime, "en")
    assert "ორშ-ხუთ 09:00-12:00" in _ghent(runtime, "ka")
    persian = _ghent(runtime, "fa")
    assert "دوشنبه-پنجشنبه" in persian and "۹:۰۰-۱۲:۰۰" in persian
    assert "خیابان نمونه ۱، گنت" in persian
    assert "1 Example Street, Ghent" in _ghent(runtime, "ka")  # no ka variant: the default


def test_bad_hours_are_errors_at_their_line(flows):
    staff = flows / "_staff.yaml"
    staff.write_text(
        staff.read_text(encoding="utf-8").replace("mon-thu", "monday"), encoding="utf-8"
    )
    flowset, problems = read_flows(flows)
    assert flowset is None
    [problem] = [p for p in problems if p.severity == "error"]
    assert problem.path.endswith("_staff.yaml") and "days are mon, tue" in problem.message
