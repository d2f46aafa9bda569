"""Segment warnings and the cost table."""

import shutil
from pathlib import Path

from bot.channels.costs import main_path, oversized
from bot.core.engine import Engine, PlainTranslator
from bot.flow import load_flows

ALLNODES = Path(__file__).parent / "data" / "allnodes"


class FrenchQuotes(PlainTranslator):
    """A translator whose French uses a typographic apostrophe, as translators often do."""

    def gettext(self, lang, msgid):
        if lang == "fr" and msgid == "Part one.":
            return "Partie un, c\u2019est tout."
        return msgid


def test_long_text_is_reported_with_its_node(tmp_path):
    shutil.copytree(ALLNODES, tmp_path, dirs_exist_ok=True)
    story = tmp_path / "story.yaml"
    story.write_text(story.read_text().replace('"Part two."', '"' + "Long text. " * 60 + '"'))
    engine = Engine(load_flows(tmp_path), PlainTranslator())
    problems = [p for p in oversized(engine) if '"two"' in p.message]
    assert [p.message for p in problems] == [
        'node "two" sends 5 SMS segments in en (limit 3)',
        'node "two" sends 5 SMS segments in fr (limit 3)',
    ]
    assert (Path(problems[0].path).name, problems[0].line) == ("story.yaml", 5)


def test_latin_text_made_ucs2_by_one_character_is_reported():
    engine = Engine(load_flows(ALLNODES), FrenchQuotes())
    messages = [p.message for p in oversized(engine)]
    assert messages == [
        'node "one" sends 1 SMS segment(s) in fr but UCS-2; '
        "these characters make it UCS-2: '\u2019' U+2019"
    ]


def test_a_language_s_own_letters_are_not_reported():
    engine = Engine(load_flows(ALLNODES), PlainTranslator())
    # "français" in the language menu is UCS-2 (no ç in GSM-7), but nobody can avoid it.
    assert oversized(engine) == []


def test_cost_table_has_every_language_and_option():
    engine = Engine(load_flows(ALLNODES), PlainTranslator())
    rows = main_path(engine)
    assert [r["lang"] for r in rows] == ["en", "fr"]
    assert set(rows[0]["options"]) == {1, 2, 3, 4}
    assert rows[0]["total"] == rows[0]["first_contact"] + sum(rows[0]["options"].values())
