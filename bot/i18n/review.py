"""The review sheet: one language's texts as a native speaker checks them, and back again.

The catalogs are machine drafts until a native speaker has read every text (locales/README,
"Reviewing a language"). Reviewers are counsellors and community interpreters, not gettext
users, so they get a workbook (`.xlsx`, which LibreOffice, Excel and Google Sheets open) and
the same rows as a printable page: for each text, where it appears and the screen before it,
the English, the translation, its SMS segments, what the checks of `bot.i18n.checks` say,
a "Checked" cell and a comment cell.

Importing the sheet back changes only the rows the reviewer touched, each one only if the
catalog still holds what the sheet showed (someone may have edited the catalog meanwhile:
that row is skipped and said, never overwritten). Each checked or corrected entry gets the
review mark of `bot.i18n.catalogs`; the catalog leaves draft status once every entry has one.
openpyxl reads the returned file through defusedxml, as its documentation advises for files
from elsewhere; anything that is not one of our sheets is refused with a plain sentence.
"""

from __future__ import annotations

import html
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.checkers import python_format
from babel.messages.pofile import read_po, write_po

from bot.flow.model import FlowSet
from bot.i18n import checks
from bot.i18n.catalogs import (
    DRAFT_COMMENT,
    DRAFT_TRANSLATOR,
    REVIEW_STATUS,
    REVIEWED,
    REVIEWED_BY,
    custom_fields,
    digest,
    header_fields,
    is_review_mark,
    is_reviewed,
    review_mark,
    set_header_fields,
)
from bot.i18n.translator import catalog_path
from bot.text.segments import analyse

SHEET_FORMAT = "return-info-line review sheet"
"""What the hidden `about` sheet says first, so a foreign workbook is told apart."""
SHEET_VERSION = "1"
NAME_LABEL = "Your name (or team):"
HEADERS = (
    "#",
    "Where",
    "Screen before",
    "English",
    "Translation (correct it here)",
    "SMS segments",
    "Flags",
    "Checked (x)",
    "Comment",
    "key",
    "was",
)
WIDTHS = (5, 22, 40, 45, 45, 9, 30, 9, 35, 10, 10)
"""Column widths in the workbook, in characters."""
PAGE_WIDTHS = (3, 12, 16, 19, 19, 4, 8, 5, 14)
"""Column widths on the printed page, in percent (the comment column is for handwriting)."""
INSTRUCTIONS = (
    "For each row, read the English and the translation as someone texting the line would. "
    "Right: put x in 'Checked'. Wrong or unclear: correct the translation in its cell (that "
    "row counts as checked). Keep exactly as written: %(name)s placeholders, MENU, LANG and "
    "the other command words, 0800 32 745, amounts and web addresses. Keep every 'may' and "
    "'can': the service never promises support, money or a decision. A screen costs money "
    "per SMS segment: keep translations short, never by cutting what is true. Write in "
    "'Comment' what you are unsure of. Do not change the English or the hidden columns. "
    "Write your name in the yellow cell: it goes into the public catalog."
)
MAX_SHEET_BYTES = 10_000_000
"""A returned sheet larger than this is refused unread (ours are a few hundred KB)."""
_PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sd]")


class ReviewError(Exception):
    """A sheet that cannot be taken back, said so that the person can fix it."""


@dataclass(frozen=True)
class Row:
    """One text of the catalog as the reviewer sees it."""

    number: int
    where: str
    before: str
    english: str
    translation: str
    segments: int
    flags: tuple[str, ...]
    checked: bool  # already reviewed as it stands
    key: str  # digest of the English: finds the entry again
    was: str  # digest of English and translation as shown: tells what the reviewer changed


@dataclass
class Outcome:
    """What an import did to the catalog, and what it left for people to look at."""

    changed: list[str] = field(default_factory=list)  # msgids with a new translation
    reviewed: list[str] = field(default_factory=list)  # msgids newly marked reviewed
    skipped: list[str] = field(default_factory=list)  # "row N: why"
    comments: list[str] = field(default_factory=list)  # "row N (where): comment"
    done: int = 0  # entries reviewed as they stand, after the import
    total: int = 0
    status: str = ""  # X-Review-Status after the import


# --- building the rows -------------------------------------------------------------------


def _predecessors(flows: FlowSet) -> dict[str, list[str]]:
    """For each `flow/node`, the nodes that lead to it, in file order."""
    before: dict[str, list[str]] = defaultdict(list)
    for flow in flows.flows.values():
        for node in flow.nodes.values():
            for target in node.targets():
                if target.flow and target.node:
                    before[f"{target.flow}/{target.node}"].append(f"{flow.id}/{node.id}")
    return before


def _screen_before(
    node: str, before: Mapping[str, list[str]], screens: Mapping[str, tuple[str, ...]]
) -> tuple[str, str]:
    """(`flow/node`, text) of the last screen sent before `node` on the first way to it."""
    queue, seen = list(before.get(node, ())), {node}
    while queue:
        where = queue.pop(0)
        if where in seen:
            continue
        seen.add(where)
        if screens.get(where):
            return where, screens[where][-1]
        queue += before.get(where, ())
    return "", ""


def _node_of(where: str, screens: Mapping[str, tuple[str, ...]]) -> str:
    """`flow/node` of a text's address (`main/menu/options/1/label`), if it is a node's."""
    node = "/".join(where.split("/")[:2])
    return node if node in screens else ""


def build_rows(
    catalog: Catalog,
    flows: FlowSet,
    screens: Mapping[str, tuple[str, ...]],
    limit: int,
    source_words: Iterable[str],
    words: Iterable[str],
) -> list[Row]:
    """The sheet's rows: every entry of `catalog`, in catalog order.

    `screens` maps `flow/node` to what the node sends in the catalog's language, as the
    engine renders it (`bot.channels.costs.screens`); `limit` is the SMS segment budget;
    `source_words` and `words` are the English and the language's hedge words.
    """
    lang = str(catalog.locale or "")
    source_words, words = tuple(source_words), tuple(words)
    places: dict[str, list[str]] = defaultdict(list)
    for text in flows.all_texts():
        places[text.msgid].append(text.where)
    before = _predecessors(flows)
    rows = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        msgid, msgstr = message.id, message.string if isinstance(message.string, str) else ""
        wheres = places.get(msgid) or list(message.auto_comments[:1])
        nodes = list(dict.fromkeys(n for w in wheres if (n := _node_of(w, screens))))
        notes = [c for c in message.auto_comments if c not in wheres]
        came_from, before_text = _screen_before(nodes[0], before, screens) if nodes else ("", "")
        lines = [*wheres, *([f"screen before: {came_from}"] if came_from else [])]
        where = "\n".join([*lines, *([" ".join(notes)] if notes else [])])
        flags = []
        if message.fuzzy and msgstr:
            flags.append("the English changed since this was translated")
        if not msgstr:
            flags.append("no translation yet")
        pair = [(msgid, msgstr)]
        flags += [p.message for p in checks.missing_hedges(pair, source_words, words, lang)]
        if lang in checks.NATIVE_DIGIT_LANGUAGES:
            flags += [p.message for p in checks.latin_digits(pair, lang)]
        sent = [(n, text) for n in nodes for text in screens[n]] or [("this text", msgstr)]
        flags += [f"{p.msgid}: {p.message}" for p in checks.over_segments(sent, limit)]
        rows.append(
            Row(
                number=len(rows) + 1,
                where=where,
                before=before_text,
                english=msgid,
                translation=msgstr,
                segments=analyse(msgstr or msgid).segments,
                flags=tuple(flags),
                checked=is_reviewed(message),
                key=digest(msgid),
                was=digest(msgid, msgstr),
            )
        )
    return rows


# --- writing the sheet -------------------------------------------------------------------


def write_workbook(rows: list[Row], path: Path, lang: str, title: str, rtl: bool) -> None:
    """The rows as an .xlsx workbook: a `Review` sheet to fill in, a hidden `about` sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "Review"
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = NAME_LABEL
    sheet["A2"].font = Font(bold=True)
    sheet.merge_cells("A2:C2")
    sheet["D2"].fill = PatternFill("solid", start_color="FFF2A8")
    sheet["A3"] = INSTRUCTIONS
    sheet["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells("A3:I3")
    sheet.row_dimensions[3].height = 95
    header_row = 5
    for col, name in enumerate(HEADERS, 1):
        cell = sheet.cell(header_row, col, name)
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    native = Alignment(wrap_text=True, vertical="top", readingOrder=2 if rtl else 1)
    for i, row in enumerate(rows, header_row + 1):
        values = (
            row.number,
            row.where,
            row.before,
            row.english,
            row.translation,
            row.segments,
            "\n".join(row.flags),
            "x" if row.checked else None,
            None,
            row.key,
            row.was,
        )
        for col, value in enumerate(values, 1):
            cell = sheet.cell(i, col, value)
            if cell.data_type == "f":  # a text that starts with "=" stays a text
                cell.data_type = "s"
            cell.alignment = native if col in (3, 5) else wrap
    letters = "ABCDEFGHIJK"
    for letter, width in zip(letters, WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.column_dimensions["J"].hidden = sheet.column_dimensions["K"].hidden = True
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.auto_filter.ref = f"A{header_row}:I{header_row + len(rows)}"
    about = book.create_sheet("about")
    for line in (
        ("format", SHEET_FORMAT),
        ("version", SHEET_VERSION),
        ("language", lang),
        ("header row", header_row),
        ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ):
        about.append(line)
    about.sheet_state = "hidden"
    book.save(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font: 11pt/1.35 system-ui, sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
table {{ table-layout: fixed; }}
th, td {{ border: 1px solid #888; padding: 4px 6px; vertical-align: top; }}
td {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
th {{ background: #eee; text-align: start; font-size: 9pt; }}
td.flags {{ color: #a00; font-size: 9pt; }}
td.where, td.before {{ font-size: 9pt; color: #333; }}
td.comment {{ min-width: 12em; }}
.name {{ border-bottom: 1px solid #000; display: inline-block; min-width: 20em; }}
@media print {{
  @page {{ size: A4 landscape; margin: 10mm; }}
  body {{ margin: 0; font-size: 9pt; }}
  thead {{ display: table-header-group; }}
  tr {{ break-inside: avoid; }}
}}
</style>
</head>
<body>
<h1>{title}</h1>
<p>{name_label} <span class="name">&nbsp;</span></p>
<p>{instructions}</p>
<table>
<colgroup>{cols}</colgroup>
<thead><tr>{headers}</tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def html_page(rows: list[Row], lang: str, title: str, rtl: bool) -> str:
    """The rows as a printable page; the language's cells in its own direction."""
    esc = html.escape
    side = f' lang="{esc(lang)}" dir="{"rtl" if rtl else "ltr"}"'
    body = []
    for row in rows:
        cells = (
            f'<td>{row.number}</td><td class="where">{esc(row.where)}</td>'
            f'<td class="before"{side}>{esc(row.before)}</td>'
            f"<td>{esc(row.english)}</td><td{side}>{esc(row.translation)}</td>"
            f"<td>{row.segments}</td>"
            f'<td class="flags">{esc(chr(10).join(row.flags))}</td>'
            f"<td>{'x' if row.checked else ''}</td>"
            '<td class="comment"></td>'
        )
        body.append(f"<tr>{cells}</tr>")
    headers = "".join(f"<th>{esc(h)}</th>" for h in HEADERS[:9])
    return _PAGE.format(
        title=esc(title),
        name_label=esc(NAME_LABEL),
        instructions=esc(INSTRUCTIONS),
        headers=headers,
        cols="".join(f'<col style="width: {w}%">' for w in PAGE_WIDTHS),
        rows="\n".join(body),
    )


# --- reading it back ---------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One row of a returned sheet."""

    row: int
    key: str
    was: str
    english: str
    where: str
    translation: str
    checked: bool
    comment: str


def _text(value) -> str:
    """A cell's value as the text it shows (numbers a spreadsheet made of digits included)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n")


def read_workbook(path: Path, lang: str) -> tuple[str, list[Edit]]:
    """The reviewer's name and the rows of a returned sheet; ReviewError if it is not ours."""
    from openpyxl import load_workbook

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_SHEET_BYTES:
        raise ReviewError(
            f"{path}: {len(data) // 1_000_000} MB is far more than a review sheet "
            f"(a few hundred KB): give it the .xlsx file that `bot i18n review {lang}` wrote"
        )
    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # any failure to parse a file from elsewhere means: not our sheet
        raise ReviewError(
            f"{path}: not a workbook this command can read; give it the .xlsx file that "
            f"`bot i18n review {lang}` wrote (saved as .xlsx, not .ods or .csv)"
        ) from None
    if "about" not in book.sheetnames or "Review" not in book.sheetnames:
        raise ReviewError(f"{path}: not a review sheet of `bot i18n review` (no 'about' sheet)")
    about = {
        _text(k): _text(v) for k, v, *_ in book["about"].iter_rows(max_col=2, values_only=True)
    }
    if about.get("format") != SHEET_FORMAT:
        raise ReviewError(f"{path}: not a review sheet of `bot i18n review`")
    if about.get("version") != SHEET_VERSION:
        raise ReviewError(
            f"{path}: a review sheet of version {about.get('version')!r}, this command reads "
            f"version {SHEET_VERSION}: write a new sheet with `bot i18n review {lang}`"
        )
    if about.get("language") != lang:
        other = about.get("language") or "?"
        raise ReviewError(
            f"{path}: the review sheet of {other}, not {lang}: "
            f"import it with `bot i18n review {other} --import {path}`"
        )
    sheet = book["Review"]
    header_row = int(about.get("header row") or 5)
    found = [_text(c.value) for c in sheet[header_row]]
    missing = [h for h in HEADERS if h not in found]
    if missing:
        raise ReviewError(
            f"{path}: row {header_row} lacks the column(s) {', '.join(missing)}: "
            "columns were renamed or deleted; write a new sheet and copy the work over"
        )
    col = {h: found.index(h) for h in HEADERS}
    name = ""
    for cells in sheet.iter_rows(min_row=1, max_row=header_row - 1, values_only=True):
        values = [_text(v) for v in cells]
        if NAME_LABEL in values:
            name = next((v for v in values[values.index(NAME_LABEL) + 1 :] if v.strip()), "")
    edits = []
    for number, cells in enumerate(
        sheet.iter_rows(min_row=header_row + 1, values_only=True), header_row + 1
    ):
        values = [_text(v) for v in cells] + [""] * len(HEADERS)
        if not values[col["key"]]:
            continue
        edits.append(
            Edit(
                row=number,
                key=values[col["key"]].strip(),
                was=values[col["was"]].strip(),
                english=values[col["English"]],
                where=values[col["Where"]].split("\n", 1)[0],
                translation=values[col["Translation (correct it here)"]],
                checked=bool(values[col["Checked (x)"]].strip()),
                comment=values[col["Comment"]].strip(),
            )
        )
    return " ".join(name.split()), edits


def _placeholder_problem(message: Message, text: str) -> str:
    """Why `text` cannot replace the translation of `message` (placeholders), or ""."""
    if sorted(_PLACEHOLDER.findall(text)) != sorted(_PLACEHOLDER.findall(message.id)):
        wanted = ", ".join(sorted(set(_PLACEHOLDER.findall(message.id)))) or "none"
        return f"the placeholders must stay exactly as in the English ({wanted})"
    try:
        python_format(None, Message(message.id, text, flags=message.flags))
    except Exception as exc:  # Babel's TranslationError: a stray % sign
        return f"{exc} (write %% for a percent sign)"
    return ""


def apply(catalog: Catalog, edits: Iterable[Edit], day: str) -> Outcome:
    """Put the reviewer's corrections and checks into `catalog`; touch no other entry."""
    out = Outcome()
    by_key = {digest(m.id): m for m in catalog if m.id and isinstance(m.id, str)}
    for edit in edits:
        if edit.comment:
            out.comments.append(f"row {edit.row} ({edit.where}): {edit.comment}")
        message = by_key.get(edit.key)
        if message is None:
            if edit.checked or digest(edit.english, edit.translation) != edit.was:
                out.skipped.append(
                    f"row {edit.row}: its English is no longer in the catalog (the flows "
                    "changed since the sheet was written): review it in a new sheet"
                )
            continue
        current = message.string if isinstance(message.string, str) else ""
        text = edit.translation
        edited = digest(message.id, text) != edit.was
        if not edited and not edit.checked:
            continue
        if digest(message.id, current) != edit.was and text != current:
            out.skipped.append(
                f"row {edit.row}: the catalog's translation changed since the sheet was "
                "written (someone else edited it): review it in a new sheet"
            )
            continue
        if not text.strip():
            out.skipped.append(f"row {edit.row}: the translation is empty; write one")
            continue
        problem = _placeholder_problem(message, text)
        if problem:
            out.skipped.append(f"row {edit.row}: {problem}")
            continue
        if text != current:
            message.string = text
            out.changed.append(message.id)
        if is_reviewed(message):
            continue
        message.flags.discard("fuzzy")
        message.previous_id = []
        marks = [c for c in message.user_comments if not is_review_mark(c)]
        message.user_comments = [*marks, review_mark(message.id, text, day)]
        out.reviewed.append(message.id)
    entries = [m for m in catalog if m.id and isinstance(m.id, str)]
    out.total = len(entries)
    out.done = sum(is_reviewed(m) for m in entries)
    return out


def _reviewers(current: str, name: str, day: str) -> str:
    """The `X-Reviewed-By` value with `name (day)` added or brought up to date."""
    people = [p.strip() for p in current.split(";") if p.strip()]
    people = [p for p in people if p.split(" (")[0] != name]
    return "; ".join([*people, f"{name} ({day})"])


def clean_name(name: str) -> str:
    """A reviewer's name as a header can hold it: one line, no quotes or backslashes."""
    return " ".join(name.replace('"', "").replace("\\", "").split())[:100]


def import_sheet(
    locales_dir: Path, lang: str, sheet: Path, reviewer: str = "", day: str = ""
) -> Outcome:
    """Take a returned sheet into the catalog of `lang` (Babel reads and writes the .po)."""
    path = catalog_path(locales_dir, lang)
    if not path.exists():
        raise ReviewError(f"no catalog for {lang} at {path} (bot i18n update)")
    name, edits = read_workbook(sheet, lang)
    name = clean_name(reviewer or name)
    day = day or datetime.now(UTC).strftime("%Y-%m-%d")
    text = path.read_text(encoding="utf-8")
    kept = custom_fields(text)
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    outcome = apply(catalog, edits, day)
    if outcome.changed or outcome.reviewed:
        if not name:
            raise ReviewError(
                f"{sheet}: the sheet does not say who reviewed it: write the name in the "
                f"yellow cell next to '{NAME_LABEL}', or pass --reviewer NAME"
            )
        catalog.revision_date = datetime.now(UTC)
        done = outcome.done == outcome.total
        if outcome.changed or (done and catalog.last_translator == DRAFT_TRANSLATOR):
            catalog.last_translator = name
        kept[REVIEWED_BY] = _reviewers(kept.get(REVIEWED_BY, ""), name, day)
        if done:
            kept[REVIEW_STATUS] = REVIEWED
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=76, include_previous=True)
        text = set_header_fields(buffer.getvalue().decode("utf-8"), kept)
        if kept.get(REVIEW_STATUS) == REVIEWED:
            text = text.replace(DRAFT_COMMENT, "", 1)
        path.write_text(text, encoding="utf-8")
    outcome.status = header_fields(text).get(REVIEW_STATUS, "")
    return outcome
