"""Running a `question` node (bot/flow/nodes/question.py): ask, check, save, or ask again.

An answer is checked against the question's `expect` (text, number, yes_no, choice,
country); a wrong one is asked again up to `max_retries` times, then the flow goes to
`on_fail` (or the main menu).
"""

from __future__ import annotations

import re

from bot.core.nodes.base import Runner, runs
from bot.core.turn import Run
from bot.flow.model import Target
from bot.flow.nodes import Question
from bot.text.matching import ascii_digits, best_match, choice_number

MAX_SAVED_TEXT = 200
"""Free-text answers are kept to this many characters: we store as little as we can."""


@runs(Question)
class QuestionRunner(Runner):
    """Asks, then saves a valid answer or asks again."""

    def enter(self, run: Run, node: Question) -> Target | None:
        engine = self.engine
        st = run.state
        st.node = node.id
        st.retries = 0
        engine.say(
            run,
            engine.text(run, node.text),
            lines=self.lines(run, node),
            options=self.options(run, node),
            footer=engine.footer(run),
        )
        return None

    def answer(self, run: Run, node: Question, text: str, payload: str | None) -> None:
        engine = self.engine
        st = run.state
        # Through the engine: its parse_answer is a seam tests use to see the answers given.
        value = engine.parse_answer(run, node, text, payload)
        if value is not None:
            st.vars[node.save_as] = value
            st.retries = 0
            engine.follow(run, node.next)
            return
        if engine.start_keyword(run, text):
            st.retries = 0
            return
        st.retries += 1
        if st.retries > node.max_retries:
            st.retries = 0
            if node.on_fail:  # the flow says what to do; its next node does the talking
                engine.follow(run, node.on_fail)
            else:
                engine.say(run, engine.system(run, "too_many_retries"))
                engine.goto_main(run)
            return
        retry = engine.text(run, node.retry)
        if not retry:
            retry = engine.system(run, "invalid_answer") + "\n" + engine.text(run, node.text)
        lines, options = self.lines(run, node), self.options(run, node)
        engine.say(run, retry, lines=lines, options=options, footer=engine.footer(run))

    def parse(self, run: Run, node: Question, text: str, payload: str | None) -> str | None:
        """The value to save for a reply, or None when it is not an answer of that kind."""
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
            return best_match(text, self.engine.yes_no_table)
        if node.expect == "choice":
            number = choice_number(payload or text)
            if number is not None:
                return node.choices[number - 1].value if 1 <= number <= len(node.choices) else None
            entries = [(c.label, c.synonyms, c.value) for c in node.choices]
            # The stored value itself ("red") is a valid answer too.
            values = [(c.value, c.value) for c in node.choices]
            return best_match(text, self.engine.word_table(run, node.id, entries, values))
        if node.expect == "country":
            return best_match(text, self.engine.country_table)
        return None  # pragma: no cover - the loader accepts only known kinds

    def lines(self, run: Run, node: Question) -> list[str]:
        """The numbered choices under the question, as SMS shows them."""
        engine = self.engine
        return [
            f"{engine.number(run, i)}. {engine.text(run, c.label)}"
            for i, c in enumerate(node.choices, 1)
        ]

    def options(self, run: Run, node: Question) -> tuple[tuple[str, str], ...]:
        """The choices as WhatsApp buttons; a yes/no question is answered in words."""
        if node.expect == "yes_no":
            return ()
        engine = self.engine
        return tuple((str(i), engine.text(run, c.label)) for i, c in enumerate(node.choices, 1))
