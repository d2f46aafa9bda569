"""Questions in free text: answered by the screen whose topic words they use, or a short list.

A text that is neither a menu answer nor a command is matched (bot/text/topics.py) against
the `topics:` of every screen, in the person's language and then in English. One clear
match shows that screen; two or three close ones, a numbered list of them that fits in
MAX_SEGMENTS SMS segments; none, the caller's usual "not understood". Only the outcome and
the language leave the engine (a `question` event, for anonymous counts); the text itself
is never kept, logged or put in the state: the state keeps the screens offered, not why.
"""

from __future__ import annotations

from collections.abc import Hashable
from types import MappingProxyType

from bot.core.nodes.base import Steps
from bot.core.turn import Event, Run
from bot.flow.nodes import Menu
from bot.flow.problems import WARNING, Problem
from bot.text.matching import choice_number, normalize, split_words
from bot.text.segments import analyse
from bot.text.topics import Match, TopicIndex, match, worth_matching

PENDING = "topics:"
"""`State.pending` while a suggestion list waits: "topics:faq.family|reintegration.vulnerable"."""

MAX_SEGMENTS = 2
"""A suggestion list is at most this many SMS segments."""

MAX_LABEL = 40
"""A screen named by the first line of its text is cut to this many characters."""


class Questions:
    """The topic indexes of one engine, per language, built on first use."""

    def __init__(self, engine: Steps) -> None:
        self.engine = engine
        self.screens: dict[str, tuple[str, str]] = {}
        for flow in engine.flows.flows.values():
            for node in flow.nodes.values():
                if getattr(node, "topics", None) is not None:
                    self.screens[f"{flow.id}.{node.id}"] = (flow.id, node.id)
        self._indexes: dict[str, TopicIndex] = {}
        self._labels = self._option_labels()

    def index(self, lang: str) -> TopicIndex:
        """The topic words of every screen in `lang` (English source where untranslated)."""
        found = self._indexes.get(lang)
        if found is None:
            phrases: list[tuple[str, Hashable]] = []
            for key, (flow_id, node_id) in self.screens.items():
                topics = self.engine.flows.node(flow_id, node_id).topics
                if lang == "source":
                    words = topics.source
                else:
                    words = self.engine.tr.gettext(lang, topics.msgid)
                phrases += [(w, key) for w in split_words(words)]
            # The English fallback forgives no typos: see TopicIndex.
            source = lang == "source"
            found = TopicIndex("en" if source else lang, phrases, fuzzy=not source)
            self._indexes[lang] = found
        return found

    def match(self, lang: str, text: str) -> Match:
        """The screens a question is about, in `lang` and then in the English source."""
        return match(text, self.index(lang), self.index("source"))

    def answer(self, run: Run, text: str, welcome: bool = False) -> bool:
        """Show the screen a question is about, or a list of the likely ones; False if none."""
        if not self.screens or not worth_matching(text):
            return False
        engine = self.engine
        lang = run.state.lang or engine.settings.default_language
        found = self.match(lang, text)
        if not found.screens:
            return False
        self.count(run, found.outcome)
        if welcome:
            main = engine.flows.flows[engine.settings.main_flow]
            start = main.nodes[main.start]
            if not isinstance(start, Menu) and getattr(start, "text", None) is not None:
                engine.say(run, engine.text(run, start.text))
        engine.clear_position(run.state)
        if found.direct:
            flow_id, node_id = self.screens[found.screens[0]]
            engine.go(run, flow_id, node_id)
        else:
            self.suggest(run, found.screens)
        return True

    def count(self, run: Run, outcome: str) -> None:
        """A `question` event: the language and the outcome, nothing of the text."""
        lang = run.state.lang or self.engine.settings.default_language
        run.events.append(Event("question", MappingProxyType({"lang": lang, "outcome": outcome})))

    def suggest(self, run: Run, screens: tuple) -> None:
        """A numbered list of the screens offered, within MAX_SEGMENTS segments."""
        engine = self.engine
        system = engine.flows.system
        head = engine.text(run, system["topics_suggest"]) if "topics_suggest" in system else ""
        footer = engine.system(run, "menu_footer")
        lang = run.state.lang or engine.settings.default_language
        chosen = list(screens)
        while True:
            labels = [self.label(run, key) for key in chosen]
            lines = [f"{engine.number(run, i)}. {label}" for i, label in enumerate(labels, 1)]
            full = engine.tr.finish(lang, "\n".join([head, *lines, footer]).strip())
            if analyse(full).segments <= MAX_SEGMENTS or len(chosen) <= 2:
                break
            chosen.pop()
        run.state.pending = PENDING + "|".join(chosen)
        options = tuple((f"{PENDING}{i}", label) for i, label in enumerate(labels, 1))
        engine.say(run, head, lines=lines, options=options, footer=footer)

    def pick(self, run: Run, text: str, payload: str | None) -> bool:
        """The reply to a suggestion list: a number shows that screen. False otherwise
        (the list is dropped and the reply is handled as any other)."""
        st = run.state
        offered = [k for k in (st.pending or "")[len(PENDING) :].split("|") if k in self.screens]
        st.pending = None
        number = choice_number(payload[len(PENDING) :] if payload else text)
        if number is None or not 1 <= number <= len(offered):
            return False
        flow_id, node_id = self.screens[offered[number - 1]]
        self.engine.go(run, flow_id, node_id)
        return True

    def label(self, run: Run, key: str) -> str:
        """How a list names a screen: the menu option leading only there, else its first line."""
        engine = self.engine
        text = self._labels.get(key)
        if text is not None:
            return engine.text(run, text)
        flow_id, node_id = self.screens[key]
        node = engine.flows.node(flow_id, node_id)
        first = engine.text(run, getattr(node, "text", None)).strip().split("\n")[0]
        return first if len(first) <= MAX_LABEL else first[: MAX_LABEL - 3].rstrip() + "..."

    def _option_labels(self) -> dict[str, object]:
        """Option labels that lead to exactly one screen with topics ("Housing"), by screen."""
        targets: dict[str, set[str]] = {}
        first: dict[str, object] = {}
        for flow in self.engine.flows.flows.values():
            for node in flow.nodes.values():
                for option in getattr(node, "options", ()):
                    target = option.target
                    if target is None or not hasattr(option, "label"):
                        continue
                    key = f"{target.flow}.{target.node}"
                    targets.setdefault(option.label.msgid, set()).add(key)
                    first.setdefault(key, option.label)
        return {
            key: label
            for key, label in first.items()
            if key in self.screens and len(targets[label.msgid]) == 1
        }


def topic_problems(engine: Steps) -> list[Problem]:
    """Warnings for editors and translators about topic words, language by language.

    A phrase two screens share in one language (neither is ever answered directly), a
    phrase that is a command word or answers a main-menu option leading elsewhere (the
    command or the option wins where most questions arrive), and a screen whose topics are
    not translated into a language (it is found only by its English words there).
    """
    problems: list[Problem] = []
    flows = engine.flows
    commands = getattr(engine, "commands", {})
    screens = [
        (flow, node)
        for flow in flows.flows.values()
        for node in flow.nodes.values()
        if getattr(node, "topics", None) is not None
    ]
    default = engine.settings.default_language
    for lang in engine.settings.languages:
        answers: dict[str, set[str]] = {}
        main_menu = getattr(engine, "main_menu", None)
        for option in main_menu.options if main_menu is not None else ():
            target = f"{option.target.flow}.{option.target.node}"
            for text in [option.label, *([option.synonyms] if option.synonyms else [])]:
                for word in split_words(engine.tr.gettext(lang, text.msgid)):
                    answers.setdefault(normalize(word), set()).add(target)
        owner: dict[str, str] = {}
        for flow, node in screens:
            key = f"{flow.id}.{node.id}"
            topics = node.topics
            translated = engine.tr.gettext(lang, topics.msgid)

            def warn(message: str, flow=flow, topics=topics) -> None:
                problems.append(Problem(flow.path, topics.line, topics.col, WARNING, message))

            if lang != default and translated == topics.msgid:
                warn(f'"{node.id}" has no topic words in {lang}: only its English ones match')
                continue
            for word in split_words(translated):
                folded = normalize(word)
                if folded in owner and owner[folded] != key:
                    warn(f'topic "{word}" ({lang}) is also a topic of {owner[folded]}')
                owner.setdefault(folded, key)
                command = commands.get(folded or word.strip())
                if command:
                    warn(f'topic "{word}" ({lang}) is the command word of {command}')
                elsewhere = answers.get(folded, set()) - {key}
                if elsewhere:
                    where = ", ".join(sorted(elsewhere))
                    warn(f'topic "{word}" ({lang}) is a menu answer leading to {where}')
    return problems
