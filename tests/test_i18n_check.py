"""`bot i18n check` on the shipped catalogs (passes) and on copies with a planted defect."""

from __future__ import annotations

import shutil

import pytest
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner

from bot.cli import main as cli
from bot.core.runtime import ROOT
from bot.i18n.catalogs import custom_fields, keep_fields

FLOWS = ROOT / "flows"
RESULT = (
    "You may be eligible. A counsellor will confirm.\n"
    "If people from %(country)s need a visa for Europe, you may get EUR 350 per adult and "
    "EUR 175 per child in cash when you leave, and help after return."
)
QUESTION_2 = "Question 2 of 5: Do you have a residence permit in Belgium?"


@pytest.fixture
def locales(tmp_path):
    """A copy of the shipped catalogs (.po only: the translator reads them directly)."""
    for po in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        target = tmp_path / po.relative_to(ROOT / "locales")
        target.parent.mkdir(parents=True)
        shutil.copy(po, target)
    return tmp_path


def plant(locales, lang: str, msgid: str, msgstr: str) -> None:
    path = locales / lang / "LC_MESSAGES" / "messages.po"
    fields = custom_fields(path.read_text(encoding="utf-8"))
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    assert catalog.get(msgid) is not None, msgid
    catalog.get(msgid).string = msgstr
    with path.open("wb") as fh:
        write_po(fh, catalog, width=76)
    keep_fields(path, fields)


def check(locales, *args):
    return CliRunner().invoke(
        cli, ["i18n", "check", "--flows", str(FLOWS), "--locales", str(locales), *args]
    )


def test_the_shipped_catalogs_pass(locales):
    result = check(locales)
    assert result.exit_code == 0, result.output
    assert "0 problem(s) in 12 languages" in result.output


def test_a_planted_hedgeless_translation_fails(locales):
    plant(
        locales,
        "ru",
        RESULT,
        "Вы подходите. Консультант подтвердит.\n%(country)s: если нужна виза в Европу, при "
        "отъезде вы получите 350 € на взрослого и 175 € на ребёнка наличными.",
    )
    result = check(locales)
    assert result.exit_code == 1
    assert 'ru: "You may be eligible.' in result.output
    assert "2 hedge(s) in English, 0 in the translation" in result.output


def test_a_planted_latin_digit_in_persian_fails(locales):
    plant(locales, "fa", QUESTION_2, "سؤال 2 از ۵: آیا در بلژیک اجازهٔ اقامت دارید؟")
    result = check(locales)
    assert result.exit_code == 1
    assert "fa: " in result.output
    assert "Latin digits 2" in result.output


def test_a_planted_four_segment_main_path_screen_fails(locales):
    long_question = "კითხვა 2/5: " + "გაქვთ თუ არა ბინადრობის ნებართვა ბელგიაში? " * 4
    plant(locales, "ka", QUESTION_2, long_question.strip())
    result = check(locales)
    assert result.exit_code == 1
    assert 'ka: "eligibility/q_permit": 4 SMS segments (limit 3)' in result.output


def test_costs_lists_long_screens_off_the_main_path_without_failing(locales):
    result = check(locales, "--costs")
    assert result.exit_code == 0, result.output
    listed = result.output.split("screens over 3 SMS segments", 1)[1]
    assert '"privacy/full"' in listed
    assert "eligibility/" not in listed
