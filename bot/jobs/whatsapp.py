"""The WhatsApp template map: the file of Content SIDs, and creating templates at Twilio.

bot.channels.whatsapp makes the template definitions from the flows (pure); here they are
created through Twilio's Content API (`bot whatsapp templates --create`) and their
`friendly_name -> content_sid` map is kept in a JSON file that the web app reads.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.settings import Settings

MAP_FILE = "whatsapp_templates.json"
"""Name of the friendly_name -> content_sid map under BOT_VAR_DIR (var/)."""


def default_map_path(settings: Settings) -> Path:
    """BOT_WHATSAPP_TEMPLATES, or `BOT_VAR_DIR` (var/ of the checkout) / MAP_FILE."""
    return Path(settings.whatsapp_templates or settings.var_path / MAP_FILE)


RECHECK_SECONDS = 1.0
"""How often a process looks whether the map file changed (a `stat` on every WhatsApp
message cost more than the rest of choosing its template)."""
_cache: dict[str, tuple[float, float | None, dict[str, str]]] = {}
"""path -> (when looked at, the file's mtime or None when missing, the map)."""


def load_map(path: str | Path) -> Mapping[str, str]:
    """The stored map, re-read when the file changes; empty when there is no file yet.

    Another process (`bot whatsapp templates --create`) may write the file: its change is
    seen within RECHECK_SECONDS; `save_map` in this process is seen at once.
    """
    name = str(path)
    now = time.monotonic()
    cached = _cache.get(name)
    if cached and now - cached[0] < RECHECK_SECONDS:
        return cached[2]
    try:
        mtime: float | None = os.stat(name).st_mtime
    except OSError:
        mtime = None
    if cached and cached[1] == mtime:
        _cache[name] = (now, mtime, cached[2])
        return cached[2]
    mapping: dict[str, str] = {}
    if mtime is not None:
        try:
            doc = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if isinstance(doc, dict):
            mapping = {str(k): str(v) for k, v in doc.items()}
    _cache[name] = (now, mtime, mapping)
    return mapping


def save_map(path: str | Path, mapping: Mapping[str, str]) -> None:
    """Write the map atomically (a reader never sees half a file)."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_suffix(".tmp")
    text = json.dumps(dict(sorted(mapping.items())), indent=2, ensure_ascii=False) + "\n"
    partial.write_text(text, encoding="utf-8")
    partial.replace(file)
    _cache.pop(str(path), None)


def create(client, docs: Sequence[Mapping[str, Any]], path: str | Path) -> tuple[int, int]:
    """Create the templates not in the map yet; return (created, already there).

    Each new content_sid is saved at once, so an interrupted run is resumed, not repeated.
    """
    from twilio.rest.content.v1.content import ContentList

    mapping = dict(load_map(path))
    created = 0
    for doc in docs:
        name = doc["friendly_name"]
        if name in mapping:
            continue
        content = client.content.v1.contents.create(ContentList.ContentCreateRequest(dict(doc)))
        mapping[name] = content.sid
        save_map(path, mapping)
        created += 1
    return created, len(docs) - created
