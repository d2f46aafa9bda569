"""Questions in people's own words matched to the screens that answer them, in any language.

Each screen carries topic words ("passport, travel document, lost passport"); a question
matches a screen when it contains every word of one of its topic phrases. Words are compared
after `normalize` (case, diacritics, Arabic and Persian letter variants, ZWNJ, tatweel), with
Armenian question and stress marks removed from inside words, and with endings tolerated:
a Snowball stemmer where Snowball has the language, prefixes for agglutinative words
("pasaportum" holds "pasaport", "პასპორტს" and "პასპორტი" share "პასპორტ"), and one or
two typos in longer words (rapidfuzz). A word several screens share weighs less, so a
question that only says "family" offers the screens about families instead of picking one.

Pure and local: no model, no network, nothing kept but digests. An index is built once per
language; a match looks up each word of the question in dictionaries and a small prefix
bucket, and remembers the result under the word's digest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.text.digest_cache import DigestCache
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

SEEN_LIMIT = 20_000
"""Words of questions whose topic words an index remembers, under a digest (Snowball in pure
Python costs about 0.2 ms a word; people reuse the same few hundred words)."""

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
    """The topic phrases of one language, ready to match questions against.

    `fuzzy` allows typos; the English fallback index of a non-English conversation goes
    without, since an English word one letter from a French one ("detain", "demain") is
    a coincidence, not a typo.
    """

    def __init__(self, lang: str, phrases: Iterable[tuple[str, Hashable]], fuzzy: bool = True):
        name = STEMMERS.get(lang.split("_")[0])
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.fuzzy = fuzzy
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
        self._seen = DigestCache(SEEN_LIMIT)

    def key(self, word: str) -> str:
        """A word as it is indexed: its Snowball stem where the language has a stemmer, unless
        the stem is too short to mean anything on its own (Armenian եղանակ -> եղ)."""
        if self._stemmer is None or len(word) < MIN_PREFIX:
            return word
        stem = self._stemmer.stemWord(word)
        return stem if len(stem) >= MIN_PREFIX else word

    def _related(self, topic: str, word: str) -> bool:
        """Whether a topic word and a word of the question are one word with other endings."""
        shorter = min(len(topic), len(word))
        if shorter < MIN_PREFIX:
            return False
        common = 0
        for a, b in zip(topic, word, strict=False):
            if a != b:
                break
            common += 1
        if common == len(topic):
            return True  # "pasaport" in "pasaportumu"
        if self._stemmer is None:
            slack = 1 if shorter <= 7 else 2
            if common >= max(3, shorter - slack):
                return True  # "პასპორტი" and "პასპორტს", "ფული" and "ფულს"
        return common >= 6 and common >= 0.7 * shorter  # "değiştirmek", "değiştirebilir"

    def _same(self, word: str) -> frozenset[str]:
        """The topic keys a word of the question stands for, remembered under the word's
        digest: the words people type are never kept, even in memory."""
        digest = DigestCache.key(word)
        found = self._seen.get(digest)
        if found is None:
            found = frozenset(self._find(word))
            self._seen.put(digest, found)
        return found

    def _find(self, word: str) -> set[str]:
        key = self.key(word)
        found = {k for k in (key, word) if k in self.by_word}
        for form in dict.fromkeys((key, word)):
            for k in self.buckets.get(form[:3], ()):
                if k not in found and self._related(k, form):
                    found.add(k)
        if found or not self.fuzzy or len(word) < 5:
            return found
        cutoff = 2 if len(word) >= 8 else 1
        near = process.extract(
            word, self.keys, scorer=Levenshtein.distance, score_cutoff=cutoff, limit=3
        )
        return {k for k, distance, _ in near if distance <= cutoff and len(k) >= 5}

    def scores(self, text: str) -> dict[Hashable, float]:
        """Each screen's score for a question: for each word of the question, the weight of
        the heaviest topic word it stands for among the screen's phrases it wholly contains.

        A word counts once per screen, however many of its topic words it resembles
        (Sorani پارەی is both پارە and پارەدان).
        """
        found = [same for same in map(self._same, words(text)) if same]
        present = set().union(*found)
        if not present:
            return {}
        covered: dict[Hashable, set[str]] = defaultdict(set)
        first: dict[Hashable, int] = {}
        for key in present:
            for index in self.by_word[key]:
                keys, screen = self.phrases[index]
                if all(k in present for k in keys):
                    covered[screen].update(keys)
                    first[screen] = min(index, first.get(screen, index))
        # In the order the screens' phrases were indexed (flow file order), not the order of
        # a set of strings, which changes from process to process: ties rank the same always.
        return {
            screen: sum(
                max((self.weight[k] for k in same if k in keys), default=0.0) for same in found
            )
            for screen, keys in sorted(covered.items(), key=lambda item: first[item[0]])
        }


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
