"""`_config.yaml` (settings, global commands, system texts, data lists) and `_staff.yaml`.

The staff file holds what the facts brief does not give (desk addresses, opening hours of
a given NGO, a WhatsApp number). Values still marked `TODO` are reported as warnings so
that a deployment knows what is left to fill in, and are never sent as if they were facts:
people read a bracketed placeholder (`placeholder`), and production refuses to start.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import MappingProxyType

from bot.flow.model import DAYS, Command, Hours, Settings, Text
from bot.flow.problems import Collector, did_you_mean
from bot.flow.yamlpos import YDict, YList, load
from bot.text.durations import parse_duration

COMMANDS = ("MENU", "BACK", "LANG", "HELP", "STOP", "START", "FORGET")

SYSTEM_TEXTS = {
    "welcome_back": "sent before the main menu when someone comes back after a long pause",
    "not_understood": "sent before the options again when a reply matches none of them",
    "invalid_answer": "sent when an answer is not of the kind asked and no retry text is set",
    "too_many_retries": "sent when someone gave too many unusable answers to a question",
    "menu_footer": "the last line of every menu outside the main flow",
    "language_prompt": "the question above the language menu",
    "language_set": "confirms the new language",
    "language_guess": "first line of the first reply: the language chosen, how to change it",
    "stopped": "confirms STOP",
    "started": "confirms START",
    "forget_confirm": "asks to confirm FORGET",
    "forgotten": "confirms that everything was erased",
    "forget_cancelled": "sent when FORGET was not confirmed",
    "loop_guard": "sent when a flow would send too many messages without a reply",
    "yes_words": "comma-separated words that mean yes",
    "no_words": "comma-separated words that mean no",
    "unavailable": "sent when the service has a technical problem",
    "busy": "sent when two messages arrive at once and one must be sent again",
    "media_only": "sent when a message has a picture or voice note but no text",
    "rate_limited": "sent once to someone who sends more messages than the rate limit allows",
}

OPTIONAL_SYSTEM_TEXTS = {
    "topics_suggest": "the line above a short list of screens that may answer a question",
    "not_understood_counsellor": "added when a question in free text matched no screen",
}
"""System texts a flow set may leave out (the engine then sends none)."""

SETTINGS = {
    "default_language": "the language used before the person chooses one",
    "languages": "the languages offered in the language menu",
    "main_flow": "the flow of the main menu",
    "help_flow": "the flow HELP starts (optional)",
    "session_timeout": "after this pause (e.g. 24h) the conversation restarts at the main menu",
    "max_messages_per_turn": "loop guard: most messages sent for one inbound message",
    "max_segments": "warn about texts longer than this many SMS segments",
    "numbering_system": "per language, the digits used in replies (e.g. fa: arabext)",
    "required_languages": "languages that must be fully translated (default: all); the others "
    "may have texts pending, shown in the default language until translated",
}

_TODO = re.compile(r"TODO|<[^>]*>|\bXXX\b")


def _settings(data: YDict | None, out: Collector) -> Settings:
    if data is None:
        return Settings()
    if not isinstance(data, YDict):
        out.error((1, 1), '"settings" must be a block of fields')
        return Settings()
    values: dict = {}
    for key, value in data.items():
        pos = data.val_pos[key]
        if key not in SETTINGS:
            out.error(data.key_pos[key], f'unknown setting "{key}"{did_you_mean(key, SETTINGS)}')
        elif key in ("languages", "required_languages"):
            if not isinstance(value, YList) or (key == "languages" and not value):
                out.error(pos, f'"{key}" must be a list of language codes such as [en, fr]')
            else:
                values[key] = tuple(str(v) for v in value)
        elif key == "session_timeout":
            seconds = parse_duration(str(value))
            if seconds is None:
                out.error(pos, f'"session_timeout" must look like 30m, 12h or 2d, not "{value}"')
            else:
                values[key] = seconds
        elif key in ("max_messages_per_turn", "max_segments"):
            try:
                values[key] = int(str(value))
            except ValueError:
                out.error(pos, f'"{key}" must be a whole number, not "{value}"')
        elif key == "numbering_system":
            if not isinstance(value, YDict):
                out.error(pos, '"numbering_system" must map languages to systems, e.g. fa: arabext')
            else:
                values[key] = MappingProxyType({k: str(v) for k, v in value.items()})
        else:
            values[key] = str(value)
    settings = Settings(**values)
    if settings.default_language not in settings.languages:
        out.error(
            data.at("default_language"),
            f'the default language "{settings.default_language}" is not in "languages"',
        )
    for lang in settings.required_languages or ():
        if lang not in settings.languages:
            out.error(
                data.at("required_languages"),
                f'required language "{lang}" is not in "languages"'
                f"{did_you_mean(lang, settings.languages)}",
            )
    return settings


def _texts(data, section: str, known: dict, out: Collector, where: str) -> dict[str, Text]:
    texts: dict[str, Text] = {}
    if data is None:
        data = YDict()
    if not isinstance(data, YDict):
        out.error((1, 1), f'"{section}" must be a block of fields')
        return texts
    for key, value in data.items():
        if key not in known:
            out.error(
                data.key_pos[key], f'unknown {section} entry "{key}"{did_you_mean(key, known)}'
            )
            continue
        if not isinstance(value, str) or not value.strip():
            out.error(data.val_pos[key], f'"{key}" must be a text')
            continue
        line, col = data.val_pos[key]
        texts[key] = Text(value.strip(), line, col, f"{where}/{key}")
    for key in known:
        if key not in texts and key in SYSTEM_TEXTS.keys() | set(COMMANDS):
            out.error(data.pos, f'"{section}" is missing "{key}" ({known[key]})')
    return texts


def parse_config(data, out: Collector):
    """Settings, commands, system texts and lists from the parsed `_config.yaml`."""
    if not isinstance(data, YDict):
        out.error((1, 1), "_config.yaml must be a block with settings, commands, system, lists")
        data = YDict()
    for key in data:
        if key not in ("settings", "commands", "system", "lists"):
            out.error(data.key_pos[key], f'unknown section "{key}" in _config.yaml')
    settings = _settings(data.get("settings"), out)
    commands_doc = {c: f"words for {c}" for c in COMMANDS}
    words = _texts(data.get("commands"), "commands", commands_doc, out, "_config/commands")
    commands = {name: Command(name, text) for name, text in words.items()}
    known = {**SYSTEM_TEXTS, **OPTIONAL_SYSTEM_TEXTS}
    system = _texts(data.get("system"), "system", known, out, "_config/system")
    lists: dict[str, tuple[str, ...]] = {}
    raw_lists = data.get("lists") or YDict()
    if isinstance(raw_lists, YDict):
        for key, value in raw_lists.items():
            if not isinstance(value, YList):
                out.error(raw_lists.val_pos[key], f'list "{key}" must be a list of values')
                continue
            lists[key] = tuple(str(v) for v in value if v is not None)
    return settings, commands, system, lists


_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})$")


def _minutes(text: str) -> int | None:
    match = _TIME.match(text.strip())
    if not match or int(match[1]) > 24 or int(match[2]) > 59:
        return None
    return int(match[1]) * 60 + int(match[2])


def parse_hours(value: YDict, out: Collector, key: str) -> Hours | None:
    """`days: mon-thu` (or [mon, wed]) and `hours: "9:00-12:00, 13:30-16:00"` as `Hours`."""
    for field_name in value:
        if field_name not in ("days", "hours"):
            out.error(
                value.key_pos[field_name], f'"{key}": opening hours have only "days" and "hours"'
            )
            return None
    raw_days = value.get("days")
    words = (
        [str(d) for d in raw_days]
        if isinstance(raw_days, YList)
        else str(raw_days or "").split(",")
    )
    days: set[int] = set()
    for word in (w.strip().lower() for w in words):
        first, _, last = word.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            out.error(
                value.at("days"), f'"{key}": days are {", ".join(DAYS)}, or a range such as mon-thu'
            )
            return None
        start, end = DAYS.index(first), DAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else ())
    ranges = []
    for part in str(value.get("hours") or "").split(","):
        start_text, _, end_text = part.partition("-")
        start, end = _minutes(start_text), _minutes(end_text)
        if start is None or end is None or start >= end:
            out.error(value.at("hours"), f'"{key}": hours look like "9:00-12:00, 13:30-16:00"')
            return None
        ranges.append((start, end))
    return Hours(tuple(sorted(days)), tuple(ranges))


def parse_staff(
    data, out: Collector, structured: dict[str, object] | None = None, languages=()
) -> dict[str, str]:
    """Staff values usable as `{name}` in every text; unfilled values are warned about.

    A value may also be opening hours (`days:` and `hours:`, written out per language) or
    one text per language (`en:`, `fr:`..., the default language required; `languages`
    starts with it); those go to
    `structured`, and the returned text is their default form.
    """
    staff: dict[str, str] = {}
    if data is None:
        return staff
    if not isinstance(data, YDict):
        out.error((1, 1), "_staff.yaml must be a block of `name: value` lines")
        return staff
    for key, value in data.items():
        pos = data.val_pos[key]
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", key):
            out.error(data.key_pos[key], f'"{key}": names must be lowercase words joined by _')
            continue
        if isinstance(value, YDict) and "days" in value:
            hours = parse_hours(value, out, key)
            staff[key] = ""  # defined even when broken: no follow-on "unknown placeholder"
            if hours is not None:
                staff[key] = hours.english()
                if structured is not None:
                    structured[key] = hours
            continue
        if isinstance(value, YDict) and languages and set(value) <= set(languages):
            variants = {lang: str(text or "").strip() for lang, text in value.items()}
            first = variants.get(languages[0], "")
            variants = {
                lang: placeholder(key) if is_unfilled(text) else text
                for lang, text in variants.items()
            }
            if languages[0] not in variants:
                out.error(pos, f'"{key}": give the text in {languages[0]} first, the others after')
            staff[key] = placeholder(key) if is_unfilled(first) else first
            if structured is not None:
                structured[key] = MappingProxyType(variants)
            if not first or _TODO.search(first):
                out.warn(
                    pos, f'"{key}" is not filled in yet ({first or "empty"}): staff must set it'
                )
            continue
        if isinstance(value, YDict | YList):
            out.error(
                pos,
                f'"{key}" must be a text, opening hours (days: and hours:) or one text per '
                f"language ({', '.join(languages)})",
            )
            continue
        text = "" if value is None else str(value).strip()
        if not text or _TODO.search(text):
            out.warn(pos, f'"{key}" is not filled in yet ({text or "empty"}): staff must set it')
            text = placeholder(key)
        staff[key] = text
    return staff


def placeholder(key: str) -> str:
    """What people read for a staff value not filled in yet: `[organisation name]`.

    Short, plainly a gap, and the sentence around it still reads ("[organisation name]
    runs this line"), where the TODO note to staff read as part of the sentence. Production
    refuses to start with any (`unfilled_staff`).
    """
    return f"[{key.replace('_', ' ')}]"


_PLACEHOLDER = re.compile(r"\[[a-z0-9 ]+\]")


def is_unfilled(value: str) -> bool:
    """True when a staff value is still a placeholder (a TODO note, or `[its name]`)."""
    return not value or bool(_TODO.search(value)) or bool(_PLACEHOLDER.fullmatch(value))


def unfilled_staff(path: Path) -> list[str]:
    """Each value of the staff file `path` still a placeholder, as `file:line:col: name:
    what to put there` (production refuses to start with any: bot.core.runtime).

    What to put there is the value's own TODO note, else the comment right above its name.
    """
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    data = load(text, Collector(str(path)))
    if not isinstance(data, YDict):
        return []
    lines = text.splitlines()
    found = []
    for key, value in data.items():
        values = value.values() if isinstance(value, YDict) and "days" not in value else [value]
        if isinstance(value, YDict) and "days" in value:
            continue  # opening hours: the loader checks them
        if not any(is_unfilled(str(v or "").strip()) for v in values):
            continue
        line, col = data.val_pos[key]
        above = lines[data.key_pos[key][0] - 2].strip() if data.key_pos[key][0] > 1 else ""
        comment = above.lstrip("# ").strip() if above.startswith("#") else ""
        note = str(value or "").strip() if not isinstance(value, YDict) else ""
        note = note.removeprefix("TODO:").strip() if "TODO" in note else ""
        what = note or comment or "its value"
        found.append(f"{_shown(path)}:{line}:{col}: {key}: {what}")
    return found


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
