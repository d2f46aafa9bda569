"""The Babel extractor: `pybabel extract` on flow YAML finds every text, where it is written."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot.core.runtime import ROOT
from bot.flow import load_flows
from bot.i18n.extract import (
    PLACEHOLDER_NOTE,
    STAFF_NOTE,
    WORD_LIST_NOTE,
    extract_flows,
    texts_of_file,
)

ALLNODES = Path(__file__).parent / "data" / "allnodes"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """pybabel extract, run exactly as `bot i18n extract` does, on a copy of the test flows."""
    root = tmp_path_factory.mktemp("extract")
    shutil.copytree(ALLNODES, root / "flows")
    shutil.copy(ROOT / "babel.cfg", root / "babel.cfg")
    with contextlib.chdir(root):
        status = CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", "messages.pot", "."]
        )
    assert not status
    with (root / "messages.pot").open("rb") as fh:
        catalog = read_po(fh)
    return load_flows(root / "flows"), catalog


def _comments(message) -> str:
    """Extracted comments as one text (the POT wraps long ones over several lines)."""
    return " ".join(message.auto_comments)


def _file_of(where: str) -> str:
    return "_config.yaml" if where.startswith("_config/") else where.split("/")[0] + ".yaml"


def test_every_text_is_extracted_at_its_yaml_line_with_its_address(extracted):
    flowset, catalog = extracted
    texts = flowset.all_texts()
    assert len(texts) > 30
    for text in texts:
        message = catalog.get(text.msgid)
        assert message is not None, f"not extracted: {text.where} {text.source!r}"
        assert (f"flows/{_file_of(text.where)}", text.line) in message.locations
        assert text.where in message.auto_comments


def test_catalog_holds_nothing_but_flow_texts(extracted):
    flowset, catalog = extracted
    msgids = {t.msgid for t in flowset.all_texts()}
    assert {m.id for m in catalog if m.id} == msgids


def test_staff_values_and_transcripts_are_not_extracted(extracted):
    _flowset, catalog = extracted
    files = {path for m in catalog if m.id for path, _line in m.locations}
    assert "flows/_staff.yaml" not in files
    assert not any("transcripts" in f for f in files)


def test_placeholders_become_python_format_checked_by_babel(extracted):
    _flowset, catalog = extracted
    message = catalog.get("Welcome to the test line in %(office_city)s.")
    assert message is not None
    assert "python-format" in message.flags
    assert PLACEHOLDER_NOTE.format(names="%(office_city)s") in _comments(message)
    plain = catalog.get("Welcome back.")
    assert "python-format" not in plain.flags


def test_word_lists_tell_translators_to_give_their_own_words(extracted):
    _flowset, catalog = extracted
    for msgid in ("quiz, ask me", "menu, 0", "yes"):
        assert WORD_LIST_NOTE in _comments(catalog.get(msgid)), msgid
    assert WORD_LIST_NOTE not in _comments(catalog.get("Welcome back."))


def test_system_texts_and_commands_say_what_they_are_for(extracted):
    _flowset, catalog = extracted
    assert "System text:" in _comments(catalog.get("Welcome back."))
    assert "MENU command" in _comments(catalog.get("menu, 0"))


def test_extractor_works_on_a_file_object_like_babel_gives_it():
    source = (ALLNODES / "main.yaml").read_bytes()
    fileobj = io.BytesIO(source)
    fileobj.name = "flows/main.yaml"
    found = list(extract_flows(fileobj, {}, [], {}))
    assert found[0][1] is None
    assert all(isinstance(line, int) and line > 0 for line, *_ in found)
    assert [m for _, _, m, _ in found] == [
        t.msgid for t in texts_of_file("flows/main.yaml", source.decode())
    ]


def test_broken_flow_is_an_error_not_a_silent_gap():
    broken = "nodes:\n  - id: a\n    type: mesage\n    text: hi\n"
    with pytest.raises(ValueError, match=r"flows/bad.yaml:3:\d+"):
        texts_of_file("flows/bad.yaml", broken)


def test_shipped_flows_extract_cleanly():
    for path in sorted((ROOT / "flows").glob("*.yaml")):
        texts_of_file(f"flows/{path.name}", path.read_text(encoding="utf-8"))


STAFF_FLOW = b"""nodes:
  - id: desk
    type: message
    source: staff
    text: "Our desk is open on weekdays."
  - id: fact
    type: message
    text: "Return is voluntary."
"""


def test_texts_of_a_staff_written_node_carry_the_staff_note():
    found = {
        msgid: comments
        for _line, _f, msgid, comments in extract_flows(
            io.BytesIO(STAFF_FLOW), [], [], {"filename": "flows/desks.yaml"}
        )
    }
    assert STAFF_NOTE in found["Our desk is open on weekdays."]
    assert STAFF_NOTE not in found["Return is voluntary."]


def test_source_takes_only_staff():
    from bot.flow.loader import parse_flow_text

    text = STAFF_FLOW.decode().replace("source: staff", "source: brief")
    _flow, problems = parse_flow_text("desks", "desks.yaml", text)
    assert [p.message for p in problems] == ['"source:" can only be staff']
