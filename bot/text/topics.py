"""Questions in people's own words matched to the screens that answer them, in any language.

Each screen carries topic words ("passport, travel document, lost passport"); a question
matches a screen when it contains every word of one of its topic phrases. Words are compared
after `normalize` (case, diacritics, Arabic and Persian letter variants, ZWNJ, tatweel), with
Armenian question and stress marks removed from inside words, and with endings tolerated:
a Snowball stemmer where Snowball has the language, prefixes for agglutinative words
("pasaportum" holds "pasaport", "პასპორტს" and "პასპორტი" share "პასპორტ"), and one or
two typos in longer words (rapidfuzz). A word several screens share weighs less, so a
question that only says "family" offers the screens about families instead of picking one.

Pure and local: no model, no network, nothing kept. An index is built once per language;
a match looks up each word of the question in dictionaries and a small prefix bucket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.text.matching import choice_number, normalize

STEMMERS = {
    "en": "english",
    "fr": "french",
    "nl": "dutch",
    "ru": "russian",
    "tr": "turkish",
    "ar": "arabic",
    "hy": "armenian",
    "fa": "persian",
}
"""Snowball's algorithm for each language that has one (Georgian, Ukrainian, Sorani and
Pashto have none: prefixes and typos carry them)."""

MIN_PREFIX = 4
"""A topic word this long or longer also matches longer words that start with it."""

CLOSE = 0.6
"""Screens within this share of the best score are close: several of them make a list."""

MAX_CHOICES = 3
"""A suggestion list names at most this many screens."""

_INWORD_MARKS = str.maketrans({"\u055b": None, "\u055c": None, "\u055e": None, "\u055f": None})
"""Armenian stress, exclamation and question marks, written on a vowel inside the word."""


def worth_matching(text: str) -> bool:
    """Free text with letters in it; a number or an emoji is no question."""
    return choice_number(text) is None and any(c.isalpha() for c in text)


def words(text: str) -> list[str]:
    """The folded words of a text, as the matcher compares them."""
    return normalize((text or "").translate(_INWORD_MARKS)).replace("-", " ").split()


@dataclass(frozen=True)
class Match:
    """What a question matched: one screen to answer with, several to offer, or none."""

    screens: tuple[Hashable, ...] = ()
    direct: bool = False

    @property
    def outcome(self) -> str:
        """ "matched", "suggested" or "unmatched": the only thing counted about a question."""
        if not self.screens:
            return "unmatched"
        return "matched" if self.direct else "suggested"


class TopicIndex:
    """The topic phrases of one language, ready to match questions against."""

    def __init__(self, lang: str, phrases: Iterable[tuple[str, Hashable]]):
        name = STEMMERS.get(lang.split("_")[0])
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.phrases: list[tuple[tuple[str, ...], Hashable]] = []
        self.by_word: dict[str, set[int]] = defaultdict(set)
        screens_of: dict[str, set[Hashable]] = defaultdict(set)
        for text, screen in phrases:
            keys = tuple(dict.fromkeys(self.key(w) for w in words(text)))
            if not keys or (keys, screen) in self.phrases:
                continue
            index = len(self.phrases)
            self.phrases.append((keys, screen))
            for key in keys:
                self.by_word[key].add(index)
                screens_of[key].add(screen)
        self.weight = {key: 1.0 / len(s) for key, s in screens_of.items()}
        self.keys = list(self.by_word)
        self.buckets: dict[str, list[str]] = defaultdict(list)
        for key in self.keys:
            self.buckets[key[:3]].append(key)

    def key(self, word: str) -> str:
        """A word as it is indexed: its Snowball stem where the language has a stemmer."""
        if self._stemmer is None or len(word) < MIN_PREFIX:
            return word
        return self._stemmer.stemWord(word) or word

    def _same(self, word: str) -> list[str]:
        """The topic keys a word of the question stands for."""
        key = self.key(word)
        if key in self.by_word:
            return [key]
        found = []
        for k in self.buckets.get(key[:3], ()) if len(key) >= MIN_PREFIX else ():
            shorter = min(len(k), len(key))
            common = 0
            for a, b in zip(k, key, strict=False):
                if a != b:
                    break
                common += 1
            if (common == len(k) >= MIN_PREFIX) or common >= max(MIN_PREFIX + 1, shorter - 2):
                found.append(k)
        if found or len(key) < 5:
            return found
        cutoff = 2 if len(key) >= 8 else 1
        near = process.extract(
            key, self.keys, scorer=Levenshtein.distance, score_cutoff=cutoff, limit=3
        )
        return [k for k, distance, _ in near if distance <= cutoff and len(k) >= 5]

    def scores(self, text: str) -> dict[Hashable, float]:
        """Each screen's score for a question: the weights of the topic words it contains,
        counted from the phrases whose every word it contains."""
        present: set[str] = set()
        for word in words(text):
            present.update(self._same(word))
        if not present:
            return {}
        covered: dict[Hashable, set[str]] = defaultdict(set)
        for key in present:
            for index in self.by_word[key]:
                keys, screen = self.phrases[index]
                if all(k in present for k in keys):
                    covered[screen].update(keys)
        return {screen: sum(self.weight[k] for k in keys) for screen, keys in covered.items()}


def decide(scores: dict[Hashable, float]) -> Match:
    """One screen clearly best: answer it; two or three close: offer them; else nothing."""
    if not scores:
        return Match()
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best = ranked[0][1]
    close = [screen for screen, score in ranked if score >= best * CLOSE][:MAX_CHOICES]
    if len(close) == 1:
        return Match((close[0],), direct=True)
    return Match(tuple(close))


def match(text: str, *indexes: TopicIndex) -> Match:
    """The screens a question is about: the first index (the person's language) that finds
    any, then the next (English, the fallback)."""
    for index in indexes:
        found = decide(index.scores(text))
        if found.screens:
            return found
    return Match()
