"""The conversation engine: a pure function of (flows, state, inbound message).

`Engine.step` returns the new state, the replies to send and the events the service must
act on (a callback request, a reminder, an erasure). It does no I/O and imports nothing
from Flask, Twilio, Redis or RQ (tests/test_engine_purity.py checks), so every rule of a
conversation can be tested and replayed without a server.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from babel import Locale, UnknownLocaleError

from bot.core.state import MAX_HISTORY, State
from bot.flow import conditions
from bot.flow.model import FlowSet, Node, Target, Text
from bot.flow.nodes import Action, Branch, End, Goto, Menu, Message, Question
from bot.text.durations import parse_duration
from bot.text.matching import (
    MatchTable,
    ascii_digits,
    best_match,
    choice_number,
    normalize,
    split_words,
)

MAX_INBOUND_CHARS = 1600
"""Longer inbound texts are cut before matching (Twilio's own limit for a message body)."""
MAX_SAVED_TEXT = 200
"""Free-text answers are kept to this many characters: we store as little as we can."""


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already stripped of anything that identifies them."""

    text: str
    channel: str = "sms"
    payload: str | None = None  # WhatsApp ButtonPayload / ListId
    lang_hint: str | None = None  # suggested from the script or the country code


@dataclass(frozen=True)
class Reply:
    """One outbound message; `options` lets WhatsApp show buttons instead of numbers."""

    text: str
    prompt: str = ""
    options: tuple[tuple[str, str], ...] = ()  # (payload, label)
    footer: str = ""
    lang: str = "en"


@dataclass(frozen=True)
class Event:
    """Something the service must do after the turn (send to staff, schedule, erase)."""

    type: str
    data: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Turn:
    """What one inbound message produced."""

    state: State
    replies: tuple[Reply, ...]
    events: tuple[Event, ...]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.replies]


def command_key(text: str) -> str:
    """How a command word is looked up: folded, or as typed when it is only punctuation ("?").

    An empty message must not match anything, so "?" is kept as "?" rather than folded away.
    """
    return normalize(text) or text.strip()


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


class _Run:
    """The mutable scratchpad of one step; the engine itself stays stateless."""

    def __init__(self, state: State):
        self.state = state
        self.replies: list[Reply] = []
        self.events: list[Event] = []


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
        self._menus: dict[tuple[str, str, str], tuple[Reply, tuple[str, ...]]] = {}
        self.country_vars = {
            n.save_as
            for f in flows.flows.values()
            for n in f.nodes.values()
            if isinstance(n, Question) and n.expect == "country"
        }

    # --- text -------------------------------------------------------------------------

    def text(self, run: _Run, text: Text | None, **extra) -> str:
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

    def system(self, run: _Run, key: str) -> str:
        return self.text(run, self.flows.system[key])

    def say(self, run: _Run, text: str, **kw) -> None:
        lang = run.state.lang or self.settings.default_language
        if text or kw.get("options"):
            full = "\n".join(p for p in (text, *kw.pop("lines", ()), kw.get("footer", "")) if p)
            run.replies.append(Reply(self.tr.finish(lang, full), prompt=text, lang=lang, **kw))

    def number(self, run: _Run, value: int) -> str:
        return self.tr.number(run.state.lang or self.settings.default_language, value)

    # --- the step ---------------------------------------------------------------------

    def step(self, state: State | None, inbound: Inbound, now: int) -> Turn:
        """Handle one inbound message: the whole behaviour of the service lives here."""
        run = _Run(state.copy() if state else State())
        st = run.state
        first_contact = not st.seen
        text = (inbound.text or "")[:MAX_INBOUND_CHARS]
        idle = now - st.seen if st.seen else 0
        returning = bool(st.seen) and idle > self.settings.session_timeout
        st.seen = now
        if st.lang is None:
            hint = inbound.lang_hint
            st.lang = hint if hint in self.settings.languages else self.settings.default_language
        key = command_key(text)
        command = self.commands.get(key)
        if inbound.payload and inbound.payload.startswith("cmd:"):
            command = inbound.payload[4:]
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
        if command:
            self.command(run, command)
        elif st.pending == "forget":
            self.confirm_forget(run, text)
        elif st.pending == "lang":
            self.choose_language(run, text, inbound.payload, None)
        elif st.node and st.flow in self.flows.flows and st.node in self.flows.flows[st.flow].nodes:
            self.answer(run, self.flows.node(st.flow, st.node), text, inbound.payload)
        elif self.start_keyword(run, text):
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

    def finish(self, run: _Run) -> Turn:
        return Turn(run.state, tuple(run.replies), tuple(run.events))

    @staticmethod
    def clear_position(st: State) -> None:
        st.flow = st.node = st.pending = None
        st.retries = 0

    def goto_main(self, run: _Run, welcome: bool = False) -> None:
        """The main menu: the first menu of the main flow (its start node on first contact)."""
        main = self.flows.flows[self.settings.main_flow]
        run.state.history = []
        node = main.start
        if not welcome:
            node = next((n.id for n in main.nodes.values() if isinstance(n, Menu)), main.start)
        self.go(run, main.id, node)

    # --- global commands --------------------------------------------------------------

    def command(self, run: _Run, name: str) -> None:
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

    def confirm_forget(self, run: _Run, text: str) -> None:
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

    def resume(self, run: _Run) -> None:
        """Show again what the person was answering, or the main menu."""
        st = run.state
        if st.node and st.flow in self.flows.flows and st.node in self.flows.flows[st.flow].nodes:
            self.go(run, st.flow, st.node)
        else:
            self.goto_main(run)

    # --- languages --------------------------------------------------------------------

    def show_languages(self, run: _Run) -> None:
        options = [
            (f"lang:{code}", self.tr.language_name(code)) for code in self.settings.languages
        ]
        lines = [f"{self.number(run, i)}. {label}" for i, (_, label) in enumerate(options, 1)]
        self.say(run, self.system(run, "language_prompt"), lines=lines, options=tuple(options))

    def choose_language(self, run: _Run, text: str, payload: str | None, node) -> None:
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

    def answer(self, run: _Run, node: Node, text: str, payload: str | None) -> None:
        st = run.state
        if isinstance(node, Menu):
            option = self.match_option(run, node, text, payload, fuzzy=False)
            if option is None and self.start_keyword(run, text):
                return
            if option is None:
                option = best_match(text, self.option_table(run, node))
            if option is not None:
                st.retries = 0
                self.follow(run, option.target)
            else:
                self.say(run, self.text(run, node.retry) or self.system(run, "not_understood"))
                self.go(run, st.flow, node.id)
        elif isinstance(node, Question):
            value = self.parse_answer(run, node, text, payload)
            if value is not None:
                st.vars[node.save_as] = value
                st.retries = 0
                self.follow(run, node.next)
                return
            if self.start_keyword(run, text):
                st.retries = 0
                return
            st.retries += 1
            if st.retries > node.max_retries:
                st.retries = 0
                if node.on_fail:  # the flow says what to do; its next node does the talking
                    self.follow(run, node.on_fail)
                else:
                    self.say(run, self.system(run, "too_many_retries"))
                    self.goto_main(run)
                return
            retry = self.text(run, node.retry)
            if not retry:
                retry = self.system(run, "invalid_answer") + "\n" + self.text(run, node.text)
            lines, options = self.choice_lines(run, node), self.choice_options(run, node)
            self.say(run, retry, lines=lines, options=options, footer=self.footer(run))
        elif isinstance(node, Action) and node.do == "choose_language":
            self.choose_language(run, text, payload, node)
        else:
            self.goto_main(run)

    def start_keyword(self, run: _Run, text: str) -> bool:
        """Start the flow whose keyword the person sent; False when it is no keyword."""
        flow = self.keywords.get(normalize(text))
        if flow is None:
            return False
        self.go(run, flow, self.flows.flows[flow].start)
        return True

    def option_table(self, run: _Run, node: Menu) -> MatchTable:
        """The options' words in the person's language, normalized once per menu and language."""
        return self.word_table(run, node.id, [(o.label, o.synonyms, o) for o in node.options])

    def word_table(self, run: _Run, node_id: str, entries, extra=()) -> MatchTable:
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
        self, run: _Run, node: Menu, text: str, payload: str | None, fuzzy: bool = True
    ):
        if payload:
            for option in node.options:
                if payload == f"{run.state.flow}.{node.id}:{option.number}":
                    return option
        number = choice_number(text) if not payload else choice_number(payload)
        if number is not None:
            return next((o for o in node.options if o.number == number), None)
        return best_match(text, self.option_table(run, node), fuzzy=fuzzy)

    def parse_answer(self, run: _Run, node: Question, text: str, payload: str | None):
        text = text.strip()
        if node.expect == "text":
            return text[:MAX_SAVED_TEXT] if text else None
        if node.expect == "number":
            found = re.findall(r"-?\d+", ascii_digits(text))
            if len(found) != 1:
                return None
            value = int(found[0])
            if node.minimum is not None and value < node.minimum:
                return None
            if node.maximum is not None and value > node.maximum:
                return None
            return str(value)
        if node.expect == "yes_no":
            if payload in ("yes", "no"):
                return payload
            number = choice_number(text)
            if number in (1, 2):
                return "yes" if number == 1 else "no"
            return best_match(text, self.yes_no_table)
        if node.expect == "choice":
            number = choice_number(payload or text)
            if number is not None:
                return node.choices[number - 1].value if 1 <= number <= len(node.choices) else None
            entries = [(c.label, c.synonyms, c.value) for c in node.choices]
            # The stored value itself ("red") is a valid answer too.
            values = [(c.value, c.value) for c in node.choices]
            return best_match(text, self.word_table(run, node.id, entries, values))
        if node.expect == "country":
            return best_match(text, self.country_table)
        return None  # pragma: no cover - the loader accepts only known kinds

    def choice_lines(self, run: _Run, node: Question) -> list[str]:
        return [
            f"{self.number(run, i)}. {self.text(run, c.label)}"
            for i, c in enumerate(node.choices, 1)
        ]

    def choice_options(self, run: _Run, node: Question) -> tuple[tuple[str, str], ...]:
        if node.expect == "yes_no":
            return ()
        return tuple((str(i), self.text(run, c.label)) for i, c in enumerate(node.choices, 1))

    # --- previews (for cost checks) ---------------------------------------------------

    def preview(self, flow_id: str, node_id: str, lang: str) -> list[Reply]:
        """What one node sends on its own in `lang` (answers not given yet show as "...")."""
        run = _Run(State(flow=flow_id, lang=lang, seen=1))
        node = self.flows.node(flow_id, node_id)
        if not isinstance(node, Branch | Goto):
            self.run_node(run, node)
        return run.replies

    # --- running nodes ----------------------------------------------------------------

    def follow(self, run: _Run, target: Target | None) -> None:
        if target is None:
            self.clear_position(run.state)
            return
        self.go(run, target.flow, target.node)

    def go(self, run: _Run, flow_id: str, node_id: str) -> None:
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

    def footer(self, run: _Run) -> str:
        """How to go back, under every menu and question outside the main flow."""
        if run.state.flow == self.settings.main_flow:
            return ""
        return self.system(run, "menu_footer")

    def run_node(self, run: _Run, node: Node) -> Target | None:
        """Execute one node; return where to go next, or None to stop and wait or end."""
        st = run.state
        if isinstance(node, Message):
            self.say(run, self.text(run, node.text))
            if node.next is None:
                self.clear_position(st)
            return node.next
        if isinstance(node, Menu):
            st.node = node.id
            here = f"{st.flow}.{node.id}"
            if not st.history or st.history[-1] != here:
                st.history = ([*st.history, here])[-MAX_HISTORY:]
            self.show_menu(run, node)
            return None
        if isinstance(node, Question):
            st.node = node.id
            st.retries = 0
            self.say(
                run,
                self.text(run, node.text),
                lines=self.choice_lines(run, node),
                options=self.choice_options(run, node),
                footer=self.footer(run),
            )
            return None
        if isinstance(node, Branch):
            for case in node.cases:
                if conditions.evaluate(case.condition, st.vars, self.flows.lists):
                    return case.target
            return node.otherwise
        if isinstance(node, Goto):
            return node.target
        if isinstance(node, Action):
            return self.run_action(run, node)
        if isinstance(node, End):
            self.say(run, self.text(run, node.text))
            self.clear_position(st)
            return None
        raise TypeError(f"no runner for node type {node.type}")  # pragma: no cover

    def show_menu(self, run: _Run, node: Menu) -> None:
        """Say a menu: its text, numbered options and footer, in the person's language.

        A menu whose texts name no variable reads the same every time it is shown in a
        language, so its reply is made once per (flow, menu, language) and kept: menus are
        most of what the service sends, and building one (translations, numbers, bidi
        marks) was a fifth of the engine's time per message. Its texts are still looked up
        each time: a translator counts the texts it had to send untranslated, and staff
        translate the most sent first.
        """
        st = run.state
        lang = st.lang or self.settings.default_language
        key = (st.flow or "", node.id, lang)
        kept = self._menus.get(key)
        if kept is not None:
            reply, msgids = kept
            for msgid in msgids:
                self.tr.gettext(lang, msgid)
            run.replies.append(reply)
            return
        footer = self.footer(run)
        labels = [self.text(run, o.label) for o in node.options]
        lines = [
            f"{self.number(run, o.number)}. {label}"
            for o, label in zip(node.options, labels, strict=True)
        ]
        options = tuple(
            (f"{st.flow}.{node.id}:{o.number}", label)
            for o, label in zip(node.options, labels, strict=True)
        )
        said = len(run.replies)
        self.say(run, self.text(run, node.text), lines=lines, options=options, footer=footer)
        texts = [t for t in (node.text, *(o.label for o in node.options)) if t is not None]
        if footer:
            texts.append(self.flows.system["menu_footer"])
        if len(run.replies) > said and not any(t.names for t in texts):
            self._menus[key] = (run.replies[-1], tuple(t.msgid for t in texts))

    def run_action(self, run: _Run, node: Action) -> Target | None:
        st = run.state
        params = dict(node.params)
        if node.do == "choose_language":
            st.node = node.id
            self.show_languages(run)
            return None
        if node.do == "set_language":
            st.lang = params["language"]
            st.lang_confirmed = True
        elif node.do == "set":
            st.vars[params["variable"]] = params["value"]
        elif node.do == "remind":
            params["after_seconds"] = parse_duration(params["after"])
            params["text"] = self.text(run, node.text)
        elif node.do == "callback":
            params["vars"] = dict(st.vars)
        params["lang"] = st.lang
        run.events.append(Event(node.do, MappingProxyType(params)))
        if node.do == "forget":
            run.state = State(lang=st.lang)
            return None
        if node.next is None:
            self.clear_position(st)
        return node.next
