"""Running a `menu` node (bot/flow/nodes/menu.py): show numbered options, follow the one picked.

A reply picks an option by its number, a WhatsApp button's payload, its label or a synonym
(in the person's language or the default one), with small typos forgiven.
"""

from __future__ import annotations

from bot.core.nodes.base import Runner, Steps, runs
from bot.core.state import MAX_HISTORY
from bot.core.turn import Reply, Run
from bot.flow.model import Option, Target
from bot.flow.nodes import Menu
from bot.text.matching import MatchTable, best_match, choice_number
from bot.text.pricing import segments
from bot.text.topics import worth_matching

SHORT_REPLY_WORDS = 3
"""A reply of up to this many words that is close to an option's label picks that option."""


@runs(Menu)
class MenuRunner(Runner):
    """Shows a menu and waits; keeps the replies of menus that read the same every time."""

    def __init__(self, engine: Steps) -> None:
        super().__init__(engine)
        self.shown: dict[tuple[str, str, str], tuple[Reply, tuple[str, ...]]] = {}

    def enter(self, run: Run, node: Menu) -> Target | None:
        st = run.state
        st.node = node.id
        here = f"{st.flow}.{node.id}"
        if not st.history or st.history[-1] != here:
            st.history = ([*st.history, here])[-MAX_HISTORY:]
        self.show(run, node)
        return None

    def answer(self, run: Run, node: Menu, text: str, payload: str | None) -> None:
        engine = self.engine
        # Through the engine: its match_option is a seam tests use to see the options chosen.
        option = engine.match_option(run, node, text, payload, fuzzy=False)
        if option is None and engine.start_keyword(run, text):
            return
        # A question in free text goes to the screen that answers it before a loose match
        # to a label ("where to buy a cheap phone" is no request for a counsellor).
        if option is None and not payload and engine.answer_question(run, text):
            return
        if option is None and len(text.split()) <= SHORT_REPLY_WORDS:
            option = best_match(text, self.table(run, node))
        if option is not None:
            run.state.retries = 0
            engine.follow(run, option.target)
        else:
            sorry = engine.text(run, node.retry) or engine.system(run, "not_understood")
            extra = engine.flows.system.get("not_understood_counsellor")
            counsellor = False
            if worth_matching(text) and not payload:
                engine.count_question(run, "unmatched")
                counsellor = node.retry is None and extra is not None
            # The options again under the apology instead of the menu's own text: asked
            # again, a menu costs what it cost the first time (bot.channels.costs). The
            # counsellor line is added where it keeps the reply within its segments.
            run.state.node = node.id
            said = len(run.replies)
            self.show(
                run, node, prompt=sorry + "\n" + engine.text(run, extra) if counsellor else sorry
            )
            if counsellor and segments(run.replies[-1].text) > engine.settings.max_segments:
                del run.replies[said:]
                self.show(run, node, prompt=sorry)

    def match(
        self, run: Run, node: Menu, text: str, payload: str | None, fuzzy: bool = True
    ) -> Option | None:
        """The option a reply picks: a button's payload, a number, or a label's words."""
        if payload:
            for option in node.options:
                if payload == f"{run.state.flow}.{node.id}:{option.number}":
                    return option
        number = choice_number(text) if not payload else choice_number(payload)
        if number is not None:
            return next((o for o in node.options if o.number == number), None)
        return best_match(text, self.table(run, node), fuzzy=fuzzy)

    def table(self, run: Run, node: Menu) -> MatchTable:
        """The options' words in the person's language, normalized once per menu and language."""
        entries = [(o.label, o.synonyms, o) for o in node.options]
        return self.engine.word_table(run, node.id, entries)

    def show(self, run: Run, node: Menu, prompt: str | None = None) -> None:
        """Say a menu: its text, numbered options and footer, in the person's language.

        A menu whose texts name no variable reads the same every time it is shown in a
        language, so its reply is made once per (flow, menu, language) and kept: menus are
        most of what the service sends, and building one (translations, numbers, bidi
        marks) was a fifth of the engine's time per message. Its texts are still looked up
        each time: a translator counts the texts it had to send untranslated, and staff
        translate the most sent first. `prompt` replaces the menu's text (asked again).
        """
        engine = self.engine
        st = run.state
        lang = st.lang or engine.settings.default_language
        key = (st.flow or "", node.id, lang)
        kept = self.shown.get(key) if prompt is None else None
        if kept is not None:
            reply, msgids = kept
            for msgid in msgids:
                engine.tr.gettext(lang, msgid)
            run.replies.append(reply)
            return
        footer = engine.footer(run)
        labels = [engine.text(run, o.label) for o in node.options]
        lines = [
            f"{engine.number(run, o.number)}. {label}"
            for o, label in zip(node.options, labels, strict=True)
        ]
        options = tuple(
            (f"{st.flow}.{node.id}:{o.number}", label)
            for o, label in zip(node.options, labels, strict=True)
        )
        said = len(run.replies)
        text = engine.text(run, node.text) if prompt is None else prompt
        engine.say(run, text, lines=lines, options=options, footer=footer)
        texts = [t for t in (node.text, *(o.label for o in node.options)) if t is not None]
        if footer:
            texts.append(engine.flows.system["menu_footer"])
        if len(run.replies) > said and prompt is None and not any(t.names for t in texts):
            self.shown[key] = (run.replies[-1], tuple(t.msgid for t in texts))
