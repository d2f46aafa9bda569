"""The question corpus (bot/core/corpus.py, flows/questions/) meets the bar of issue 22."""

from __future__ import annotations

import pytest

from bot.core.corpus import files, score
from bot.core.runtime import ROOT, Runtime

LANGS = {"en", "fr", "nl", "ka", "hy", "fa", "ar", "ru", "uk", "tr", "ckb", "ps"}


@pytest.fixture(scope="module")
def scores():
    engine = Runtime.load(ROOT / "flows", ROOT / "locales").engine
    return [score(engine, path) for path in files(ROOT / "flows" / "questions")]


def test_every_language_has_a_corpus_of_at_least_15_questions(scores):
    assert {s.lang for s in scores} == LANGS
    assert all(s.total >= 15 and s.out_of_scope >= 3 for s in scores)


def test_at_least_85_percent_overall_and_70_in_each_language(scores):
    reached = sum(s.counts["direct"] + s.counts["suggested"] for s in scores)
    assert reached / sum(s.total for s in scores) >= 0.85
    for s in scores:
        assert s.reached >= 0.70, "\n".join(s.failures)


def test_no_out_of_scope_message_reaches_a_screen(scores):
    assert sum(s.out_of_scope_routed for s in scores) == 0, [f for s in scores for f in s.failures]


def test_the_score_can_fail(tmp_path):
    engine = Runtime.load(ROOT / "flows", ROOT / "locales").engine
    path = tmp_path / "en.yaml"
    path.write_text(
        "lang: en\nquestions:\n  - {ask: 'i lost my passport', answer: faq.cost}\n"
        "  - {ask: 'blue sky', answer: faq.cost}\nout_of_scope: ['i need medicine']\n"
    )
    s = score(engine, path)
    assert s.counts["wrong"] == 1 and s.counts["missed"] == 1 and s.out_of_scope_routed == 1
