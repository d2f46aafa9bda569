"""The catalogs as files: review status in their headers, and how much of each is translated.

Review status lives in two custom header fields that Poedit, Weblate and GNU gettext keep:
`X-Review-Status: draft` (or `reviewed`) and `X-Reviewed-By: <name> (<date>)`, plus a
`# DRAFT:` line in the header comment that translators see first. Babel drops header fields
it does not know when it rewrites a catalog, so `bot i18n update` puts them back with
`keep_fields`.

Each entry a native speaker has checked carries a translator comment
`# reviewed 2026-12-08 3f9a2c1b` (`bot i18n review --import` writes it). Translator comments
survive Babel, msgmerge, Poedit and Weblate, where unknown flags do not; the digest is of the
English and the translation as reviewed, so the entry counts as reviewed only while neither
has changed since: a new English text (fuzzy) or a later edit makes it a draft again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.pofile import read_po, unescape

from bot.i18n import checks
from bot.i18n.translator import catalog_path

REVIEW_STATUS = "X-Review-Status"
REVIEWED_BY = "X-Reviewed-By"
DRAFT = "draft"
REVIEWED = "reviewed"
DRAFT_COMMENT = (
    "# DRAFT: machine translation, needs review by a native speaker.\n"
    "# Once a native speaker has checked every text, set the header fields\n"
    f"# {REVIEW_STATUS}: {REVIEWED} and {REVIEWED_BY}: <their name>.\n"
)
DRAFT_TRANSLATOR = "Machine draft, not reviewed"
TEAM = "none yet: see locales/README.md"

_FIELD = re.compile(r"^([A-Za-z0-9-]+):\s*(.*)$")
REVIEW_MARK = "reviewed"
"""The first word of the translator comment that marks an entry as reviewed."""
_MARK = re.compile(rf"^{REVIEW_MARK} (\d{{4}}-\d{{2}}-\d{{2}}) ([0-9a-f]{{8}})$")


def digest(*parts: str) -> str:
    """A short digest of texts: it tells whether they changed, it protects nothing."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:8]


def review_mark(msgid: str, msgstr: str, day: str) -> str:
    """The translator comment that marks (msgid, msgstr) as reviewed on `day` (YYYY-MM-DD)."""
    return f"{REVIEW_MARK} {day} {digest(msgid, msgstr)}"


def is_review_mark(comment: str) -> bool:
    """True for a translator comment written by `review_mark`, current or not."""
    return _MARK.match(comment.strip()) is not None


def is_reviewed(message) -> bool:
    """True when a Babel message is translated, not fuzzy, and reviewed as it stands."""
    if not message.id or not isinstance(message.string, str) or not message.string:
        return False
    if message.fuzzy:
        return False
    wanted = digest(message.id, message.string)
    marks = (_MARK.match(c.strip()) for c in message.user_comments)
    return any(m is not None and m.group(2) == wanted for m in marks)


def _header_span(lines: list[str]) -> tuple[int, int]:
    """The lines of the header entry's msgstr strings: (first, end) indexes."""
    for i in range(len(lines) - 1):
        if lines[i] == 'msgid ""' and lines[i + 1] == 'msgstr ""':
            end = i + 2
            while end < len(lines) and lines[end].startswith('"'):
                end += 1
            return i + 2, end
    raise ValueError('no header entry (msgid "") in the catalog')


def header_fields(text: str) -> dict[str, str]:
    """The header fields of a PO file's text, including those Babel does not know."""
    lines = text.split("\n")
    first, end = _header_span(lines)
    joined = "".join(unescape(line) for line in lines[first:end])
    fields: dict[str, str] = {}
    for entry in joined.split("\n"):
        m = _FIELD.match(entry.strip())
        if m:
            fields[m.group(1)] = m.group(2).strip()
    return fields


def set_header_fields(text: str, fields: dict[str, str]) -> str:
    """The PO text with `fields` set in its header (replaced if present, else appended)."""
    lines = text.split("\n")
    first, end = _header_span(lines)
    names = {name.lower() for name in fields}
    kept = [
        line
        for line in lines[first:end]
        if (m := _FIELD.match(unescape(line).strip())) is None or m.group(1).lower() not in names
    ]
    added = [f'"{name}: {value}\\n"' for name, value in fields.items()]
    return "\n".join([*lines[:first], *kept, *added, *lines[end:]])


def custom_fields(text: str) -> dict[str, str]:
    """The `X-` header fields, which Babel would drop when it rewrites the catalog."""
    return {k: v for k, v in header_fields(text).items() if k.startswith("X-")}


def keep_fields(path: Path, fields: dict[str, str]) -> None:
    """Put back header fields Babel dropped when it rewrote `path`."""
    text = path.read_text(encoding="utf-8")
    path.write_text(set_header_fields(text, fields), encoding="utf-8")


def mark_draft(path: Path) -> None:
    """Mark a freshly created catalog as a draft that a native speaker must review."""
    text = path.read_text(encoding="utf-8")
    if "# DRAFT:" not in text:
        text = DRAFT_COMMENT + text
    text = text.replace('#, fuzzy\nmsgid ""\nmsgstr ""', 'msgid ""\nmsgstr ""', 1)
    text = set_header_fields(
        text,
        {
            "Last-Translator": DRAFT_TRANSLATOR,
            "Language-Team": TEAM,
            REVIEW_STATUS: DRAFT,
        },
    )
    path.write_text(text, encoding="utf-8")


def review_problem(text: str) -> str | None:
    """Why a catalog's review status is wrong, or None when it is consistent."""
    fields = header_fields(text)
    status = fields.get(REVIEW_STATUS, "")
    draft_line = "# DRAFT:" in text.split('msgid ""', 1)[0]
    if status == DRAFT:
        if not draft_line:
            return f"{REVIEW_STATUS} is {DRAFT} but the header comment has no '# DRAFT:' line"
        return None
    if status == REVIEWED:
        if not fields.get(REVIEWED_BY):
            return f"{REVIEW_STATUS} is {REVIEWED} but {REVIEWED_BY} does not name the reviewer"
        if draft_line:
            return f"{REVIEW_STATUS} is {REVIEWED} but the header comment still says '# DRAFT:'"
        return None
    return f"{REVIEW_STATUS} must be {DRAFT} or {REVIEWED}, not {status or 'missing'}"


@dataclass
class Coverage:
    """How much of one language is translated, counted against the texts of the flows."""

    lang: str
    total: int
    translated: int = 0
    fuzzy: int = 0
    reviewed: int = 0  # translated entries a native speaker checked as they stand
    base: bool = False
    exists: bool = True
    untranslated: list[str] = field(default_factory=list)  # msgids, fuzzy ones included

    @property
    def missing(self) -> int:
        return self.total - self.translated - self.fuzzy

    @property
    def draft(self) -> int:
        """Translated but not (or no longer) reviewed."""
        return self.translated - self.reviewed

    @property
    def percent(self) -> float:
        if self.base or not self.total:
            return 100.0
        return 100.0 * self.translated / self.total


def coverage(locales_dir: Path, lang: str, msgids: list[str], base: bool = False) -> Coverage:
    """Count translated (reviewed or not), fuzzy and missing texts of `msgids` in `lang`."""
    result = Coverage(lang, len(msgids), base=base)
    path = catalog_path(locales_dir, lang)
    if base:  # the English of the flows is the source, written by staff
        result.translated = result.reviewed = len(msgids)
        result.exists = path.exists()
        return result
    if not path.exists():
        result.exists = False
        result.untranslated = list(msgids)
        return result
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    for msgid in msgids:
        message = catalog.get(msgid)
        if message is not None and message.string and not message.fuzzy:
            result.translated += 1
            result.reviewed += is_reviewed(message)
            continue
        if message is not None and message.string and message.fuzzy:
            result.fuzzy += 1
        result.untranslated.append(msgid)
    return result


def catalog_entries(locales_dir: Path, lang: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The (msgid, msgstr) pairs of a catalog (plural forms left out) and its header fields."""
    path = catalog_path(locales_dir, lang)
    if not path.exists():
        return [], {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    pairs = [
        (m.id, m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    ]
    return pairs, header_fields(path.read_text(encoding="utf-8"))


def catalog_problems(locales_dir: Path, lang: str, base: str = "en") -> list[checks.Problem]:
    """What `bot i18n check` finds in one catalog: hedges dropped, Latin digits in fa/ps/ckb."""
    pairs, fields = catalog_entries(locales_dir, lang)
    if not fields:
        return [checks.Problem(lang, "", "no catalog (bot i18n update)")]
    _, base_fields = catalog_entries(locales_dir, base)
    source = checks.parse_words(base_fields.get(checks.HEDGE_HEADER, "may, can"))
    words = checks.parse_words(fields.get(checks.HEDGE_HEADER, ""))
    problems = checks.missing_hedges(pairs, source, words, lang)
    if lang in checks.NATIVE_DIGIT_LANGUAGES:
        problems += checks.latin_digits(pairs, lang)
    return problems
