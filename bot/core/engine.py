"""The conversation engine: a pure function of (flows, state, inbound message).

`Engine.step` returns the new state, the replies to send and the events the service must
act on (a callback request, a reminder, an erasure). It does no I/O and imports nothing
from Flask, Twilio, Redis or RQ (tests/test_engine.py checks), so every rule of a
conversation can be tested and replayed without a server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from babel import Locale, UnknownLocaleError

from bot.core.nodes import RUNNERS, Runner
from bot.core.questions import PENDING as TOPICS_PENDING
from bot.core.questions import Questions
from bot.core.state import State
from bot.core.turn import Event, Inbound, Reply, Run, Turn
from bot.flow.model import FlowSet, Node, Target, Text
from bot.flow.nodes import REGISTRY, Menu
from bot.i18n.detect import ENDONYMS, LANGUAGE_WORD, ask_languages, suggest_language
from bot.text.matching import MatchTable, best_match, choice_number, normalize, split_words

__all__ = [
    "MAX_INBOUND_CHARS",
    "Engine",
    "Event",
    "Inbound",
    "PlainTranslator",
    "Reply",
    "Turn",
    "command_key",
]

MAX_INBOUND_CHARS = 1600
"""Longer inbound texts are cut before matching (Twilio's own limit for a message body)."""


def command_key(text: str) -> str:
    """How a command word is looked up: folded, or as typed when it is only punctuation ("?").

    An empty message must not match anything, so "?" is kept as "?" rather than folded away.
    """
    return normalize(text) or text.strip()


ASK_PENDING = "lang?"
"""`State.pending` while the first reply asks which language: "lang?ar,fa,ckb,ps"."""


class PlainTranslator:
    """No catalogs: English texts; names of languages and countries from Babel's CLDR data.

    The catalog translator in bot.i18n extends this; the engine only needs these methods.
    """

    def gettext(self, lang: str, msgid: str) -> str:
        return msgid

    def language_name(self, lang: str) -> str:
        try:
            return Locale.parse(lang).get_display_name(lang) or lang
        except (ValueError, UnknownLocaleError):
            return lang

    def territories(self, lang: str) -> Mapping[str, str]:
        try:
            return Locale.parse(lang).territories
        except (ValueError, UnknownLocaleError):
            return {}

    def number(self, lang: str, value: int) -> str:
        return str(value)

    def finish(self, lang: str, text: str) -> str:
        """Last touch on a reply (bidi isolation for right-to-left languages)."""
        return text


class _Vars(dict):
    """Placeholder values; a variable not answered yet renders as "...", never a crash.

    Three dots, not the ellipsis character: that one is not GSM-7 and would double the cost.
    """

    def __missing__(self, key):
        return "..."


class Engine:
    """Runs flows. Build one per (FlowSet, translator); it is immutable and thread-safe."""

    def __init__(self, flows: FlowSet, translator=None):
        self.flows = flows
        self.tr = translator or PlainTranslator()
        self.settings = flows.settings
        langs = self.settings.languages
        self.commands: dict[str, str] = {}
        for name, command in flows.commands.items():
            for lang in (self.settings.default_language, *langs):
                for word in split_words(self.tr.gettext(lang, command.words.msgid)):
                    self.commands.setdefault(command_key(word), name)
                for word in split_words(command.words.source):
                    self.commands.setdefault(command_key(word), name)
        self.keywords: dict[str, str] = {}
        for flow in flows.flows.values():
            for word in flow.keywords:
                self.keywords.setdefault(normalize(word), flow.id)
        yes_no: list[tuple[str, object]] = []
        for value, key in (("yes", "yes_words"), ("no", "no_words")):
            text = flows.system[key]
            for lang in langs:
                yes_no += [(w, value) for w in split_words(self.tr.gettext(lang, text.msgid))]
        countries: list[tuple[str, object]] = []
        for lang in dict.fromkeys(("en", *langs)):
            for code, name in self.tr.territories(lang).items():
                if len(code) == 2 and code.isalpha():
                    countries.append((name, code.upper()))
                    countries.append((code, code.upper()))
        # Every name of every offered language ("Persian", "persan", "فارسی", "fa").
        aliases = getattr(self.tr, "language_aliases", lambda code: [])
        language_names: list[tuple[str, object]] = []
        for code in langs:
            names = [self.tr.language_name(code), code, *aliases(code)]
            language_names += [(name, code) for name in dict.fromkeys(names)]
        # Normalized once: a reply is matched against thousands of names (every country in
        # every offered language); normalizing them again for each message cost ~100 ms.
        self.yes_no_table = MatchTable(yes_no)
        self.country_table = MatchTable(countries)
        self.language_table = MatchTable(language_names)
        self._word_tables: dict[tuple[str, str, str], MatchTable] = {}
        # Variables holding a country code, shown as the country's name in the person's language.
        self.country_vars = {
            name
            for f in flows.flows.values()
            for n in f.nodes.values()
            for name, kind in n.saves()
            if kind == "country"
        }
        main = flows.flows.get(self.settings.main_flow)
        nodes = main.nodes.values() if main else ()
        self.main_menu: Menu | None = next((n for n in nodes if isinstance(n, Menu)), None)
        """The main menu: the first menu of the main flow (MENU, BACK and the end lead there)."""
        missing = [name for name in REGISTRY if name not in RUNNERS]
        if missing:
            raise TypeError(f"node types without a runner in bot/core/nodes/: {missing}")
        # One runner per node type, dispatched by `type` (bot/core/nodes/).
        self.runners: dict[str, Runner] = {name: cls(self) for name, cls in RUNNERS.items()}
        self.questions = Questions(self)

    # --- text -------------------------------------------------------------------------

    def text(self, run: Run, text: Text | None, **extra) -> str:
        """Translate and fill in a text in the person's language."""
        if text is None:
            return ""
        lang = run.state.lang or self.settings.default_language
        translated = self.tr.gettext(lang, text.msgid)
        if not text.names:
            return translated
        values = _Vars(self.flows.staff_in(lang))  # staff values as written in `lang`
        for name, value in run.state.vars.items():
            if name in self.country_vars:
                value = self.tr.territories(lang).get(value, value)
            values[name] = value
        values.update(extra)
        try:
            return translated % values
        except (KeyError, ValueError, TypeError):
            return text.msgid % values  # a broken translation must not break the reply

    def system(self, run: Run, key: str) -> str:
        return self.text(run, self.flows.system[key])

    def say(self, run: Run, text: str, **kw) -> None:
        lang = run.state.lang or self.settings.default_language
        if text or kw.get("options"):
            full = "\n".join(p for p in (text, *kw.pop("lines", ()), kw.get("footer", "")) if p)
            run.replies.append(Reply(self.tr.finish(lang, full), prompt=text, lang=lang, **kw))

    def number(self, run: Run, value: int) -> str:
        return self.tr.number(run.state.lang or self.settings.default_language, value)

    # --- the step ---------------------------------------------------------------------

    def step(self, state: State | None, inbound: Inbound, now: int) -> Turn:
        """Handle one inbound message: the whole behaviour of the service lives here."""
        run = Run(state.copy() if state else State())
        st = run.state
        first_contact = not st.seen
        text = (inbound.text or "")[:MAX_INBOUND_CHARS]
        idle = now - st.seen if st.seen else 0
        returning = bool(st.seen) and idle > self.settings.session_timeout
        st.seen = now
        ask: tuple[str, ...] = ()
        if st.lang is None:
            hint = inbound.lang_hint
            st.lang = hint if hint in self.settings.languages else self.settings.default_language
            if hint not in self.settings.languages and not inbound.payload:
                ask = ask_languages(text, self.settings.languages)
        key = command_key(text)
        command = self.commands.get(key)
        if inbound.payload and inbound.payload.startswith("cmd:"):
            command = inbound.payload[4:]
        if ask and command is None:
            # The script names several languages and nothing else decided: ask, once.
            st.lang = ask[0]
            st.pending = ASK_PENDING + ",".join(ask)
            self.ask_language(run, ask)
            return self.finish(run)
        if st.opted_out:
            if command == "START":
                st.opted_out = False
                self.say(run, self.system(run, "started"))
                run.events.append(Event("opt_in"))
                self.goto_main(run)
            elif command == "FORGET":
                self.command(run, command)
            elif st.pending == "forget":
                # Erasure must work after STOP too; a "no" is acknowledged, nothing more.
                if best_match(text, self.yes_no_table) == "yes":
                    self.confirm_forget(run, text)
                else:
                    st.pending = None
                    self.say(run, self.system(run, "forget_cancelled"))
            return self.finish(run)
        if returning and command is None and not st.pending:
            self.clear_position(st)
            self.say(run, self.system(run, "welcome_back"))
            self.goto_main(run)
            return self.finish(run)
        if command is None and st.pending and st.pending.startswith(TOPICS_PENDING):
            if self.questions.pick(run, text, inbound.payload):
                return self.finish(run)
        if command:
            self.command(run, command)
        elif st.pending == "forget":
            self.confirm_forget(run, text)
        elif st.pending == "lang":
            self.choose_language(run, text, inbound.payload, None)
        elif st.pending and st.pending.startswith(ASK_PENDING):
            first_contact = not self.answer_language_ask(run, text, inbound.payload)
        elif st.node and st.flow in self.flows.flows and st.node in self.flows.flows[st.flow].nodes:
            self.answer(run, self.flows.node(st.flow, st.node), text, inbound.payload)
        elif self.start_keyword(run, text):
            pass
        elif self.answer_question(run, text, welcome=first_contact):
            pass
        else:
            self.goto_main(run, welcome=first_contact)
        if first_contact and run.replies:
            # Say which language we guessed, and how to change it, before anything else.
            first = run.replies[0]
            guess = self.tr.finish(first.lang, self.system(run, "language_guess"))
            run.replies[0] = dataclasses.replace(
                first, text=f"{guess}\n{first.text}", prompt=f"{guess}\n{first.prompt}".strip()
            )
        return self.finish(run)

    def finish(self, run: Run) -> Turn:
        return Turn(run.state, tuple(run.replies), tuple(run.events))

    @staticmethod
    def clear_position(st: State) -> None:
        st.flow = st.node = st.pending = None
        st.retries = 0

    def goto_main(self, run: Run, welcome: bool = False) -> None:
        """The main menu: the first menu of the main flow (its start node on first contact)."""
        main = self.flows.flows[self.settings.main_flow]
        run.state.history = []
        node = main.start
        if not welcome and self.main_menu is not None:
            node = self.main_menu.id
        self.go(run, main.id, node)

    # --- global commands --------------------------------------------------------------

    def command(self, run: Run, name: str) -> None:
        st = run.state
        st.pending = None
        if name == "MENU":
            self.clear_position(st)
            self.goto_main(run)
        elif name == "BACK":
            current = f"{st.flow}.{st.node}"
            history = list(st.history)
            if history and history[-1] == current:
                history.pop()
            if history:
                flow, _, node = history.pop().partition(".")
                st.history = history
                if flow in self.flows.flows and node in self.flows.flows[flow].nodes:
                    self.go(run, flow, node)
                    return
            self.goto_main(run)
        elif name == "LANG":
            st.pending = "lang"
            self.show_languages(run)
        elif name == "HELP":
            help_flow = self.settings.help_flow or self.settings.main_flow
            self.go(run, help_flow, self.flows.flows[help_flow].start)
        elif name == "STOP":
            self.clear_position(st)
            st.opted_out = True
            run.events.append(Event("opt_out"))
            self.say(run, self.system(run, "stopped"))
        elif name == "START":
            run.events.append(Event("opt_in"))
            self.say(run, self.system(run, "started"))
            self.goto_main(run)
        elif name == "FORGET":
            st.pending = "forget"
            self.say(run, self.system(run, "forget_confirm"))

    def confirm_forget(self, run: Run, text: str) -> None:
        if best_match(text, self.yes_no_table) == "yes":
            lang = run.state.lang
            run.events.append(Event("forget"))
            run.state = State(lang=lang)  # the service deletes the stored state entirely
            self.say(run, self.system(run, "forgotten"))
            run.state = State()
            return
        run.state.pending = None
        self.say(run, self.system(run, "forget_cancelled"))
        self.resume(run)

    def resume(self, run: Run) -> None:
        """Show again what the person was answering, or the main menu."""
        st = run.state
        if st.node and st.flow in self.flows.flows and st.node in self.flows.flows[st.flow].nodes:
            self.go(run, st.flow, st.node)
        else:
            self.goto_main(run)

    # --- languages --------------------------------------------------------------------

    def show_languages(self, run: Run) -> None:
        options = [
            (f"lang:{code}", self.tr.language_name(code)) for code in self.settings.languages
        ]
        lines = [f"{self.number(run, i)}. {label}" for i, (_, label) in enumerate(options, 1)]
        self.say(run, self.system(run, "language_prompt"), lines=lines, options=tuple(options))

    def ask_language(self, run: Run, choices: tuple[str, ...]) -> None:
        """One SMS segment: "Language?" in each language, then each named in its own script."""
        names = [ENDONYMS.get(c) or self.tr.language_name(c) for c in choices]
        prompt = " ".join(LANGUAGE_WORD.get(c, "") for c in choices).strip()
        lines = [f"{i} {name}" for i, name in enumerate(names, 1)]
        options = tuple((f"lang:{c}", name) for c, name in zip(choices, names, strict=True))
        self.say(run, prompt, lines=lines, options=options)

    def answer_language_ask(self, run: Run, text: str, payload: str | None) -> bool:
        """The reply to `ask_language`: a number, a name, or a text whose words decide.

        Asked once: whatever the reply, the conversation goes on with the welcome, in the
        language chosen or else the first asked about (the welcome then says how to change
        it). True when a language was chosen.
        """
        st = run.state
        choices = tuple(c for c in (st.pending or "")[len(ASK_PENDING) :].split(",") if c)
        choices = tuple(c for c in choices if c in self.settings.languages)
        chosen = None
        if payload and payload.startswith("lang:") and payload[5:] in choices:
            chosen = payload[5:]
        number = choice_number(text)
        if chosen is None and number and 1 <= number <= len(choices):
            chosen = choices[number - 1]
        if chosen is None:
            named = best_match(text, self.language_table)
            chosen = named if named in choices else suggest_language(text, None, choices)
        st.pending = None
        if chosen is None:
            st.lang = choices[0] if choices else st.lang
            self.goto_main(run, welcome=True)
            return False
        st.lang = chosen
        st.lang_confirmed = True
        run.events.append(Event("language", MappingProxyType({"lang": chosen})))
        self.say(run, self.system(run, "language_set"))
        self.goto_main(run, welcome=True)
        return True

    def choose_language(self, run: Run, text: str, payload: str | None, node) -> None:
        langs = self.settings.languages
        chosen = None
        if payload and payload.startswith("lang:") and payload[5:] in langs:
            chosen = payload[5:]
        number = choice_number(text)
        if chosen is None and number and 1 <= number <= len(langs):
            chosen = langs[number - 1]
        if chosen is None:
            chosen = best_match(text, self.language_table)
        st = run.state
        if chosen is None:
            self.say(run, self.system(run, "not_understood"))
            self.show_languages(run)
            return
        st.lang = chosen
        st.lang_confirmed = True
        st.pending = None
        run.events.append(Event("language", MappingProxyType({"lang": chosen})))
        self.say(run, self.system(run, "language_set"))
        if node is not None:
            self.follow(run, node.next)
        else:
            self.resume(run)

    # --- answers to a waiting node ----------------------------------------------------

    def answer(self, run: Run, node: Node, text: str, payload: str | None) -> None:
        """A reply to the node the conversation waits at: its type's runner handles it."""
        self.runners[node.type].answer(run, node, text, payload)

    def start_keyword(self, run: Run, text: str) -> bool:
        """Start the flow whose keyword the person sent; False when it is no keyword."""
        flow = self.keywords.get(normalize(text))
        if flow is None:
            return False
        self.go(run, flow, self.flows.flows[flow].start)
        return True

    def answer_question(self, run: Run, text: str, welcome: bool = False) -> bool:
        """Free text answered by the screen whose topics it names, or a short list of them
        (bot/core/questions.py); False when none matches."""
        return self.questions.answer(run, text, welcome)

    def count_question(self, run: Run, outcome: str) -> None:
        """Count a question's outcome (an event with the language only, never the text)."""
        self.questions.count(run, outcome)

    def word_table(
        self, run: Run, node_id: str, entries: Iterable[tuple], extra: Iterable = ()
    ) -> MatchTable:
        """Labels and synonyms of (label, synonyms, value) entries, in the person's language
        and the default one, normalized once per node and language."""
        lang = run.state.lang or self.settings.default_language
        key = (run.state.flow or "", node_id, lang)
        table = self._word_tables.get(key)
        if table is None:
            pairs: list[tuple[str, object]] = []
            for label, synonyms, value in entries:
                for language in dict.fromkeys((lang, self.settings.default_language)):
                    pairs.append((self.tr.gettext(language, label.msgid), value))
                    if synonyms:
                        words = self.tr.gettext(language, synonyms.msgid)
                        pairs += [(w, value) for w in split_words(words)]
            table = self._word_tables[key] = MatchTable([*pairs, *extra])
        return table

    def match_option(
        self, run: Run, node: Node, text: str, payload: str | None, fuzzy: bool = True
    ):
        """The option of a menu a reply picks, or None (bot/core/nodes/menu.py).

        Kept on the engine as a seam: tests/test_flows_shipped.py traces every option
        chosen by overriding it.
        """
        return self.runners[node.type].match(run, node, text, payload, fuzzy)

    def parse_answer(self, run: Run, node: Node, text: str, payload: str | None):
        """The value a reply gives a question, or None (bot/core/nodes/question.py).

        A seam like `match_option`: tests trace every answer given through it.
        """
        return self.runners[node.type].parse(run, node, text, payload)

    # --- previews (for cost checks) ---------------------------------------------------

    def preview(self, flow_id: str, node_id: str, lang: str) -> list[Reply]:
        """What one node sends on its own in `lang` (answers not given yet show as "...")."""
        run = Run(State(flow=flow_id, lang=lang, seen=1))
        # A branch or a goto says nothing: its runner only returns where it leads.
        self.run_node(run, self.flows.node(flow_id, node_id))
        return run.replies

    # --- running nodes ----------------------------------------------------------------

    def follow(self, run: Run, target: Target | None) -> None:
        if target is None:
            self.clear_position(run.state)
            return
        self.go(run, target.flow, target.node)

    def go(self, run: Run, flow_id: str, node_id: str) -> None:
        """Run nodes from (flow, node) until one waits for a reply or the flow ends."""
        st = run.state
        limit = self.settings.max_messages_per_turn
        sent_before = len(run.replies)
        steps = 0
        while True:
            steps += 1
            if len(run.replies) - sent_before >= limit or steps > 10 * limit:
                self.clear_position(st)
                run.events.append(Event("loop_guard", MappingProxyType({"flow": flow_id})))
                self.say(run, self.system(run, "loop_guard"))
                return
            node = self.flows.node(flow_id, node_id)
            st.flow, st.node = flow_id, None
            nxt = self.run_node(run, node)
            if nxt is None:
                return
            flow_id, node_id = nxt.flow, nxt.node

    def footer(self, run: Run) -> str:
        """How to go back, under every menu and question outside the main flow."""
        if run.state.flow == self.settings.main_flow:
            return ""
        return self.system(run, "menu_footer")

    def run_node(self, run: Run, node: Node) -> Target | None:
        """Execute one node; return where to go next, or None to stop and wait or end."""
        return self.runners[node.type].enter(run, node)
