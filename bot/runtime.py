"""What a process needs to answer messages: validated flows, catalogs and an engine.

The web app, the worker and `bot chat` all build their engine here, so they behave the
same. `Runtime.reload` swaps in a new engine only when the new flows validate: a broken
edit keeps the working set running and reports its problems.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.engine import Engine, PlainTranslator
from bot.flow import FlowError, FlowSet, Problem, read_flows

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FLOWS = ROOT / "flows"
DEFAULT_LOCALES = ROOT / "locales"


def default_flows_dir() -> Path:
    """`BOT_FLOWS_DIR`, or the `flows/` folder of this checkout."""
    return Path(os.environ.get("BOT_FLOWS_DIR") or DEFAULT_FLOWS)


def default_locales_dir() -> Path:
    """`BOT_LOCALES_DIR`, or the `locales/` folder of this checkout."""
    return Path(os.environ.get("BOT_LOCALES_DIR") or DEFAULT_LOCALES)


def make_translator(flows: FlowSet, locales_dir: Path | None):
    """The catalog translator when bot.i18n is available, else plain English."""
    try:
        from bot.i18n.translator import CatalogTranslator
    except ImportError:  # pragma: no cover - only while the i18n package is absent
        return PlainTranslator()
    return CatalogTranslator(
        locales_dir or default_locales_dir(),
        flows.settings.languages,
        default_language=flows.settings.default_language,
        numbering_system=flows.settings.numbering_system,
    )


@dataclass
class Runtime:
    """The current engine and where it came from."""

    engine: Engine
    flows_dir: Path
    locales_dir: Path
    warnings: list[Problem]

    @classmethod
    def load(cls, flows_dir: str | Path | None = None, locales_dir: str | Path | None = None):
        """Load flows and catalogs; raises FlowError with every problem when flows are broken."""
        fdir = Path(flows_dir) if flows_dir else default_flows_dir()
        ldir = Path(locales_dir) if locales_dir else default_locales_dir()
        flowset, problems = read_flows(fdir)
        if flowset is None:
            raise FlowError(problems)
        engine = Engine(flowset, make_translator(flowset, ldir))
        return cls(engine, fdir, ldir, problems)

    def reload(self) -> list[Problem]:
        """Swap in freshly loaded flows if they validate; return the problems found."""
        with _reload_lock:
            flowset, problems = read_flows(self.flows_dir)
            if flowset is None:
                return problems
            self.engine = Engine(flowset, make_translator(flowset, self.locales_dir))
            self.warnings = problems
            return problems


_reload_lock = threading.Lock()
