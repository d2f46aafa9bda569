"""The Babel extractor for flow YAML: `pybabel extract -F babel.cfg` pulls every flow text.

Registered as the `bot_flows` entry point of `babel.extractors` (pyproject.toml), so it works
like Babel's own Python extractor. It parses one file with the flow loader's own per-file
parser, so the catalog holds exactly the texts the engine will ask for, each at its YAML line,
with its address (`flow/node/field`) and a hint for translators as an extracted comment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bot.flow.config import SYSTEM_TEXTS, parse_config
from bot.flow.loader import CONFIG_FILE, parse_flow_text
from bot.flow.model import Text
from bot.flow.problems import ERROR, Collector
from bot.flow.yamlpos import load

WORD_LIST_NOTE = (
    "Comma-separated words that people type. Do not translate word by word: give the words "
    "people of your language would send for this, separated by commas. A word must not mean "
    "something else in another language of the service."
)
TOPICS_NOTE = (
    "Topic words: the words and short phrases people of your language use when they ask "
    "about what this screen answers (including common misspellings and Latin-script "
    "spellings). Comma-separated. A question that contains every word of one phrase is "
    "answered with this screen, so avoid words that say nothing on their own (go, want, help)."
)
PLACEHOLDER_NOTE = "Keep {names} exactly as written: the service fills them in."
STAFF_NOTE = (
    "Staff-written (source: staff): this answer is not taken from the facts brief. "
    "Translate it as written, and ask staff when anything is unclear."
)
"""The comment above every text of a node marked `source: staff`; review sheets flag it."""


def _is_word_list(text: Text) -> bool:
    where = text.where
    return (
        where.startswith("_config/commands/")
        or where in ("_config/system/yes_words", "_config/system/no_words")
        or where.endswith("/synonyms")
        or where.endswith("/topics")
    )


def comments_for(text: Text, staff: bool = False) -> list[str]:
    """The extracted comments translators see above a text: where it is and how to treat it."""
    comments = [text.where]
    if staff:
        comments.append(STAFF_NOTE)
    key = text.where.rpartition("/")[2]
    if text.where.startswith("_config/system/") and key in SYSTEM_TEXTS:
        comments.append(f"System text: {SYSTEM_TEXTS[key]}.")
    elif text.where.startswith("_config/commands/"):
        comments.append(f"Words for the {key} command, which works at any point.")
    if text.where.endswith("/topics"):
        comments.append(TOPICS_NOTE)
    elif _is_word_list(text):
        comments.append(WORD_LIST_NOTE)
    if text.names:
        names = ", ".join(f"%({name})s" for name in text.names)
        comments.append(PLACEHOLDER_NOTE.format(names=names))
    return comments


def texts_of_file(name: str, source: str) -> list[Text]:
    """Every translatable text of one flow file (or of `_config.yaml`), in file order.

    Raises ValueError listing the file's errors, so that extraction never silently drops
    the texts of a broken flow.
    """
    path = Path(name)
    out = Collector(name)
    texts: list[Text] = []
    if path.name == CONFIG_FILE:
        _settings, commands, system, _lists = parse_config(load(source, out), out)
        texts = [*system.values(), *(c.words for c in commands.values())]
    elif path.name.startswith("_"):
        return []  # _staff.yaml and other data files: staff values are not translated
    else:
        flow, problems = parse_flow_text(path.stem, name, source)
        out.problems += problems
        if flow is not None:
            for node in flow.nodes.values():
                texts.extend(node.texts())
    errors = [str(p) for p in out.problems if p.severity == ERROR]
    if errors:
        raise ValueError(
            "cannot extract texts from a broken flow (run `bot flows validate`):\n"
            + "\n".join(errors)
        )
    return texts


def extract_flows(
    fileobj: IO[bytes], keywords, comment_tags, options
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor: yield (line, None, msgid, comments) for every text of a flow file."""
    name = getattr(fileobj, "name", None) or (options or {}).get("filename", "flow.yaml")
    raw = fileobj.read()
    source = raw.decode((options or {}).get("encoding", "utf-8")) if isinstance(raw, bytes) else raw
    marked = staff_nodes(str(name), source)
    for text in texts_of_file(str(name), source):
        node = text.where.split("/")[1] if text.where.count("/") >= 2 else ""
        yield text.line, None, text.msgid, comments_for(text, node in marked)


def staff_nodes(name: str, source: str) -> set[str]:
    """The ids of the nodes of a flow file marked `source: staff`."""
    if Path(name).name.startswith("_"):
        return set()
    data = load(source, Collector(name))
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return {
        str(node.get("id"))
        for node in nodes or []
        if isinstance(node, dict) and node.get("source") == "staff"
    }
