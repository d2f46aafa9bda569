"""Flow files an editor uploads to check and try, never published.

The upload is checked with the real validator against a copy of the live flows, with the
uploaded file in place of (or beside) the file of the same name: every problem comes back
as `file:line:col`. A file without errors is kept in Redis for `DRAFT_TTL` and can be tried
in the console's draft simulator, which runs the engine directly on that copy; the live
flows on disk are never touched.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import redis

from bot.core.engine import Inbound
from bot.core.runtime import Runtime
from bot.core.state import State
from bot.flow.loader import read_flows
from bot.flow.problems import Problem
from bot.store import keys

DRAFT_TTL = 3600
"""Seconds an uploaded draft (and the editor's test conversation with it) is kept."""
MAX_DRAFT_BYTES = 256 * 1024
"""Largest flow file that may be uploaded."""
_FILE = re.compile(r"^[a-z0-9_-]{1,40}\.ya?ml$")


class DraftError(ValueError):
    """The upload is not a flow file that can be checked."""


def check_filename(name: str) -> str:
    """The file's name if it is a plain flow file name (`eligibility.yaml`)."""
    name = Path(name or "").name.lower()
    if not _FILE.match(name) or name.startswith("_"):
        raise DraftError(
            "upload one flow file named like eligibility.yaml (letters, digits, - and _)"
        )
    return name


def _with_draft(flows_dir: Path, name: str, text: str, into: Path) -> Path:
    folder = into / "flows"
    shutil.copytree(flows_dir, folder, ignore=shutil.ignore_patterns("transcripts"))
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def check(flows_dir: Path, name: str, text: str) -> list[Problem]:
    """Every problem of the live flows with this file in place; paths name the upload."""
    with tempfile.TemporaryDirectory(prefix="bot-draft-") as tmp:
        folder = _with_draft(flows_dir, name, text, Path(tmp))
        _flowset, problems = read_flows(folder)
        prefix = str(folder)
    out = []
    for p in problems:
        path = p.path.replace(prefix + "/", "").replace(prefix, "")
        out.append(Problem(path, p.line, p.col, p.severity, p.message))
    return out


def save(client: redis.Redis, name: str, text: str) -> str:
    """Keep a checked draft for DRAFT_TTL; returns its id."""
    draft_id = secrets.token_urlsafe(12)
    doc = json.dumps({"name": name, "text": text}, ensure_ascii=False)
    client.set(keys.draft_flow_key(draft_id), doc, ex=DRAFT_TTL)
    return draft_id


def load(client: redis.Redis, draft_id: str) -> tuple[str, str] | None:
    """(file name, text) of a kept draft, or None."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", draft_id or ""):
        return None
    raw = client.get(keys.draft_flow_key(draft_id))
    if raw is None:
        return None
    doc = json.loads(raw)
    return doc["name"], doc["text"]


def transcript(client: redis.Redis, draft_id: str) -> list[tuple[str, str]]:
    """The test conversation so far: ("in" | "out", text) pairs."""
    raw = client.get(keys.draft_state_key(draft_id))
    return [tuple(x) for x in json.loads(raw)["log"]] if raw else []


def step(
    client: redis.Redis,
    flows_dir: Path,
    locales_dir: Path,
    service: dict[str, str],
    draft_id: str,
    body: str,
    channel: str,
    lang: str | None,
    now: int,
) -> list[str]:
    """One message of the editor's test conversation with the draft; returns the replies."""
    found = load(client, draft_id)
    if found is None:
        raise DraftError("this draft has expired; upload the file again")
    name, text = found
    raw = client.get(keys.draft_state_key(draft_id))
    doc = json.loads(raw) if raw else {"state": None, "log": []}
    with tempfile.TemporaryDirectory(prefix="bot-draft-") as tmp:
        folder = _with_draft(flows_dir, name, text, Path(tmp))
        runtime = Runtime.load(folder, locales_dir, service)
    state = State.from_json(doc["state"]) if doc["state"] else None
    turn = runtime.engine.step(state, Inbound(body, channel=channel, lang_hint=lang), now)
    replies = turn.texts
    doc["state"] = turn.state.to_json()
    doc["log"] = [*doc["log"], ("in", body), *(("out", r) for r in replies)][-200:]
    client.set(keys.draft_state_key(draft_id), json.dumps(doc, ensure_ascii=False), ex=DRAFT_TTL)
    return replies
