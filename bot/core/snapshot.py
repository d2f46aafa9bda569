"""The last flows that validated, kept in the var directory, so a broken edit is no outage.

A process that starts (a gunicorn worker re-forked after a kill, `max_requests` or SIGHUP;
`bot run` after a restart) while the flows on disk have errors serves this copy instead of
refusing to start, and says so. The copy is one JSON file per flow folder (named by a
digest of the folder's absolute path, so two checkouts or test folders never share one),
written atomically (temporary file, then rename), and unpacked into a folder beside it to
be read like any flow folder. Only the top-level YAML files of a flow folder are kept:
transcripts are for tests, not for answering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

FOLDER = "flows-last-good"
"""Name of the folder under BOT_VAR_DIR that holds the snapshots."""


@dataclass(frozen=True)
class Snapshot:
    """Where a flow folder's last good copy lives, and what it holds."""

    root: Path
    source: Path

    @classmethod
    def for_folder(cls, var_dir: str | Path, flows_dir: str | Path) -> Snapshot:
        """The snapshot of `flows_dir` under `var_dir`/flows-last-good/."""
        source = Path(flows_dir).resolve()
        return cls(Path(var_dir) / FOLDER, source)

    @property
    def name(self) -> str:
        """The digest that names this folder's snapshot (no path in a file name)."""
        return hashlib.sha256(str(self.source).encode()).hexdigest()[:16]

    @property
    def file(self) -> Path:
        """The JSON file holding the files' texts."""
        return self.root / f"{self.name}.json"

    @property
    def folder(self) -> Path:
        """The folder the texts are unpacked into, to be read like any flow folder."""
        return self.root / self.name

    def save(self, files: dict[str, str]) -> None:
        """Keep `files` (name -> text) as the last good set; atomic, so readers never see half."""
        self.root.mkdir(parents=True, exist_ok=True)
        body = {
            "source": str(self.source),
            "saved": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{self.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, ensure_ascii=False)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def saved_at(self) -> str:
        """When the snapshot was saved (ISO 8601, UTC), or "" when there is none."""
        try:
            return str(json.loads(self.file.read_text(encoding="utf-8")).get("saved", ""))
        except (OSError, ValueError):
            return ""

    def unpack(self) -> Path | None:
        """Write the saved files into `folder` and return it; None when there is no snapshot."""
        try:
            body = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        files = body.get("files") if isinstance(body, dict) else None
        if not isinstance(files, dict) or not files:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.yaml"):
            if old.name not in files:
                old.unlink(missing_ok=True)
        for name, text in files.items():
            if "/" in name or name.startswith("."):
                continue
            path = self.folder / name
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, path)
        return self.folder


def flow_files(flows_dir: str | Path) -> dict[str, str]:
    """The top-level YAML files of a flow folder, name -> text (what a snapshot keeps)."""
    files = {}
    for path in sorted(Path(flows_dir).glob("*.yaml")):
        try:
            files[path.name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return files


def version(files: dict[str, str]) -> str:
    """The flows version of a set of files: what `bot flows reload` publishes and each
    process says it serves (a digest of the texts, 16 hex digits; no path in it)."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def changed_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Names of the files added, removed or edited between two sets, for "what changed"."""
    names = sorted(set(before) | set(after))
    return [n for n in names if before.get(n) != after.get(n)]
