"""`bot i18n review LANG`: the sheet a native speaker fills in, and `--import` taking it back.

Real files all the way: the shipped flows and a copy of the shipped catalogs, the workbook
written by the command and edited with openpyxl as a spreadsheet program would save it.
"""

from __future__ import annotations

import shutil
import zipfile

import pytest
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from bot.cli import main as cli
from bot.core.runtime import ROOT
from bot.i18n.catalogs import (
    DRAFT,
    REVIEW_STATUS,
    REVIEWED,
    REVIEWED_BY,
    coverage,
    custom_fields,
    header_fields,
    is_reviewed,
    keep_fields,
    review_problem,
)

FLOWS = ROOT / "flows"
HEADER_ROW = 5
COL = {"translation": "E", "checked": "H", "comment": "I"}


@pytest.fixture
def locales(tmp_path):
    """A copy of the shipped catalogs (.po only: the translator reads them directly)."""
    root = tmp_path / "locales"
    for po in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        target = root / po.relative_to(ROOT / "locales")
        target.parent.mkdir(parents=True)
        shutil.copy(po, target)
    return root


def po(locales, lang):
    return locales / lang / "LC_MESSAGES" / "messages.po"


def entries(locales, lang) -> dict:
    """Every entry of a catalog, as everything a .po keeps of it."""
    with po(locales, lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {
        m.id: (
            m.string,
            sorted(m.flags),
            list(m.user_comments),
            list(m.auto_comments),
            list(m.locations),
            list(m.previous_id or ()),
        )
        for m in catalog
        if m.id
    }


def review(locales, tmp_path, lang, *args):
    return CliRunner().invoke(
        cli,
        [
            "i18n", "review", lang, "--flows", str(FLOWS), "--locales", str(locales),
            "--out", str(tmp_path / "out"), *args,
        ],
    )  # fmt: skip


def write_sheet(locales, tmp_path, lang):
    result = review(locales, tmp_path, lang)
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / f"review-{lang}.xlsx"


def rows_by_english(book) -> dict[str, int]:
    sheet = book["Review"]
    return {
        sheet[f"D{r}"].value: r
        for r in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet[f"D{r}"].value
    }


def plant(locales, lang, msgid, msgstr):
    path = po(locales, lang)
    fields = custom_fields(path.read_text(encoding="utf-8"))
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    assert catalog.get(msgid) is not None, msgid
    catalog.get(msgid).string = msgstr
    with path.open("wb") as fh:
        write_po(fh, catalog, width=76)
    keep_fields(path, fields)


WELCOME_BACK = "Welcome back."
FOOTER = "0 Main menu."
LANGUAGE_SET = "The language is now English. Send LANG at any time to change it."


def test_a_round_trip_changes_exactly_the_edited_entries(locales, tmp_path):
    before = entries(locales, "ka")
    assert {FOOTER, WELCOME_BACK, LANGUAGE_SET} <= before.keys(), "the shipped texts changed"
    stopped = next(m for m in before if m.startswith("You will get no more messages"))
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    rows, ws = rows_by_english(book), book["Review"]
    assert len(rows) == len(before)
    ws["D2"] = "Nino Beridze"
    ws[f"E{rows[FOOTER]}"] = "0 მთავარი მენიუ."  # corrected, not ticked
    ws[f"E{rows[WELCOME_BACK]}"] = "კეთილი იყოს თქვენი დაბრუნება!"
    ws[f"H{rows[WELCOME_BACK]}"] = "x"  # corrected and ticked
    ws[f"H{rows[LANGUAGE_SET]}"] = "x"  # right as it is
    ws[f"I{rows[stopped]}"] = "I am not sure about this word"  # a comment only
    book.save(sheet)

    result = review(locales, tmp_path, "ka", "--import", str(sheet))

    assert result.exit_code == 0, result.output
    assert "2 translation(s) corrected, 3 entr(ies) newly marked reviewed" in result.output
    assert "I am not sure about this word" in result.output
    after = entries(locales, "ka")
    assert after.keys() == before.keys()
    changed = {msgid for msgid in before if before[msgid] != after[msgid]}
    assert changed == {FOOTER, WELCOME_BACK, LANGUAGE_SET}
    assert after[FOOTER][0] == "0 მთავარი მენიუ."
    assert after[WELCOME_BACK][0] == "კეთილი იყოს თქვენი დაბრუნება!"
    assert after[LANGUAGE_SET][0] == before[LANGUAGE_SET][0]
    for msgid in changed:  # only the translation and the review mark differ
        assert after[msgid][1:2] == before[msgid][1:2] and after[msgid][3:] == before[msgid][3:]
        assert [c.split()[0] for c in after[msgid][2]] == ["reviewed"]
    text = po(locales, "ka").read_text(encoding="utf-8")
    fields = header_fields(text)
    assert fields[REVIEW_STATUS] == DRAFT
    assert fields[REVIEWED_BY].startswith("Nino Beridze (")
    assert fields["Last-Translator"] == "Nino Beridze"
    assert fields["X-Hedge-Words"] == "შე*ძლ*, შესაძლო*, იქნებ"
    assert review_problem(text) is None
    counted = coverage(locales, "ka", list(before))
    assert (counted.reviewed, counted.draft) == (3, len(before) - 3)

    again = review(locales, tmp_path, "ka", "--import", str(sheet))
    assert again.exit_code == 0, again.output
    assert po(locales, "ka").read_text(encoding="utf-8") == text


def test_a_fully_reviewed_catalog_leaves_draft_status(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    ws = book["Review"]
    for r in rows_by_english(book).values():
        ws[f"H{r}"] = "x"
    book.save(sheet)

    result = review(locales, tmp_path, "ka", "--import", str(sheet), "--reviewer", "Team KA")

    assert result.exit_code == 0, result.output
    text = po(locales, "ka").read_text(encoding="utf-8")
    assert header_fields(text)[REVIEW_STATUS] == REVIEWED
    assert "# DRAFT:" not in text
    assert review_problem(text) is None
    again = load_workbook(write_sheet(locales, tmp_path, "ka"))
    assert all(again["Review"][f"H{r}"].value == "x" for r in rows_by_english(again).values())


def test_a_row_changed_in_the_catalog_since_is_left_and_said(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    ws, rows = book["Review"], rows_by_english(book)
    ws["D2"] = "Nino Beridze"
    ws[f"E{rows[FOOTER]}"] = "0 მთავარი მენიუ."
    ws[f"H{rows[LANGUAGE_SET]}"] = "x"
    book.save(sheet)
    plant(locales, "ka", FOOTER, "0 მენიუ (სხვამ შეცვალა).")

    result = review(locales, tmp_path, "ka", "--import", str(sheet))

    assert result.exit_code == 1
    assert f"row {rows[FOOTER]}: the catalog's translation changed since" in result.output
    after = entries(locales, "ka")
    assert after[FOOTER][0] == "0 მენიუ (სხვამ შეცვალა)."
    assert after[LANGUAGE_SET][2], "the other rows are taken"


def test_a_correction_that_loses_a_placeholder_is_refused(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    ws, rows = book["Review"], rows_by_english(book)
    with_placeholder = next(e for e in rows if "%(" in e)
    ws["D2"] = "Nino Beridze"
    ws[f"E{rows[with_placeholder]}"] = "ტექსტი ადგილის გარეშე"
    book.save(sheet)
    before = po(locales, "ka").read_text(encoding="utf-8")

    result = review(locales, tmp_path, "ka", "--import", str(sheet))

    assert result.exit_code == 1
    assert "the placeholders must stay exactly as in the English" in result.output
    assert po(locales, "ka").read_text(encoding="utf-8") == before


def test_a_sheet_without_a_reviewer_name_changes_nothing(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    book["Review"][f"H{rows_by_english(book)[FOOTER]}"] = "x"
    book.save(sheet)
    before = po(locales, "ka").read_text(encoding="utf-8")

    result = review(locales, tmp_path, "ka", "--import", str(sheet))

    assert result.exit_code == 1
    assert "does not say who reviewed it" in result.output
    assert po(locales, "ka").read_text(encoding="utf-8") == before


def _garbage(path):
    path.write_bytes(b"\x00\x01 not a spreadsheet at all")


def _zip_of_text(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hello")


def _someone_elses_workbook(path):
    book = Workbook()
    book.active.append(["English", "Georgian"])
    book.save(path)


@pytest.mark.parametrize(
    "make, says",
    [
        (_garbage, "not a workbook this command can read"),
        (_zip_of_text, "not a workbook this command can read"),
        (_someone_elses_workbook, "not a review sheet of `bot i18n review`"),
        (None, "cannot read it"),
    ],
)
def test_an_unreadable_or_foreign_sheet_gets_a_sentence_not_a_traceback(
    locales, tmp_path, make, says
):
    path = tmp_path / "returned.xlsx"
    if make:
        make(path)
    before = po(locales, "ka").read_text(encoding="utf-8")

    result = review(locales, tmp_path, "ka", "--import", str(path))

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert says in result.output
    assert "Traceback" not in result.output
    assert po(locales, "ka").read_text(encoding="utf-8") == before


def test_another_languages_sheet_is_refused_with_the_right_command(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "fa")

    result = review(locales, tmp_path, "ka", "--import", str(sheet))

    assert result.exit_code == 1
    assert "the review sheet of fa, not ka" in result.output
    assert f"bot i18n review fa --import {sheet}" in result.output


def test_the_sheet_flags_what_the_checks_find_and_the_page_is_escaped_and_rtl(locales, tmp_path):
    result_text = next(
        m for m in entries(locales, "fa") if m.startswith("You may be eligible. A counsellor")
    )
    plant(locales, "fa", result_text, "<b>شما واجد شرایط هستید</b> ۳۵۰ یورو، 350")

    sheet = write_sheet(locales, tmp_path, "fa")

    book = load_workbook(sheet)
    row = rows_by_english(book)[result_text]
    flags = book["Review"][f"G{row}"].value
    assert "hedge(s) in English, 0 in the translation" in flags
    assert "Latin digits 350" in flags
    assert book["Review"]["J5"].value == "key" and book["Review"].column_dimensions["J"].hidden
    page = (tmp_path / "out" / "review-fa.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;شما واجد شرایط هستید&lt;/b&gt;" in page
    assert "<b>" not in page
    assert '<td lang="fa" dir="rtl">&lt;b&gt;' in page
    assert "@media print" in page


def test_the_base_language_and_unknown_languages_are_refused(locales, tmp_path):
    base = review(locales, tmp_path, "en")
    unknown = review(locales, tmp_path, "xx")
    assert base.exit_code == unknown.exit_code == 1
    assert "en is the base language" in base.output
    assert "xx is not a language of the flows" in unknown.output


def test_an_entry_stays_reviewed_only_as_it_was_reviewed(locales, tmp_path):
    sheet = write_sheet(locales, tmp_path, "ka")
    book = load_workbook(sheet)
    book["Review"][f"H{rows_by_english(book)[FOOTER]}"] = "x"
    book.save(sheet)
    assert review(locales, tmp_path, "ka", "--import", str(sheet), "--reviewer", "N").exit_code == 0
    with po(locales, "ka").open("rb") as fh:
        message = read_po(fh, locale="ka").get(FOOTER)
    assert is_reviewed(message)
    message.string = "0 სხვა."
    assert not is_reviewed(message)
