"""The shipped catalogs: valid for GNU gettext and Babel, honest about review, complete, and
their command words never clash across languages."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner

from bot.cli import main as cli
from bot.core.runtime import ROOT
from bot.flow import load_flows
from bot.i18n.catalogs import (
    DRAFT,
    REVIEW_STATUS,
    coverage,
    custom_fields,
    header_fields,
    keep_fields,
    review_problem,
)
from bot.i18n.translator import CatalogTranslator, catalog_path
from bot.text.matching import normalize, split_words

LOCALES = ROOT / "locales"
FLOWSET = load_flows(ROOT / "flows")
LANGUAGES = FLOWSET.settings.languages
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
SHIPPED = ("en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps")


def _ids(path: Path) -> str:
    return path.parent.parent.name


def test_every_language_of_the_service_has_a_catalog():
    assert set(SHIPPED) <= set(LANGUAGES)
    for lang in LANGUAGES:
        assert catalog_path(LOCALES, lang).exists(), f"no catalog for {lang}: bot i18n update"


@pytest.mark.parametrize("path", CATALOGS, ids=_ids)
def test_gnu_msgfmt_check_passes(path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed (apt-get install gettext; .ci/run does)")
    result = subprocess.run(
        [msgfmt, "--check", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", CATALOGS, ids=_ids)
def test_babel_checkers_find_no_error(path):
    with path.open("rb") as fh:
        catalog = read_po(fh)
    problems = [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGS, ids=_ids)
def test_review_status_is_marked_and_consistent(path):
    text = path.read_text(encoding="utf-8")
    assert review_problem(text) is None, f"{path}: {review_problem(text)}"


def test_a_catalog_claiming_review_must_name_the_reviewer():
    text = (LOCALES / "fa" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    claimed = text.replace(f"{REVIEW_STATUS}: {DRAFT}", f"{REVIEW_STATUS}: reviewed")
    assert "X-Reviewed-By" in review_problem(claimed)
    signed = claimed.replace(
        f"{REVIEW_STATUS}: reviewed\\n", f'{REVIEW_STATUS}: reviewed\\n"\n"X-Reviewed-By: A. N.\\n'
    )
    assert header_fields(signed)["X-Reviewed-By"] == "A. N."
    assert "DRAFT" in review_problem(signed)
    signed = "\n".join(line for line in signed.split("\n") if not line.startswith("# DRAFT:"))
    assert review_problem(signed) is None
    unmarked = text.replace(f"{REVIEW_STATUS}: {DRAFT}", "X-Other: x")
    assert "missing" in review_problem(unmarked)


def test_review_fields_survive_a_babel_rewrite(tmp_path):
    """Babel drops header fields it does not know; `bot i18n update` puts them back."""
    source = LOCALES / "ka" / "LC_MESSAGES" / "messages.po"
    path = tmp_path / "messages.po"
    fields = custom_fields(source.read_text(encoding="utf-8"))
    assert fields[REVIEW_STATUS] == DRAFT
    with source.open("rb") as fh:
        catalog = read_po(fh)
    out = BytesIO()
    write_po(out, catalog)
    path.write_bytes(out.getvalue())
    assert REVIEW_STATUS not in custom_fields(path.read_text(encoding="utf-8"))
    keep_fields(path, fields)
    rewritten = path.read_text(encoding="utf-8")
    assert custom_fields(rewritten) == fields
    assert review_problem(rewritten) is None


def test_template_holds_exactly_the_texts_of_the_flows():
    with (LOCALES / "messages.pot").open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    texts = {t.msgid for t in FLOWSET.all_texts()}
    assert texts - template == set(), "run `bot i18n extract` then `bot i18n update`"
    assert template - texts == set(), "run `bot i18n extract` then `bot i18n update`"


@pytest.mark.parametrize("lang", [lang for lang in FLOWSET.settings.required if lang != "en"])
def test_every_flow_text_is_translated_in_the_required_languages(lang):
    msgids = list(dict.fromkeys(t.msgid for t in FLOWSET.all_texts()))
    result = coverage(LOCALES, lang, msgids)
    assert result.untranslated == [], f"{lang}: `bot i18n coverage --missing` lists them"


def test_coverage_command_meets_a_threshold_and_fails_below_it():
    runner = CliRunner()
    ok = runner.invoke(cli, ["i18n", "coverage", "--min", "50"])
    assert ok.exit_code == 0, ok.output
    assert "فارسی" in ok.output
    assert "100.0%" in ok.output
    below = runner.invoke(cli, ["i18n", "coverage", "--min", "100.5"])
    assert below.exit_code == 1
    assert "below 100.5%" in below.output


NEW_FAQ = """
  - id: new_question
    type: message
    text: "A question staff added today."
"""


def _flows_with_a_new_text(tmp_path: Path, required: str) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows, ignore=shutil.ignore_patterns("transcripts"))
    config = (flows / "_config.yaml").read_text(encoding="utf-8")
    config = config.replace("required_languages: [en]", f"required_languages: {required}")
    (flows / "_config.yaml").write_text(config, encoding="utf-8")
    with (flows / "faq.yaml").open("a", encoding="utf-8") as out:
        out.write(NEW_FAQ)
    return flows


def test_a_text_pending_in_optional_languages_passes_and_is_listed(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(_flows_with_a_new_text(tmp_path, "[en]")))
    result = CliRunner().invoke(cli, ["i18n", "coverage", "--required"])
    assert result.exit_code == 0, result.output
    assert result.output.count("A question staff added today.") == len(SHIPPED) - 1
    assert "1 pending (sent in en until translated)" in result.output


def test_a_text_missing_in_a_required_language_fails_coverage(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(_flows_with_a_new_text(tmp_path, "[en, ka]")))
    result = CliRunner().invoke(cli, ["i18n", "coverage", "--required"])
    assert result.exit_code == 1
    assert "required languages with texts missing: ka" in result.output


def test_the_validator_calls_a_pending_text_untranslated(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_FLOWS_DIR", str(_flows_with_a_new_text(tmp_path, "[en]")))
    result = CliRunner().invoke(cli, ["flows", "validate"])
    lines = [line for line in result.output.splitlines() if '"new_question"' in line]
    assert any("untranslated in fr, nl, ka" in line for line in lines), result.output
    assert not any("UCS-2" in line or "segment" in line for line in lines)


def test_an_unknown_required_language_is_an_error(tmp_path, monkeypatch):
    flows = _flows_with_a_new_text(tmp_path, "[en, xx]")
    from bot.flow import read_flows

    flowset, problems = read_flows(flows)
    assert flowset is None
    assert any('required language "xx" is not in "languages"' in p.message for p in problems)


def _words(tr: CatalogTranslator, text) -> dict[str, set[str]]:
    return {
        lang: {normalize(w) for w in split_words(tr.gettext(lang, text.msgid))} - {""}
        for lang in LANGUAGES
    }


def test_command_words_never_mean_two_commands_in_any_language():
    tr = CatalogTranslator(LOCALES, LANGUAGES)
    owner: dict[str, str] = {}
    clashes = []
    for name, command in FLOWSET.commands.items():
        for lang, words in _words(tr, command.words).items():
            for word in words:
                if owner.setdefault(word, name) != name:
                    clashes.append(f"{lang} {word!r}: {owner[word]} and {name}")
    assert not clashes, "\n".join(clashes)


def test_yes_and_no_words_never_clash_with_each_other_or_with_commands():
    tr = CatalogTranslator(LOCALES, LANGUAGES)
    yes = set().union(*_words(tr, FLOWSET.system["yes_words"]).values())
    no = set().union(*_words(tr, FLOWSET.system["no_words"]).values())
    commands = set()
    for command in FLOWSET.commands.values():
        commands |= set().union(*_words(tr, command.words).values())
    assert yes & no == set()
    assert (yes | no) & commands == set()


def test_every_language_has_its_own_command_words():
    tr = CatalogTranslator(LOCALES, LANGUAGES)
    for name, command in FLOWSET.commands.items():
        english = {normalize(w) for w in split_words(command.words.source)}
        for lang in LANGUAGES:
            if lang == FLOWSET.settings.default_language:
                continue
            words = {normalize(w) for w in split_words(tr.gettext(lang, command.words.msgid))}
            assert words - english, f"{lang} has no word of its own for {name}"


def test_placeholders_are_kept_in_every_translation():
    tr = CatalogTranslator(LOCALES, LANGUAGES)
    for text, lang in itertools.product(FLOWSET.all_texts(), LANGUAGES):
        translated = tr.gettext(lang, text.msgid)
        for name in text.names:
            assert f"%({name})s" in translated, f"{lang} {text.where}: %({name})s lost"
